/*
 * test_err.c: the one error list: names, texts and classes.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "apdu/err.h"

Test(err, every_code_has_name_text_and_class)
{
	int e;

	for (e = 0; e < PV_E__COUNT; e++) {
		cr_assert_str_neq(pv_strerror((enum pv_err)e), "unknown error");
		cr_assert_eq(strncmp(pv_errname((enum pv_err)e), "PV_", 3), 0);
		cr_assert_eq(pv_err_class((enum pv_err)e) == PV_CLASS_OK,
		    e == PV_OK, "%s", pv_errname((enum pv_err)e));
	}
	cr_assert_str_eq(pv_strerror(PV_E__COUNT), "unknown error");
	cr_assert_eq(pv_err_class(PV_E__COUNT), PV_CLASS_INTERNAL);
}

/* What the classes are for: decisions that used to be lists in three
 * places (and disagreed on PV_E_PROTO and PV_E_CANCELLED). */
Test(err, classes)
{
	static const struct { enum pv_err e; enum pv_class c; } t[] = {
		{ PV_E_NO_CARD, PV_CLASS_CARD_GONE },
		{ PV_E_RESET, PV_CLASS_CARD_GONE },
		{ PV_E_NO_SERVICE, PV_CLASS_CARD_GONE },
		{ PV_E_PROTO, PV_CLASS_CARD_GONE },
		{ PV_E_DIFFERENT_CARD, PV_CLASS_CARD_GONE },
		{ PV_E_TIMEOUT, PV_CLASS_CARD_GONE },
		{ PV_E_NOT_FOUND, PV_CLASS_CARD },
		{ PV_E_MALFORMED, PV_CLASS_CARD },
		{ PV_E_SW, PV_CLASS_CARD },
		{ PV_E_PIN_WRONG, PV_CLASS_AUTH },
		{ PV_E_BLOCKED, PV_CLASS_AUTH },
		{ PV_E_AUTH_FAILED, PV_CLASS_AUTH },
		{ PV_E_NO_FILE, PV_CLASS_INPUT },
		{ PV_E_CONFIG, PV_CLASS_INPUT },
		{ PV_E_NO_RECORD, PV_CLASS_STATE },
		{ PV_E_NOT_SET_UP, PV_CLASS_STATE },
		{ PV_E_EXISTS, PV_CLASS_STATE },
		{ PV_E_POLICY, PV_CLASS_STATE },
		{ PV_E_VERIFY, PV_CLASS_VERIFY },
		{ PV_E_CANCELLED, PV_CLASS_CANCEL },
		{ PV_E_DB, PV_CLASS_INTERNAL },
		{ PV_E_NOMEM, PV_CLASS_INTERNAL },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_assert_eq(pv_err_class(t[i].e), t[i].c, "%s is %s",
		    pv_errname(t[i].e), pv_class_name(pv_err_class(t[i].e)));
	cr_assert(pv_err_card_gone(PV_E_NO_CARD));
	cr_assert(!pv_err_card_gone(PV_E_CANCELLED));
	cr_assert(pv_err_aborts(PV_E_CANCELLED));
	cr_assert(pv_err_aborts(PV_E_NOMEM));
	cr_assert(pv_err_aborts(PV_E_NO_SERVICE));
	cr_assert(!pv_err_aborts(PV_E_NOT_FOUND));
	cr_assert(!pv_err_aborts(PV_E_PIN_WRONG));
	cr_assert_str_eq(pv_class_name(PV_CLASS_CARD_GONE), "card-gone");
}
