/*
 * err.c: texts and names for enum pv_err, and the pv_why helpers.
 */
#include <stdio.h>
#include <string.h>

#include "apdu/err.h"

#define PV_TEXT(name, class, text) text,
#define PV_NAME(name, class, text) #name,
#define PV_CLASS(name, class, text) PV_CLASS_##class,
static const char *const pv_texts[] = { PV_ERRORS(PV_TEXT) };
static const char *const pv_names[] = { PV_ERRORS(PV_NAME) };
static const enum pv_class pv_classes[] = { PV_ERRORS(PV_CLASS) };
#undef PV_TEXT
#undef PV_NAME
#undef PV_CLASS

const char *
pv_strerror(enum pv_err e)
{
	if ((size_t)e >= sizeof(pv_texts) / sizeof(pv_texts[0]))
		return "unknown error";
	return pv_texts[e];
}

const char *
pv_errname(enum pv_err e)
{
	if ((size_t)e >= sizeof(pv_names) / sizeof(pv_names[0]))
		return "PV_E_UNKNOWN";
	return pv_names[e];
}

enum pv_class
pv_err_class(enum pv_err e)
{
	if ((size_t)e >= sizeof(pv_classes) / sizeof(pv_classes[0]))
		return PV_CLASS_INTERNAL;
	return pv_classes[e];
}

const char *
pv_class_name(enum pv_class c)
{
	switch (c) {
	case PV_CLASS_OK: return "ok";
	case PV_CLASS_CARD_GONE: return "card-gone";
	case PV_CLASS_CARD: return "card";
	case PV_CLASS_AUTH: return "auth";
	case PV_CLASS_INPUT: return "input";
	case PV_CLASS_VERIFY: return "verify";
	case PV_CLASS_STATE: return "state";
	case PV_CLASS_CANCEL: return "cancel";
	case PV_CLASS_INTERNAL: return "internal";
	}
	return "internal";
}

enum pv_err
pv_why_set(struct pv_why *why, enum pv_err e, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || why->msg[0] != '\0')
		return e;	/* keep the innermost, most specific message */
	va_start(ap, fmt);
	(void)vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
	va_end(ap);
	return e;
}

void
pv_why_prefix(struct pv_why *why, const char *fmt, ...)
{
	char prefix[128], old[sizeof(why->msg)];
	char joined[sizeof(prefix) + sizeof(old) + 2];
	va_list ap;

	if (why == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, why->msg, sizeof(old));
	if (old[0] == '\0')
		(void)snprintf(joined, sizeof(joined), "%s", prefix);
	else
		(void)snprintf(joined, sizeof(joined), "%s: %s", prefix, old);
	/* Truncation of a very long message is acceptable: keep the start. */
	memcpy(why->msg, joined, sizeof(why->msg) - 1);
	why->msg[sizeof(why->msg) - 1] = '\0';
}

void
pv_why_clear(struct pv_why *why)
{
	if (why != NULL)
		why->msg[0] = '\0';
}
