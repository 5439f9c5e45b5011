/*
 * operator.c: the roles' permissions, and signing in with the operator's
 * own PIV card (operator.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "apdu/buf.h"
#include "apdu/piv.h"
#include "issuance/card.h"
#include "issuance/card_binding.h"
#include "issuance/operator.h"
#include "issuance/pkix_util.h"
#include "issuance/station.h"
#include "issuance/val_card.h"
#include "issuance/val_station.h"

#define R_ENR	(1u << STORE_ROLE_ENROLLER)
#define R_HELP	(1u << STORE_ROLE_HELP_DESK)
#define R_ADM	(1u << STORE_ROLE_ADMIN)

static const struct {
	const char *name;
	unsigned roles;
	const char *who;
} op_table[] = {
	[OP_ISSUE] = { "issue a credential", R_ENR | R_ADM,
	    "enroller or administrator" },
	[OP_DERIVE] = { "derive a mobile credential", R_ENR | R_ADM,
	    "enroller or administrator" },
	[OP_LIFECYCLE] = { "change a credential's or job's state",
	    R_HELP | R_ADM, "help desk or administrator" },
	[OP_UNBLOCK] = { "unblock a PIN", R_HELP | R_ADM,
	    "help desk or administrator" },
	[OP_RECOVER] = { "recover an escrowed key", R_HELP | R_ADM,
	    "help desk or administrator" },
	[OP_CA] = { "run the certification authority", R_ADM,
	    "administrator" },
	[OP_OPERATORS] = { "manage operators", R_ADM, "administrator" },
	[OP_AUDIT] = { "read the audit log", R_ENR | R_HELP | R_ADM,
	    "any operator" },
};

bool
op_permitted(enum store_role r, enum op_action a)
{
	if ((unsigned)a >= sizeof(op_table) / sizeof(op_table[0]))
		return false;
	return (op_table[a].roles & (1u << r)) != 0;
}

const char *
op_action_name(enum op_action a)
{
	return (unsigned)a < sizeof(op_table) / sizeof(op_table[0]) ?
	    op_table[a].name : "act";
}

const char *
op_roles_for(enum op_action a)
{
	return (unsigned)a < sizeof(op_table) / sizeof(op_table[0]) ?
	    op_table[a].who : "nobody";
}

/* ---- signing in ------------------------------------------------------------------- */

bool
operator_permits(const struct operator_session *s, enum op_action a)
{
	if (s == NULL || s->name[0] == '\0')
		return false;
	return op_permitted(s->role, a);
}

void
operator_clear(struct operator_session *s)
{
	memset(s, 0, sizeof(*s));
}

/* ---- card steps ---------------------------------------------------------------- */

static enum pv_err
op_read_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct val_card_objects *o = arg;

	val_card_objects_free(o);
	return val_card_read(a, false, o, why);
}

struct op_pop {
	const struct operator_signin_params *p;
	struct card *card;
	const struct val_card_objects *obj;
	struct val_report *rep;
	uint8_t pin_min, pin_max;
	enum pv_err pin_r;		/* the PIN's outcome */
	int retries;
};

static enum pv_err
op_pin_fn(void *arg, struct apdu_session *a, int *retries, struct pv_why *why)
{
	struct op_pop *pp = arg;
	enum pv_err r;

	if (pp->p->pin_pad)
		r = pp->card->ops->pad_verify(pp->card->ctx, PIV_REF_PIN,
		    pp->pin_min, pp->pin_max, retries, why);
	else
		r = piv_verify(a, PIV_REF_PIN, pp->p->pin, pp->p->pin_len,
		    retries, why);
	pp->pin_r = r;
	pp->retries = *retries;
	return r;
}

