/*
 * val_report.h: what a validation found, as plain data a front end can
 * show check by check (the console one line per check, the command line
 * as text or JSON): an ordered list of {id, name, status, text} and the
 * facts behind them.  No pointers: a report can be copied and kept.
 *
 *   id      stable machine name: "cert.path", "chuid.signature", ...
 *   name    short words for a person: "path to a trust anchor"
 *   status  pass, fail, warn (accepted by an explicit soft-fail policy:
 *           the text says what was not known), skip (not run: the text
 *           says why)
 *   text    the reason in words: which URL, which CRL, which policy set,
 *           which field differed
 */
#ifndef PV_ISSUANCE_VAL_REPORT_H
#define PV_ISSUANCE_VAL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum val_status {
	VAL_PASS = 0,
	VAL_FAIL,
	VAL_WARN,
	VAL_SKIP
};

#define VAL_ID_MAX	32
#define VAL_NAME_MAX	64
#define VAL_TEXT_MAX	768
#define VAL_CHECKS_MAX	40
#define VAL_CHAIN_MAX	10
#define VAL_SUBJECT_MAX	256

struct val_check {
	char id[VAL_ID_MAX];
	char name[VAL_NAME_MAX];
	enum val_status status;
	char text[VAL_TEXT_MAX];
};

struct val_report {
	struct val_check check[VAL_CHECKS_MAX];
	size_t n;
	bool valid;		/* no check failed */
	bool soft_failed;	/* some status was unknown and accepted */
	bool truncated;		/* more checks than fit: the last one says so */
	/* the path found, target first, anchor last */
	size_t chain_len;
	char chain[VAL_CHAIN_MAX][VAL_SUBJECT_MAX];
	/* RFC 5280 §6.1.6: the user-constrained policy set, dotted OIDs
	 * separated by ", "; "any-policy" or "" when none */
	char policy_set[VAL_TEXT_MAX];
	/* revocation of the target, when it was found revoked */
	bool revoked;
	time_t revoked_at;
	int revoked_reason;	/* RFC 5280 CRLReason, -1 none given */
};

/* val_report_init empties |rep| (valid until a check fails). */
void val_report_init(struct val_report *rep);

/*
 * val_report_add appends a check; a fail clears rep->valid, a warn sets
 * rep->soft_failed.  When the list is full the last entry becomes a
 * failed "report.truncated" check.  Returns the check added (never NULL).
 */
struct val_check *val_report_add(struct val_report *rep, const char *id,
    const char *name, enum val_status st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* val_report_find returns the check with |id|, or NULL. */
const struct val_check *val_report_find(const struct val_report *rep,
    const char *id);

/* val_status_name: "pass", "fail", "warn", "skip". */
const char *val_status_name(enum val_status st);

/* val_reason_name: RFC 5280 CRLReason in words ("keyCompromise"...);
 * "unspecified" for -1 and 0, "unknown" out of range. */
const char *val_reason_name(int reason);

#endif /* PV_ISSUANCE_VAL_REPORT_H */
