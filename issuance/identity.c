/*
 * identity.c: identity JSON files: parse, validate, serialise, and fill
 * subject-name templates from them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "apdu/text.h"
#include "issuance/identity.h"

enum identity_kind {
	ID_TEXT,	/* UTF-8 without control characters */
	ID_PERSON_ID,	/* 10 digits */
	ID_EMAIL,
	ID_ASCII,	/* printable ASCII */
	ID_BI		/* "pending" or "adjudicated" */
};

static const struct identity_field {
	const char *name;
	enum identity_kind kind;
	bool required;
	size_t max;
	size_t off;
} identity_fields[] = {
#define F(n, k, req, max) { #n, k, req, max, offsetof(struct identity, n) }
	F(given_name, ID_TEXT, true, IDENTITY_NAME_MAX),
	F(middle_name, ID_TEXT, false, IDENTITY_NAME_MAX),
	F(family_name, ID_TEXT, true, IDENTITY_NAME_MAX),
	F(person_id, ID_PERSON_ID, true, IDENTITY_PERSON_ID_LEN),
	F(affiliation, ID_TEXT, true, IDENTITY_AFFIL_MAX),
	F(email, ID_EMAIL, false, IDENTITY_EMAIL_MAX),
	F(upn, ID_EMAIL, false, IDENTITY_EMAIL_MAX),
	F(organization, ID_TEXT, false, IDENTITY_ORG_MAX),
	F(org_affiliation_1, ID_TEXT, false, IDENTITY_AFFIL_MAX),
	F(org_affiliation_2, ID_TEXT, false, IDENTITY_AFFIL_MAX),
	F(agency_card_serial, ID_ASCII, false, IDENTITY_SERIAL_MAX),
	F(background_investigation, ID_BI, false, IDENTITY_BI_MAX),
#undef F
};
#define IDENTITY_N_FIELDS (sizeof(identity_fields) / sizeof(identity_fields[0]))

static const char *
identity_type_name(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double:
	case json_type_int: return "a number";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "something else";
}

/* RFC 5322 atext, the characters a dot-atom local part may use. */
static bool
identity_atext(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/*
 * A deliberately plain address check: dot-atom local part of 1-64
 * characters, '@', a DNS name of at least two labels (letters, digits,
 * inner hyphens, 1-63 each), ASCII only.  Quoted local parts and address
 * literals are refused: they cannot go into every directory and SAN.
 */
static bool
identity_email_ok(const char *s)
{
	const char *at = strchr(s, '@'), *p;
	size_t local, label = 0, labels = 0;

	if (at == NULL || strchr(at + 1, '@') != NULL)
		return false;
	local = (size_t)(at - s);
	if (local == 0 || local > 64 || s[0] == '.' || at[-1] == '.')
		return false;
	for (p = s; p < at; p++) {
		if (*p == '.' ? p[1] == '.' : !identity_atext(*p))
			return false;
	}
	p = at + 1;
	if (strlen(p) > 253 || *p == '\0')
		return false;
	for (; ; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || p[-1] == '-')
				return false;
			labels++;
			label = 0;
			if (*p == '\0')
				break;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
		if (label == 0 && *p == '-')
			return false;
		if (++label > 63)
			return false;
	}
	return labels >= 2;
}

/*
 * Text as a certificate, the card and a terminal can take it: strict
 * UTF-8 (json-c lets overlong forms, surrogates and code points above
 * U+10FFFF through), no control characters (C0, DEL, C1, line separators,
 * bidirectional overrides), no U+FFFD (json-c's stand-in for a lone
 * \uD800 escape: the text was damaged on its way) and no noncharacters.
 */