static enum pv_err
op_pop_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct op_pop *pp = arg;
	struct val_pop_params vp;
	size_t n0 = pp->rep->n;
	enum pv_err r;

	memset(&vp, 0, sizeof(vp));
	vp.pin = op_pin_fn;
	vp.pin_arg = pp;
	r = val_card_pop(a, pp->obj, &vp, pp->rep, why);
	if (r == PV_E_RESET)
		pp->rep->n = n0;	/* run again after the recovery */
	/* The operator's card does not stay unlocked for other programs
	 * (SP 800-73-4 Part 2 §3.2.1: VERIFY with P1 = FF resets the PIN's
	 * security status); a card without it is left as it is. */
	if (r == PV_OK && pp->pin_r == PV_OK) {
		struct pv_why ignore = { "" };

		(void)piv_logout(a, PIV_REF_PIN, &ignore);
	}
	return r;
}

/* ---- audit ---------------------------------------------------------------------- */

/*
 * One audit row for the attempt: as the operator when signed in, else as
 * the station's actor.  A row that cannot be written fails the sign-in:
 * nobody works unaudited.
 */
static enum pv_err
op_audit(const struct operator_signin_params *p, const char *actor,
    const char *action, const char *object, const char *reader,
    const uint8_t *uuid, const char *subject, const char *reason,
    struct pv_why *why)
{
	struct store *st = NULL;
	json_object *d;
	char hex[33];
	enum pv_err r;

	if ((d = json_object_new_object()) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	json_object_object_add(d, "purpose", json_object_new_string(
	    p->purpose != NULL ? p->purpose : "console"));
	json_object_object_add(d, "reader", json_object_new_string(reader));
	if (uuid != NULL) {
		buf_hex(uuid, 16, hex);
		json_object_object_add(d, "card_uuid",
		    json_object_new_string(hex));
	}
	if (subject != NULL && subject[0] != '\0')
		json_object_object_add(d, "subject",
		    json_object_new_string(subject));
	if (reason != NULL)
		json_object_object_add(d, "reason",
		    json_object_new_string(reason));
	r = actor != NULL ? station_store_open_as(p->stn, actor, &st, why) :
	    station_store_open(p->stn, &st, why);
	if (r == PV_OK)
		r = audit_append(st, action, object,
		    json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN),
		    why);
	if (r == PV_OK)
		r = store_audit_files_status(st, why);
	store_close(st);
	json_object_put(d);
	return r;
}

/* The subject as RFC 2253 text (UTF-8 kept), "" when it does not print. */
static void
op_subject(X509 *x, char *out, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;

	out[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(b, &p)) > 0)
		(void)snprintf(out, cap, "%.*s", (int)(n < (long)cap ? n :
		    (long)cap - 1), p);
	BIO_free(b);
}

/* The first check that failed, for the message. */
static const struct val_check *
op_first_fail(const struct val_report *rep)
{
	size_t i;

	for (i = 0; i < rep->n; i++)
		if (rep->check[i].status == VAL_FAIL)
			return &rep->check[i];
	return NULL;
}

/* ---- reading and validating the card ------------------------------------------------ */

/* What the card says about its holder, validated. */
struct op_card {
	struct val_card_objects obj;
	struct val_report rep;
	X509 *cert;
	char subject[OPERATOR_SUBJECT_MAX];
	uint8_t uuid[16];
	bool has_uuid;
};

static void
op_card_cleanup(struct op_card *c)
{
	X509_free(c->cert);
	val_card_objects_free(&c->obj);
	memset(c, 0, sizeof(*c));
}

/*
 * Reads the CHUID, 9A certificate and Security Object and validates them
 * (|vs| NULL: opened for this call).  PV_OK when the checks ran: c->rep
 * says how they went; the card's errors otherwise.
 */
static enum pv_err
op_card_read(const struct station *stn, struct val_station *vs,
    struct card *card, struct op_card *c, struct pv_why *why)
{
	struct val_station own;
	struct val_card_params cp;
	struct val_params auth, signer;
	const unsigned char *d;
	uint8_t fascn[25];
	bool has_f = false, own_vs = false;
	enum pv_err r;

