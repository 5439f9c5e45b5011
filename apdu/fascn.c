/*
 * fascn.c: FASC-N encode/decode (PIV-REFERENCE §5, TIG SCEPACS).
 *
 * Each character is 4 data bits sent least significant bit first, then an
 * odd-parity bit; the LRC character holds the column-wise XOR of the 4
 * data bits of the 39 characters before it, with its own odd parity.  The
 * 200 bits are packed most significant bit first.
 */
#include <stdio.h>
#include <string.h>

#include "apdu/buf.h"
#include "apdu/fascn.h"

#define FASCN_CHARS	40
#define FASCN_SS	0xb	/* start sentinel */
#define FASCN_FS	0xd	/* field separator */
#define FASCN_ES	0xf	/* end sentinel */

/*
 * The layout, one entry per field: where its first digit sits (character
 * index), how many digits, and whether a field separator follows.  SS is
 * character 0, ES 38, LRC 39.
 */
struct fascn_field {
	const char *name;
	size_t off;
	size_t n;
	size_t pos;	/* first digit, as a character index */
	bool fs_after;
};

#define FIELD(m, label, pos, sep) \
	{ label, offsetof(struct fascn, m), sizeof(((struct fascn *)0)->m) - 1, \
	  pos, sep }

static const struct fascn_field fascn_fields[] = {
	FIELD(ac, "agency code", 1, true),
	FIELD(sc, "system code", 6, true),
	FIELD(cn, "credential number", 11, true),
	FIELD(cs, "credential series", 18, true),
	FIELD(ici, "individual credential issue", 20, true),
	FIELD(pi, "person identifier", 22, false),
	FIELD(oc, "organizational category", 32, false),
	FIELD(oi, "organizational identifier", 33, false),
	FIELD(poa, "association category", 37, false),
};
#define N_FIELDS (sizeof(fascn_fields) / sizeof(fascn_fields[0]))

static char *
field_ptr(struct fascn *f, const struct fascn_field *d)
{
	return (char *)f + d->off;
}

static const char *
field_cptr(const struct fascn *f, const struct fascn_field *d)
{
	return (const char *)f + d->off;
}

/* 4-bit value -> 5-bit group: b1 b2 b4 b8 then odd parity, MSB first. */
static uint8_t
fascn_group(uint8_t v)
{
	uint8_t g = 0, ones = 0;
	int i;

	for (i = 0; i < 4; i++) {
		uint8_t bit = (uint8_t)((v >> i) & 1);

		g = (uint8_t)((g << 1) | bit);
		ones = (uint8_t)(ones + bit);
	}
	return (uint8_t)((g << 1) | ((ones & 1) == 0 ? 1 : 0));
}

/* The 40 character values (4 bits each) of |f|; fields must be valid. */
static void
fascn_chars(const struct fascn *f, uint8_t ch[FASCN_CHARS])
{
	size_t i, k;

	memset(ch, FASCN_FS, FASCN_CHARS);
	ch[0] = FASCN_SS;
	for (i = 0; i < N_FIELDS; i++) {
		const char *s = field_cptr(f, &fascn_fields[i]);

		for (k = 0; k < fascn_fields[i].n; k++)
			ch[fascn_fields[i].pos + k] = (uint8_t)(s[k] - '0');
	}
	ch[38] = FASCN_ES;
	ch[39] = 0;
	for (i = 0; i < 39; i++)
		ch[39] ^= ch[i];
}

static bool
field_valid(const char *s, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (s[k] < '0' || s[k] > '9')
			return false;
	return s[n] == '\0';
}

enum pv_err
fascn_encode(const struct fascn *f, uint8_t out[FASCN_LEN],
    struct pv_why *why)
{
	uint8_t ch[FASCN_CHARS];
	size_t i, bit;

	for (i = 0; i < N_FIELDS; i++) {
		const struct fascn_field *d = &fascn_fields[i];

		if (!field_valid(field_cptr(f, d), d->n))
			return pv_why_set(why, PV_E_INPUT,
			    "FASC-N: %s must be exactly %zu digits", d->name,
			    d->n);
	}
	fascn_chars(f, ch);
	memset(out, 0, FASCN_LEN);
	for (i = 0, bit = 0; i < FASCN_CHARS; i++) {
		uint8_t g = fascn_group(ch[i]);
		int k;

		for (k = 4; k >= 0; k--, bit++)
			if ((g >> k) & 1)
				out[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
	}
	return PV_OK;
}

static const char *
char_name(uint8_t v)
{
	switch (v) {
	case FASCN_SS:
		return "start sentinel";
	case FASCN_FS:
		return "field separator";
	case FASCN_ES:
		return "end sentinel";
	default:
		return "digit";
	}
}

enum pv_err
fascn_decode(const uint8_t *in, size_t len, struct fascn *out,
    struct pv_why *why)
{
	struct buf_cur c;
	uint8_t raw[FASCN_LEN], ch[FASCN_CHARS], lrc = 0;
	size_t i, k, bit;
	enum pv_err r = PV_E_MALFORMED;