static enum pv_err
identity_check_text(const struct identity_field *f, const char *v, size_t len,
    const char *source, struct pv_why *why)
{
	struct buf_cur c;
	enum text_utf8_err e;
	size_t off = 0, bad = 0, i, at;
	uint32_t cp;
	char hex[3 * 4 + 1];

	if ((e = text_utf8_check(v, len, &off, &bad)) != TEXT_UTF8_OK) {
		for (i = 0; i < bad && i < 4; i++)
			(void)snprintf(hex + (i ? 3 * i - 1 : 0), 4, "%s%02x",
			    i ? " " : "", (unsigned char)v[off + i]);
		return pv_why_set(why, PV_E_INPUT,
		    "%s: %s: not UTF-8 at byte %zu: %s (%s)", source, f->name,
		    off + 1, text_utf8_err_str(e), hex);
	}
	buf_cur_init(&c, v, len);
	while (!buf_done(&c)) {
		at = len - c.len + 1;
		(void)text_utf8_next(&c, &cp, NULL);
		if (text_cp_is_control(cp))
			return pv_why_set(why, PV_E_INPUT,
			    "%s: %s: control character U+%04X at byte %zu",
			    source, f->name, (unsigned)cp, at);
		if (cp == 0xfffd)
			return pv_why_set(why, PV_E_INPUT,
			    "%s: %s: U+FFFD at byte %zu: a replacement "
			    "character (damaged text, or a lone \\u surrogate "
			    "escape)", source, f->name, at);
		if (text_cp_is_noncharacter(cp))
			return pv_why_set(why, PV_E_INPUT,
			    "%s: %s: U+%04X at byte %zu: a noncharacter",
			    source, f->name, (unsigned)cp, at);
		if (cp > 0x7e && f->kind != ID_TEXT)
			return pv_why_set(why, PV_E_INPUT,
			    "%s: %s: only ASCII is allowed here", source,
			    f->name);
	}
	return PV_OK;
}

static enum pv_err
identity_check_field(const struct identity_field *f, const char *v,
    size_t len, const char *source, struct pv_why *why)
{
	size_t i;
	enum pv_err r;

	if (f->kind == ID_BI) {
		if ((len == 7 && memcmp(v, "pending", 7) == 0) ||
		    (len == 11 && memcmp(v, "adjudicated", 11) == 0))
			return PV_OK;
		return pv_why_set(why, PV_E_INPUT, "%s: %s: expected "
		    "\"pending\" or \"adjudicated\", got '%.20s'", source,
		    f->name, v);
	}
	if (f->kind == ID_PERSON_ID) {
		for (i = 0; i < len; i++)
			if (v[i] < '0' || v[i] > '9')
				return pv_why_set(why, PV_E_INPUT,
				    "%s: %s: expected %d digits, got '%.20s'",
				    source, f->name, IDENTITY_PERSON_ID_LEN, v);
		if (len != IDENTITY_PERSON_ID_LEN)
			return pv_why_set(why, PV_E_INPUT,
			    "%s: %s: expected %d digits, got %zu", source,
			    f->name, IDENTITY_PERSON_ID_LEN, len);
		return PV_OK;
	}
	if (len > f->max)
		return pv_why_set(why, PV_E_INPUT,
		    "%s: %s: %zu bytes, at most %zu", source, f->name, len,
		    f->max);
	if ((r = identity_check_text(f, v, len, source, why)) != PV_OK)
		return r;
	if (v[0] == ' ' || v[len - 1] == ' ')
		return pv_why_set(why, PV_E_INPUT,
		    "%s: %s: leading or trailing spaces", source, f->name);
	if (f->kind == ID_EMAIL && !identity_email_ok(v))
		return pv_why_set(why, PV_E_INPUT, "%s: %s: not an address",
		    source, f->name);
	return PV_OK;
}

/*
 * Counts the keys of the top-level object as written.  json-c keeps the
 * last of duplicate keys silently; a count larger than the parsed
 * object's means a key was given twice.  Escapes make the raw text of two
 * equal keys differ, so keys are counted rather than compared.
 */
static size_t
identity_raw_key_count(const char *s, size_t len)
{
	size_t i, count = 0;
	int depth = 0;
	bool in_str = false, esc = false, expect_key = false;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		switch (c) {
		case '"':
			if (depth == 1 && expect_key) {
				count++;
				expect_key = false;
			}
			in_str = true;
			break;
		case '{':
		case '[':
			depth++;
			expect_key = depth == 1 && c == '{';
			break;
		case '}':
		case ']':
			depth--;
			break;
		case ',':
			if (depth == 1)
				expect_key = true;
			break;
		default:
			break;
		}
	}
	return count;
}

enum pv_err
identity_parse(const char *json, size_t len, const char *source,
    struct identity *out, struct pv_why *why)
{
	struct json_tokener *tok = NULL;
	json_object *root = NULL, *v;
	const char *z;
	size_t i;
	char printed[IDENTITY_NAME_MAX * 3 + 8];
	enum pv_err r = PV_E_INPUT;