	memset(c, 0, sizeof(*c));
	memset(&own, 0, sizeof(own));
	val_report_init(&c->rep);
	if ((r = card_check_piv(card, why)) != PV_OK)
		return r;
	if (vs == NULL) {
		if ((r = val_station_open(stn, NULL, &own, why)) != PV_OK)
			return r;
		vs = &own;
		own_vs = true;
	}
	if ((r = card_run(card, op_read_fn, &c->obj, why)) != PV_OK)
		goto out;
	auth = vs->auth;
	signer = vs->signer;
	auth.at = signer.at = time(NULL);
	cp.auth = &auth;
	cp.signer = &signer;
	cp.expiry_margin_days = vs->expiry_margin_days;
	if ((r = val_card_check(vs->ctx, &c->obj, &cp, &c->rep, why)) != PV_OK)
		goto out;
	if (c->obj.cert_9a.err == PV_OK && c->obj.cert_9a.p != NULL) {
		d = c->obj.cert_9a.p;
		c->cert = d2i_X509(NULL, &d, (long)c->obj.cert_9a.n);
	}
	if (c->cert != NULL) {
		op_subject(c->cert, c->subject, sizeof(c->subject));
		(void)card_san_ids(c->cert, fascn, &has_f, c->uuid,
		    &c->has_uuid, NULL);
	}
	r = PV_OK;
out:
	if (own_vs)
		val_station_close(&own);
	return r;
}

/* PV_OK when the card validated and names its card UUID; else
 * PV_E_VERIFY saying why. */
static enum pv_err
op_card_valid(const struct card *card, const struct op_card *c,
    struct pv_why *why)
{
	const struct val_check *bad;

	if (!c->rep.valid) {
		bad = op_first_fail(&c->rep);
		return pv_why_set(why, PV_E_VERIFY, "the card in %s does not "
		    "validate: %s: %s", card_reader(card), bad != NULL ?
		    bad->name : "?", bad != NULL ? bad->text : "?");
	}
	if (!c->has_uuid)
		return pv_why_set(why, PV_E_VERIFY, "the card's PIV "
		    "Authentication certificate carries no card UUID");
	return PV_OK;
}

enum pv_err
operator_card_identify(const struct station *stn, struct val_station *vs,
    struct card *card, uint8_t uuid[16], char *subject, size_t cap,
    struct val_report *rep, struct pv_why *why)
{
	struct op_card c;
	enum pv_err r;

	r = op_card_read(stn, vs, card, &c, why);
	if (r == PV_OK)
		r = op_card_valid(card, &c, why);
	if (r == PV_OK) {
		memcpy(uuid, c.uuid, 16);
		(void)snprintf(subject, cap, "%s", c.subject);
	}
	if (rep != NULL)
		*rep = c.rep;
	op_card_cleanup(&c);
	return r;
}

/* ---- sign-in ------------------------------------------------------------------------ */

enum pv_err
operator_signin(const struct operator_signin_params *p, struct card *card,
    struct operator_session *out, struct val_report *rep_out,
    struct pv_why *why)
{
	const struct pv_config *cfg = station_config(p->stn);
	struct op_card c;
	struct store_operator op;
	struct store *st = NULL;
	struct op_pop pp;
	struct pv_why ignore = { "" };
	const struct val_check *bad;
	char object[AUDIT_OBJECT_MAX], reason[400] = "", hex[33];
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	(void)snprintf(object, sizeof(object), "reader:%.100s",
	    card_reader(card));
	r = op_card_read(p->stn, p->vs, card, &c, why);
	if (r != PV_OK && (pv_err_aborts(r) || pv_err_class(r) ==
	    PV_CLASS_INTERNAL || pv_err_class(r) == PV_CLASS_INPUT))
		goto out;	/* the card went away, or the station failed */
	if (r != PV_OK) {
		(void)snprintf(reason, sizeof(reason), "%s", why->msg);
		goto refused;	/* not a PIV card, or one that refused */
	}
	if (c.has_uuid) {
		buf_hex(c.uuid, 16, hex);
		(void)snprintf(object, sizeof(object), "card:%s", hex);
	}
	if ((r = op_card_valid(card, &c, why)) != PV_OK) {
		(void)snprintf(reason, sizeof(reason), "%s", why->msg);
		goto refused;
	}

