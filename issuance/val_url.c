/*
 * val_url.c: the URLs the validator is willing to follow (val.h).  They
 * come from certificates and CRLs, i.e. from anyone: the checks are
 * strict and the parse reads the string once, left to right.
 *
 *   URL  = "http://" host [ ":" port ] [ path ]     (RFC 3986, a subset)
 *   host = reg-name of ALPHA DIGIT "-" "." | IPv4 | "[" IPv6 hex and ":" "]"
 *   path = "/" *( unreserved / pct-encoded / sub-delims / ":" / "@" / "/"
 *          / "?" )
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "issuance/val.h"

static bool
val_url_path_char(unsigned char c)
{
	return isalnum(c) || strchr("-._~!$&'()*+,;=:@/?%", c) != NULL;
}

enum pv_err
val_url_parse(const char *s, struct val_url *out, struct pv_why *why)
{
	const char *p, *h;
	size_t len = strnlen(s, VAL_URL_MAX), hl;
	unsigned long port = 80;

	memset(out, 0, sizeof(*out));
	if (len >= VAL_URL_MAX)
		return pv_why_set(why, PV_E_INPUT, "URL longer than %d bytes",
		    VAL_URL_MAX - 1);
	if (strncasecmp(s, "http://", 7) != 0)
		return pv_why_set(why, PV_E_INPUT, "URL '%.60s': only http:// "
		    "URLs are followed", s);
	h = p = s + 7;
	if (*p == '[') {
		p++;
		while (*p != '\0' && (isxdigit((unsigned char)*p) || *p == ':'
		    || *p == '.'))
			p++;
		if (*p != ']' || p == h + 1)
			return pv_why_set(why, PV_E_INPUT, "URL '%.60s': bad "
			    "IPv6 address", s);
		p++;
	} else {
		while (*p != '\0' && (isalnum((unsigned char)*p) ||
		    *p == '-' || *p == '.'))
			p++;
		if (p == h)
			return pv_why_set(why, PV_E_INPUT, "URL '%.60s': no "
			    "host", s);
		if (h[0] == '.' || h[0] == '-' || p[-1] == '-')
			return pv_why_set(why, PV_E_INPUT, "URL '%.60s': bad "
			    "host name", s);
	}
	hl = (size_t)(p - h);
	if (hl >= sizeof(out->host))
		return pv_why_set(why, PV_E_INPUT, "URL '%.60s': host name too "
		    "long", s);
	memcpy(out->host, h, hl);
	out->host[hl] = '\0';
	if (*p == ':') {
		const char *q = ++p;

		port = 0;
		while (isdigit((unsigned char)*p) && p - q < 6)
			port = port * 10 + (unsigned long)(*p++ - '0');
		if (p == q || port == 0 || port > 65535)
			return pv_why_set(why, PV_E_INPUT, "URL '%.60s': bad "
			    "port", s);
	}
	out->port = (unsigned)port;
	if (*p == '\0') {
		(void)snprintf(out->path, sizeof(out->path), "/");
		return PV_OK;
	}
	if (*p != '/')
		return pv_why_set(why, PV_E_INPUT, "URL '%.60s': %s", s,
		    *p == '@' ? "user information is not accepted" :
		    "unexpected character after the host");
	for (h = p; *p != '\0'; p++) {
		if (!val_url_path_char((unsigned char)*p))
			return pv_why_set(why, PV_E_INPUT, "URL '%.60s': "
			    "character 0x%02x not allowed in a path", s,
			    (unsigned char)*p);
		if (*p == '%' && (!isxdigit((unsigned char)p[1]) ||
		    !isxdigit((unsigned char)p[2])))
			return pv_why_set(why, PV_E_INPUT, "URL '%.60s': bad "
			    "percent-encoding", s);
	}
	(void)snprintf(out->path, sizeof(out->path), "%s", h);
	return PV_OK;
}

enum pv_err
val_url_file(const char *s, char *out, size_t cap, struct pv_why *why)
{
	struct val_url u;
	const char *p, *seg;
	enum pv_err r;

	if ((r = val_url_parse(s, &u, why)) != PV_OK)
		return r;
	p = u.path + 1;
	if (*p == '\0' || strlen(p) >= cap)
		return pv_why_set(why, PV_E_INPUT, "URL '%.60s': %s", s,
		    *p == '\0' ? "names no file" : "path too long");
	for (seg = p; ; p++) {
		if (*p == '/' || *p == '\0') {
			size_t n = (size_t)(p - seg);

			if (n == 0 || (n == 1 && seg[0] == '.') ||
			    (n == 2 && seg[0] == '.' && seg[1] == '.'))
				return pv_why_set(why, PV_E_INPUT, "URL '%.60s': "
				    "the path has an empty, '.' or '..' part", s);
			if (*p == '\0')
				break;
			seg = p + 1;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.')
			return pv_why_set(why, PV_E_INPUT, "URL '%.60s': only "
			    "letters, digits, '-', '_' and '.' make a file name "
			    "here", s);
	}
	(void)snprintf(out, cap, "%s", u.path + 1);
	return PV_OK;
}
