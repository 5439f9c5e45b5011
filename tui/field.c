/*
 * field.c: one line of text being typed (model.h struct tui_field):
 * UTF-8 in, edited by whole characters, secrets wiped.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "tui/model.h"

void
tui_field_init(struct tui_field *f, size_t max, bool masked)
{
	OPENSSL_cleanse(f, sizeof(*f));
	f->max = max == 0 || max >= TUI_FIELD_MAX ? TUI_FIELD_MAX - 1 : max;
	f->masked = masked;
}

void
tui_field_clear(struct tui_field *f)
{
	OPENSSL_cleanse(f->buf, sizeof(f->buf));
	f->len = f->cur = 0;
}

void
tui_field_set(struct tui_field *f, const char *s)
{
	size_t n = strlen(s), max = f->max ? f->max : TUI_FIELD_MAX - 1;

	tui_field_clear(f);
	if (n > max)
		n = max;
	/* Never cut a character in two. */
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(f->buf, s, n);
	f->buf[n] = '\0';
	f->len = f->cur = n;
}

static size_t
tui_utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			return 0;
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp < 0x110000) {
		out[0] = (char)(0xf0 | (cp >> 18));
		out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[3] = (char)(0x80 | (cp & 0x3f));
		return 4;
	}
	return 0;
}

/* The start of the character before |at|. */
static size_t
tui_prev(const struct tui_field *f, size_t at)
{
	if (at == 0)
		return 0;
	at--;
	while (at > 0 && ((unsigned char)f->buf[at] & 0xc0) == 0x80)
		at--;
	return at;
}

/* The start of the character after the one at |at|. */
static size_t
tui_next(const struct tui_field *f, size_t at)
{
	if (at >= f->len)
		return f->len;
	at++;
	while (at < f->len && ((unsigned char)f->buf[at] & 0xc0) == 0x80)
		at++;
	return at;
}

bool
tui_field_key(struct tui_field *f, int key)
{
	size_t max = f->max ? f->max : TUI_FIELD_MAX - 1, n, p;
	char enc[4];

	switch (key) {
	case TUI_K_LEFT:
		f->cur = tui_prev(f, f->cur);
		return true;
	case TUI_K_RIGHT:
		f->cur = tui_next(f, f->cur);
		return true;
	case TUI_K_HOME:
		f->cur = 0;
		return true;
	case TUI_K_END:
		f->cur = f->len;
		return true;
	case TUI_K_CTRL_U:
		tui_field_clear(f);
		return true;
	case TUI_K_BS:
		if (f->cur == 0)
			return true;
		p = tui_prev(f, f->cur);
		memmove(f->buf + p, f->buf + f->cur, f->len - f->cur + 1);
		f->len -= f->cur - p;
		f->cur = p;
		OPENSSL_cleanse(f->buf + f->len + 1, TUI_FIELD_MAX - f->len - 1);
		return true;
	case TUI_K_DEL:
		if (f->cur >= f->len)
			return true;
		p = tui_next(f, f->cur);
		memmove(f->buf + f->cur, f->buf + p, f->len - p + 1);
		f->len -= p - f->cur;
		OPENSSL_cleanse(f->buf + f->len + 1, TUI_FIELD_MAX - f->len - 1);
		return true;
	default:
		break;
	}
	/* Printable characters only: no C0, DEL or C1 controls. */
	if (key < 0x20 || key == 0x7f || (key >= 0x80 && key < 0xa0) ||
	    key >= 0x110000)
		return false;
	if (f->digits && (key < '0' || key > '9'))
		return true;	/* taken, and refused */
	if ((n = tui_utf8_encode((uint32_t)key, enc)) == 0 ||
	    f->len + n > max)
		return true;
	memmove(f->buf + f->cur + n, f->buf + f->cur, f->len - f->cur + 1);
	memcpy(f->buf + f->cur, enc, n);
	f->len += n;
	f->cur += n;
	return true;
}

size_t
tui_field_cur_chars(const struct tui_field *f)
{
	size_t i, n = 0;

	for (i = 0; i < f->cur; i++)
		if (((unsigned char)f->buf[i] & 0xc0) != 0x80)
			n++;
	return n;
}