	/* A registered operator's card?  Asked before the PIN: a card that
	 * is not spends no try. */
	if ((r = station_store_open(p->stn, &st, why)) != PV_OK)
		goto out;
	r = store_operator_find_card(st, c.uuid, &op, why);
	store_close(st);
	st = NULL;
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		r = pv_why_set(why, PV_E_POLICY, "the card of %.120s is not an "
		    "operator's card (an administrator registers operators: "
		    "pivstation operator add)", c.subject[0] ? c.subject :
		    "this person");
		(void)snprintf(reason, sizeof(reason), "not an operator's card");
		goto refused;
	}
	if (r != PV_OK)
		goto out;
	if (op.disabled) {
		r = pv_why_set(why, PV_E_POLICY, "operator %s is disabled",
		    op.name);
		(void)snprintf(reason, sizeof(reason), "operator %s is disabled",
		    op.name);
		goto refused;
	}

	/* Proof of possession: PIN, then the 9A key signs a challenge. */
	memset(&pp, 0, sizeof(pp));
	pp.p = p;
	pp.card = card;
	pp.obj = &c.obj;
	pp.rep = &c.rep;
	pp.pin_min = (uint8_t)(cfg->pin_min > 8 ? 8 : cfg->pin_min);
	pp.pin_max = (uint8_t)(cfg->pin_max > 8 ? 8 : cfg->pin_max);
	pp.pin_r = PV_OK;
	if (p->pin_pad && (r = card_check_pad(card, false, why)) != PV_OK)
		goto out;
	if ((r = card_run(card, op_pop_fn, &pp, why)) != PV_OK)
		goto out;
	if (!c.rep.valid) {
		bad = op_first_fail(&c.rep);
		if (pp.pin_r != PV_OK) {
			/* In the cardholder's words, as everywhere else. */
			pv_why_clear(why);
			r = card_pin_outcome(pp.pin_r, pp.retries, why);
			if (why->msg[0] == '\0')
				(void)pv_why_set(why, r, "%s", bad != NULL ?
				    bad->text : pv_strerror(r));
		} else {
			r = pv_why_set(why, PV_E_VERIFY, "%s: %s", bad != NULL ?
			    bad->name : "?", bad != NULL ? bad->text : "?");
		}
		(void)snprintf(reason, sizeof(reason), "operator %s: %s",
		    op.name, why->msg);
		goto refused;
	}

	(void)snprintf(out->name, sizeof(out->name), "%s", op.name);
	out->role = op.role;
	memcpy(out->card_uuid, c.uuid, 16);
	(void)snprintf(out->subject, sizeof(out->subject), "%s", c.subject);
	(void)snprintf(out->reader, sizeof(out->reader), "%s",
	    card_reader(card));
	(void)snprintf(object, sizeof(object), "operator:%s", op.name);
	if ((r = op_audit(p, op.name, "operator.signin", object,
	    card_reader(card), c.uuid, c.subject, NULL, why)) != PV_OK)
		memset(out, 0, sizeof(*out));
	goto out;
refused:
	/* The refusal is recorded; a failure to record it does not hide
	 * the refusal. */
	(void)op_audit(p, NULL, "operator.signin-refused", object,
	    card_reader(card), c.has_uuid ? c.uuid : NULL, c.subject, reason,
	    &ignore);
out:
	if (rep_out != NULL)
		*rep_out = c.rep;
	op_card_cleanup(&c);
	store_close(st);
	return r;
}