	buf_cur_init(&c, in, len);
	if (!buf_copy_exact(&c, raw, sizeof(raw)))
		return pv_why_set(why, PV_E_MALFORMED,
		    "FASC-N is %zu %s, expected %d", len, buf_bytes_word(len),
		    FASCN_LEN);
	memset(out, 0, sizeof(*out));
	for (i = 0, bit = 0; i < FASCN_CHARS; i++) {
		uint8_t g = 0, v = 0, ones = 0;

		for (k = 0; k < 5; k++, bit++) {
			uint8_t b = (uint8_t)((raw[bit / 8] >> (7 - bit % 8)) & 1);

			g = (uint8_t)((g << 1) | b);
			ones = (uint8_t)(ones + b);
		}
		if ((ones & 1) == 0) {
			(void)pv_why_set(why, r,
			    "FASC-N: character %zu has bad parity", i + 1);
			goto out;
		}
		/* Data bits arrive b1 first: reverse them. */
		for (k = 0; k < 4; k++)
			v = (uint8_t)(v | (((g >> (4 - k)) & 1) << k));
		ch[i] = v;
	}
	for (i = 0; i < 39; i++)
		lrc ^= ch[i];
	if (lrc != ch[39]) {
		(void)pv_why_set(why, r, "FASC-N: LRC check failed");
		goto out;
	}
	/* Sentinels and separators where the layout puts them. */
	for (i = 0; i < 39; i++) {
		uint8_t want = 0xff;	/* 0xff: a digit */

		if (i == 0)
			want = FASCN_SS;
		else if (i == 38)
			want = FASCN_ES;
		else if (i == 5 || i == 10 || i == 17 || i == 19 || i == 21)
			want = FASCN_FS;
		if (want == 0xff && ch[i] > 9) {
			(void)pv_why_set(why, r,
			    "FASC-N: character %zu is %s (0x%X), expected a digit",
			    i + 1, char_name(ch[i]), ch[i]);
			goto out;
		}
		if (want != 0xff && ch[i] != want) {
			(void)pv_why_set(why, r,
			    "FASC-N: character %zu is 0x%X, expected %s",
			    i + 1, ch[i], char_name(want));
			goto out;
		}
	}
	for (i = 0; i < N_FIELDS; i++) {
		char *s = field_ptr(out, &fascn_fields[i]);

		for (k = 0; k < fascn_fields[i].n; k++)
			s[k] = (char)('0' + ch[fascn_fields[i].pos + k]);
		s[fascn_fields[i].n] = '\0';
	}
	r = PV_OK;
out:
	if (r != PV_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

void
fascn_to_string(const struct fascn *f, char out[FASCN_STR_LEN])
{
	(void)snprintf(out, FASCN_STR_LEN, "S%.4sF%.4sF%.6sF%.1sF%.1sF%.10s%.1s%.4s%.1sE",
	    f->ac, f->sc, f->cn, f->cs, f->ici, f->pi, f->oc, f->oi, f->poa);
}

enum pv_err
fascn_from_string(const char *s, struct fascn *out, struct pv_why *why)
{
	size_t i, k, n = strlen(s);

	memset(out, 0, sizeof(*out));
	if (n != FASCN_STR_LEN - 1)
		return pv_why_set(why, PV_E_INPUT,
		    "FASC-N string is %zu characters, expected %d", n,
		    FASCN_STR_LEN - 1);
	for (i = 0; i < n; i++) {
		char want = '0';	/* '0': a digit */

		if (i == 0)
			want = 'S';
		else if (i == 38)
			want = 'E';
		else if (i == 5 || i == 10 || i == 17 || i == 19 || i == 21)
			want = 'F';
		if (want == '0' ? (s[i] < '0' || s[i] > '9') : s[i] != want) {
			memset(out, 0, sizeof(*out));
			return pv_why_set(why, PV_E_INPUT,
			    "FASC-N string: character %zu is '%c', expected %s",
			    i + 1, s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?',
			    want == '0' ? "a digit" : want == 'S' ? "'S'" :
			    want == 'E' ? "'E'" : "'F'");
		}
	}
	for (i = 0; i < N_FIELDS; i++) {
		char *d = field_ptr(out, &fascn_fields[i]);

		for (k = 0; k < fascn_fields[i].n; k++)
			d[k] = s[fascn_fields[i].pos + k];
	}
	return PV_OK;
}

void
fascn_describe(const struct fascn *f, char *out, size_t cap)
{
	if (cap == 0)
		return;
	(void)snprintf(out, cap, "agency %s, system %s, credential %s, "
	    "series %s, issue %s, person %s, org category %s, org %s, "
	    "association %s", f->ac, f->sc, f->cn, f->cs, f->ici, f->pi,
	    f->oc, f->oi, f->poa);
}

bool
fascn_is_nonfederal(const struct fascn *f)
{
	return strcmp(f->ac, "9999") == 0 && strcmp(f->sc, "9999") == 0 &&
	    strcmp(f->cn, "999999") == 0;
}