	memset(out, 0, sizeof(*out));
	if (source == NULL)
		source = "identity";
	if (len > IDENTITY_FILE_MAX) {
		r = pv_why_set(why, PV_E_TOO_LONG,
		    "%s: larger than %d bytes", source, IDENTITY_FILE_MAX);
		goto out;
	}
	if ((z = memchr(json, '\0', len)) != NULL) {
		r = pv_why_set(why, PV_E_INPUT, "%s: NUL byte at offset %zu",
		    source, (size_t)(z - json));
		goto out;
	}
	if ((tok = json_tokener_new_ex(8)) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, json, (int)len);
	if (root == NULL) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		if (e == json_tokener_continue || len == 0)
			r = pv_why_set(why, PV_E_INPUT,
			    "%s: not valid JSON: unexpected end of input",
			    source);
		else
			r = pv_why_set(why, PV_E_INPUT,
			    "%s: not valid JSON at byte %zu: %s", source,
			    json_tokener_get_parse_end(tok),
			    json_tokener_error_desc(e));
		goto out;
	}
	/* Strict mode still stops after the value: only blanks may follow. */
	for (i = json_tokener_get_parse_end(tok); i < len; i++) {
		if (json[i] != ' ' && json[i] != '\t' && json[i] != '\n' &&
		    json[i] != '\r') {
			r = pv_why_set(why, PV_E_INPUT,
			    "%s: not valid JSON at byte %zu: data after the "
			    "object", source, i);
			goto out;
		}
	}
	if (!json_object_is_type(root, json_type_object)) {
		r = pv_why_set(why, PV_E_INPUT,
		    "%s: expected a JSON object, got %s", source,
		    identity_type_name(root));
		goto out;
	}
	if (identity_raw_key_count(json, len) !=
	    (size_t)json_object_object_length(root)) {
		r = pv_why_set(why, PV_E_INPUT, "%s: a field is given twice",
		    source);
		goto out;
	}
	{
		json_object_object_foreach(root, key, val) {
			(void)val;
			for (i = 0; i < IDENTITY_N_FIELDS; i++)
				if (strcmp(key, identity_fields[i].name) == 0)
					break;
			if (i == IDENTITY_N_FIELDS) {
				r = pv_why_set(why, PV_E_INPUT,
				    "%s: %.40s: unknown field", source, key);
				goto out;
			}
		}
	}
	for (i = 0; i < IDENTITY_N_FIELDS; i++) {
		const struct identity_field *f = &identity_fields[i];
		const char *s;
		size_t n;

		if (!json_object_object_get_ex(root, f->name, &v) ||
		    json_object_is_type(v, json_type_null)) {
			if (f->required) {
				r = pv_why_set(why, PV_E_INPUT,
				    "%s: %s: missing", source, f->name);
				goto out;
			}
			continue;
		}
		if (!json_object_is_type(v, json_type_string)) {
			r = pv_why_set(why, PV_E_INPUT,
			    "%s: %s: expected a string, got %s", source,
			    f->name, identity_type_name(v));
			goto out;
		}
		s = json_object_get_string(v);
		n = (size_t)json_object_get_string_len(v);
		if (memchr(s, '\0', n) != NULL) {
			r = pv_why_set(why, PV_E_INPUT,
			    "%s: %s: NUL character", source, f->name);
			goto out;
		}
		if (n == 0) {
			if (f->required) {
				r = pv_why_set(why, PV_E_INPUT,
				    "%s: %s: must not be empty", source,
				    f->name);
				goto out;
			}
			continue;	/* "" = absent */
		}
		if ((r = identity_check_field(f, s, n, source, why)) != PV_OK)
			goto out;
		memcpy((char *)out + f->off, s, n + 1);
	}
	if (identity_printed_name(out, printed, IDENTITY_NAME_MAX + 1) !=
	    PV_OK) {
		(void)identity_printed_name(out, printed, sizeof(printed));
		r = pv_why_set(why, PV_E_INPUT,
		    "%s: name: the printed name \"%.40s...\" is %zu bytes; the "
		    "card holds %d", source, printed, strlen(printed),
		    IDENTITY_NAME_MAX);
		goto out;
	}
	r = PV_OK;
out:
	if (r != PV_OK)
		memset(out, 0, sizeof(*out));
	json_object_put(root);
	if (tok != NULL)
		json_tokener_free(tok);
	return r;
}

