/*
 * val_report.c: the list of checks a validation produces (val_report.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "issuance/val_report.h"

void
val_report_init(struct val_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->valid = true;
	rep->revoked_reason = -1;
}

static void
val_copy(char *dst, size_t cap, const char *src)
{
	(void)snprintf(dst, cap, "%s", src != NULL ? src : "");
}

struct val_check *
val_report_add(struct val_report *rep, const char *id, const char *name,
    enum val_status st, const char *fmt, ...)
{
	struct val_check *c;
	va_list ap;

	if (rep->n >= VAL_CHECKS_MAX) {
		/* The last slot says what was lost; the verdict stays honest. */
		c = &rep->check[VAL_CHECKS_MAX - 1];
		if (!rep->truncated) {
			rep->truncated = true;
			val_copy(c->id, sizeof(c->id), "report.truncated");
			val_copy(c->name, sizeof(c->name), "report complete");
			c->status = VAL_FAIL;
			val_copy(c->text, sizeof(c->text), "more checks than the "
			    "report holds; the ones after this were dropped");
			rep->valid = false;
		}
		if (st == VAL_FAIL)
			rep->valid = false;
		return c;
	}
	c = &rep->check[rep->n++];
	memset(c, 0, sizeof(*c));
	val_copy(c->id, sizeof(c->id), id);
	val_copy(c->name, sizeof(c->name), name);
	c->status = st;
	va_start(ap, fmt);
	(void)vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	if (st == VAL_FAIL)
		rep->valid = false;
	else if (st == VAL_WARN)
		rep->soft_failed = true;
	return c;
}

const struct val_check *
val_report_find(const struct val_report *rep, const char *id)
{
	size_t i;

	for (i = 0; i < rep->n; i++)
		if (strcmp(rep->check[i].id, id) == 0)
			return &rep->check[i];
	return NULL;
}

const char *
val_status_name(enum val_status st)
{
	switch (st) {
	case VAL_PASS: return "pass";
	case VAL_FAIL: return "fail";
	case VAL_WARN: return "warn";
	case VAL_SKIP: return "skip";
	}
	return "unknown";
}

const char *
val_reason_name(int reason)
{
	/* RFC 5280 §5.3.1 CRLReason; 7 is not used. */
	static const char *const names[] = {
		"unspecified", "keyCompromise", "cACompromise",
		"affiliationChanged", "superseded", "cessationOfOperation",
		"certificateHold", "value 7", "removeFromCRL",
		"privilegeWithdrawn", "aACompromise"
	};

	if (reason < 0)
		return "unspecified";
	if ((size_t)reason >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[reason];
}