bool
identity_field_known(const char *name, bool *required)
{
	size_t i;

	for (i = 0; i < IDENTITY_N_FIELDS; i++)
		if (strcmp(name, identity_fields[i].name) == 0) {
			if (required != NULL)
				*required = identity_fields[i].required;
			return true;
		}
	return false;
}

enum pv_err
identity_from_fields(const char *const *names, const char *const *values,
    const size_t *lens, size_t n, const char *source, struct identity *out,
    struct pv_why *why)
{
	const char *val[IDENTITY_N_FIELDS];
	size_t len[IDENTITY_N_FIELDS];
	bool seen[IDENTITY_N_FIELDS];
	char printed[IDENTITY_NAME_MAX * 3 + 8];
	size_t i, k;
	enum pv_err r = PV_E_INPUT;

	memset(out, 0, sizeof(*out));
	memset(seen, 0, sizeof(seen));
	if (source == NULL)
		source = "identity";
	for (i = 0; i < n; i++) {
		for (k = 0; k < IDENTITY_N_FIELDS; k++)
			if (strcmp(names[i], identity_fields[k].name) == 0)
				break;
		if (k == IDENTITY_N_FIELDS) {
			r = pv_why_set(why, PV_E_INPUT,
			    "%s: %.40s: unknown field", source, names[i]);
			goto out;
		}
		if (seen[k]) {
			r = pv_why_set(why, PV_E_INPUT,
			    "%s: a field is given twice", source);
			goto out;
		}
		seen[k] = true;
		val[k] = values[i];
		len[k] = lens[i];
	}
	for (k = 0; k < IDENTITY_N_FIELDS; k++) {
		const struct identity_field *f = &identity_fields[k];

		if (!seen[k] || len[k] == 0) {
			if (f->required) {
				r = pv_why_set(why, PV_E_INPUT, seen[k] ?
				    "%s: %s: must not be empty" :
				    "%s: %s: missing", source, f->name);
				goto out;
			}
			continue;	/* "" = absent */
		}
		if (memchr(val[k], '\0', len[k]) != NULL) {
			r = pv_why_set(why, PV_E_INPUT,
			    "%s: %s: NUL character", source, f->name);
			goto out;
		}
		/* Checked before the copy, which needs the bound. */
		if ((r = identity_check_field(f, val[k], len[k], source,
		    why)) != PV_OK)
			goto out;
		memcpy((char *)out + f->off, val[k], len[k]);
		((char *)out + f->off)[len[k]] = '\0';
	}
	if (identity_printed_name(out, printed, IDENTITY_NAME_MAX + 1) !=
	    PV_OK) {
		(void)identity_printed_name(out, printed, sizeof(printed));
		r = pv_why_set(why, PV_E_INPUT,
		    "%s: name: the printed name \"%.40s...\" is %zu bytes; the "
		    "card holds %d", source, printed, strlen(printed),
		    IDENTITY_NAME_MAX);
		goto out;
	}
	r = PV_OK;
out:
	if (r != PV_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

enum pv_err
identity_load_file(const char *path, struct identity *out, struct pv_why *why)
{
	FILE *f;
	char *buf = NULL;
	size_t n;
	enum pv_err r = PV_E_INTERNAL;

	memset(out, 0, sizeof(*out));
	if ((f = fopen(path, "rb")) == NULL) {
		/* The file a person named: whatever is wrong is input. */
		return pv_why_set(why, errno == ENOENT ? PV_E_NO_FILE :
		    PV_E_INPUT, "%s: %s", path, errno == ENOENT ?
		    "no such file" : strerror(errno));
	}
	if ((buf = malloc(IDENTITY_FILE_MAX + 1)) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	n = fread(buf, 1, IDENTITY_FILE_MAX + 1, f);
	if (ferror(f)) {
		r = pv_why_set(why, PV_E_IO, "%s: read failed", path);
		goto out;
	}
	r = identity_parse(buf, n, path, out, why);
out:
	free(buf);
	fclose(f);
	return r;
}

char *
identity_to_json(const struct identity *id)
{
	json_object *o;
	char *s = NULL;
	size_t i;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	for (i = 0; i < IDENTITY_N_FIELDS; i++) {
		const char *v = (const char *)id + identity_fields[i].off;
		json_object *js;

		if (v[0] == '\0')
			continue;
		if ((js = json_object_new_string(v)) == NULL ||
		    json_object_object_add(o, identity_fields[i].name, js) != 0) {
			json_object_put(js);
			goto out;
		}
	}
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(o);
	return s;
}

enum pv_err
identity_printed_name(const struct identity *id, char *out, size_t cap)
{
	int w;

	if (id->middle_name[0] != '\0')
		w = snprintf(out, cap, "%s, %s %s", id->family_name,
		    id->given_name, id->middle_name);
	else
		w = snprintf(out, cap, "%s, %s", id->family_name,
		    id->given_name);
	if (w < 0 || (size_t)w >= cap)
		return PV_E_TOO_LONG;
	return PV_OK;
}

/* ---- templates ------------------------------------------------------------------ */

static const char *const identity_placeholders[] = {
	"given_name", "middle_name", "family_name", "full_name", "person_id",
	"email", "affiliation", "organization", "uuid"
};
#define IDENTITY_N_PLACEHOLDERS \
	(sizeof(identity_placeholders) / sizeof(identity_placeholders[0]))

/* Index of the placeholder named by |s|,|len|, or -1. */
static int
identity_placeholder(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < IDENTITY_N_PLACEHOLDERS; i++)
		if (strlen(identity_placeholders[i]) == len &&
		    memcmp(identity_placeholders[i], s, len) == 0)
			return (int)i;
	return -1;
}

enum pv_err
identity_template_check(const char *tmpl, struct pv_why *why)
{
	const char *p = tmpl;

	while (*p != '\0') {
		const char *close;

		if (*p == '}')
			return pv_why_set(why, PV_E_CONFIG,
			    "'}' without a matching '{'");
		if (*p != '{') {
			p++;
			continue;
		}
		close = strchr(p + 1, '}');
		if (close == NULL || memchr(p + 1, '{', (size_t)(close - p - 1)))
			return pv_why_set(why, PV_E_CONFIG,
			    "'{' without a matching '}'");
		if (identity_placeholder(p + 1, (size_t)(close - p - 1)) < 0)
			return pv_why_set(why, PV_E_CONFIG,
			    "unknown placeholder '%.*s'",
			    (int)(close - p + 1 > 40 ? 40 : close - p + 1), p);
		p = close + 1;
	}
	return PV_OK;
}

enum pv_err
identity_expand(const char *tmpl, const struct identity *id, const char *uuid,
    char *out, size_t cap, struct pv_why *why)
{
	const char *p = tmpl;
	size_t n = 0;
	enum pv_err r;

	if (cap == 0)
		return PV_E_TOO_LONG;
	if ((r = identity_template_check(tmpl, why)) != PV_OK)
		return r;
	out[0] = '\0';
	while (*p != '\0') {
		char full[IDENTITY_NAME_MAX * 3 + 4];
		const char *val;
		size_t vlen;

		if (*p != '{') {
			if (n + 1 >= cap)
				return pv_why_set(why, PV_E_TOO_LONG,
				    "subject value too long");
			out[n++] = *p++;
			continue;
		}
		{
			const char *close = strchr(p, '}');
			int k = identity_placeholder(p + 1,
			    (size_t)(close - p - 1));

			switch (k) {
			case 0: val = id->given_name; break;
			case 1: val = id->middle_name; break;
			case 2: val = id->family_name; break;
			case 3:
				(void)snprintf(full, sizeof(full), "%s%s%s %s",
				    id->given_name,
				    id->middle_name[0] ? " " : "",
				    id->middle_name, id->family_name);
				val = full;
				break;
			case 4: val = id->person_id; break;
			case 5: val = id->email; break;
			case 6: val = id->affiliation; break;
			case 7: val = id->organization; break;
			default: val = uuid != NULL ? uuid : ""; break;
			}
			if (val[0] == '\0')
				return pv_why_set(why, PV_E_INPUT,
				    "subject: %.*s has no value for this person",
				    (int)(close - p + 1), p);
			p = close + 1;
		}
		vlen = strlen(val);
		if (n + vlen >= cap)
			return pv_why_set(why, PV_E_TOO_LONG,
			    "subject value too long");
		memcpy(out + n, val, vlen);
		n += vlen;
	}
	out[n] = '\0';
	if (n == 0)
		return pv_why_set(why, PV_E_INPUT, "subject: empty value");
	return PV_OK;
}
