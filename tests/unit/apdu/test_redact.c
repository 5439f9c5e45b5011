/*
 * test_redact.c: every redaction rule, in short, extended and chained
 * form, with and without conversation context.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/redact.h"
#include "tests/support/hex.h"

static uint8_t *
H(const char *hex, size_t *n)
{
	uint8_t *p;

	cr_assert_eq(hex_decode(hex, &p, n), 0, "bad test hex %s", hex);
	return p;
}

/* keep = -1: nothing masked.  Plain values: Criterion re-executes. */
struct rcase {
	char hex[160];
	int keep;
};

ParameterizedTestParameters(redact, commands)
{
	static const struct rcase cases[] = {
		/* VERIFY PIN: header + Lc kept, PIN masked. */
		{ "00 20 00 80 08 313233343536ffff", 5 },
		/* VERIFY status query and logout: nothing to hide. */
		{ "00 20 00 80", -1 },
		{ "00 20 00 80 00", -1 },
		{ "00 20 ff 80", -1 },
		/* Extended VERIFY: 00 Lc1 Lc2 kept. */
		{ "00 20 00 80 00 00 08 313233343536ffff", 7 },
		/* Chained VERIFY block (OCC) and its last block. */
		{ "10 20 00 96 04 01020304", 5 },
		{ "00 20 00 96 02 0506", 5 },
		/* CHANGE REFERENCE DATA, RESET RETRY COUNTER. */
		{ "00 24 00 80 10 313233343536ffff 373839303132ffff", 5 },
		{ "00 2c 00 80 10 3132333435363738 313233343536ffff", 5 },
		/* Case 4 VERIFY (Le after data): masked too. */
		{ "00 20 00 80 08 313233343536ffff 00", 5 },
		/* YubiKey IMPORT KEY (EC scalar) and SET MANAGEMENT KEY. */
		{ "00 fe 11 9a 22 06 20 0102030405060708090a0b0c0d0e0f10"
		  "1112131415161718191a1b1c1d1e1f20", 5 },
		{ "10 fe 07 9d 03 01 81 80", 5 },
		{ "00 ff ff ff 1b 03 9b 18 010203040506070801020304050607080102030405060708", 5 },
		/* PUT DATA 5FC109: tag list kept, object masked. */
		{ "00 db 3f ff 0f 5c 03 5f c1 09 53 08 88 06 89 04 01020304", 10 },
		{ "10 db 3f ff 0f 5c 03 5f c1 09 53 08 88 06 89 04 01020304", 10 },
		{ "00 db 3f ff 00 00 0f 5c 03 5f c1 09 53 08 88 06 89 04 01020304", 12 },
		/* PUT DATA of a certificate, discovery, BIT group: shown. */
		{ "00 db 3f ff 0a 5c 03 5f c1 05 53 03 70 01 00", -1 },
		{ "00 db 3f ff 05 7e 03 4f 01 00", -1 },
		{ "00 db 3f ff 04 7f 61 01 00", -1 },
		/* A PUT DATA block that starts mid-object: unknown, masked. */
		{ "00 db 3f ff 04 89 04 01 02", 5 },
		/* GENERAL AUTHENTICATE to 9B: shown (see redact.h). */
		{ "00 87 03 9b 04 7c 02 80 00", -1 },
		{ "00 87 03 9b 16 7c 14 80 08 0102030405060708 81 08 1112131415161718", -1 },
		/* Other commands: shown. */
		{ "00 a4 04 00 05 a000000308", -1 },
		{ "00 cb 3f ff 05 5c 03 5f c1 09 00", -1 },
		/* Malformed lengths: only the header of a secret INS kept. */
		{ "00 20 00 80 08 3132", 4 },
		{ "00 db 3f ff 09 5c", 4 },
		{ "00 a4 04 00 09 a0", -1 },
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	struct rcase *arr = cr_malloc(sizeof(cases));

	memcpy(arr, cases, sizeof(cases));
	return cr_make_param_array(struct rcase, arr, n);
}

ParameterizedTest(struct rcase *rc, redact, commands)
{
	size_t n, keep = 12345;
	uint8_t *p = H(rc->hex, &n);
	bool m = redact_cmd(p, n, &keep);

	if (rc->keep < 0) {
		cr_assert_not(m, "masked %s", rc->hex);
		cr_assert_eq(keep, n);
	} else {
		cr_assert(m, "not masked: %s", rc->hex);
		cr_assert_eq(keep, (size_t)rc->keep, "%s: keep %zu", rc->hex, keep);
	}
	free(p);
}

Test(redact, responses)
{
	struct { const char *cmd; bool masked; } t[] = {
		{ "00 cb 3f ff 05 5c 03 5f c1 09 00", true },
		{ "00 cb 3f ff 00 00 05 5c 03 5f c1 09 00 00", true },
		{ "00 cb 3f ff 05 5c 03 5f c1 02 00", false },
		{ "00 87 11 9d 47 7c 45 82 00 85 41 04", true },	/* bad Lc */
		{ "00 cb 3f ff 05 5c 03", true },			/* bad Lc */
		{ "00 87 11 9d 04 7c 02 82 00 00", true },
		{ "00 87 07 82 04 7c 02 82 00 00", true },
		{ "00 87 07 95 04 7c 02 82 00 00", true },
		{ "00 87 07 9a 04 7c 02 82 00 00", false },
		{ "00 87 03 9b 04 7c 02 80 00", false },
		{ "00 20 00 80", false },
	};
	size_t i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t *p = H(t[i].cmd, &n);

		cr_assert_eq(redact_rsp(p, n), t[i].masked, "%s", t[i].cmd);
		free(p);
	}
}

/* Feed a conversation; return the keep of the last command. */
static bool
ctx_cmd(struct redact_ctx *ctx, const char *hex, size_t *keep)
{
	size_t n;
	uint8_t *p = H(hex, &n);
	bool m = redact_ctx_cmd(ctx, p, n, keep);

	free(p);
	return m;
}

static bool
ctx_rsp(struct redact_ctx *ctx, const char *hex)
{
	size_t n;
	uint8_t *p = H(hex, &n);
	bool m = redact_ctx_rsp(ctx, p, n);

	free(p);
	return m;
}

Test(redact, context_follows_put_data_chain)
{
	struct redact_ctx ctx;
	size_t keep;

	redact_ctx_init(&ctx);
	/* 5FC109 over three blocks: every block's data masked. */
	cr_assert(ctx_cmd(&ctx, "10 db 3f ff 07 5c 03 5f c1 09 53 82", &keep));
	cr_assert_eq(keep, 10);
	cr_assert_not(ctx_rsp(&ctx, "9000"));
	cr_assert(ctx_cmd(&ctx, "10 db 3f ff 03 01 88 20", &keep));
	cr_assert_eq(keep, 5);
	cr_assert(ctx_cmd(&ctx, "00 db 3f ff 02 89 18", &keep));
	cr_assert_eq(keep, 5);
	/* A certificate chain afterwards: its later blocks are shown. */
	cr_assert_not(ctx_cmd(&ctx, "10 db 3f ff 07 5c 03 5f c1 05 53 82", &keep));
	cr_assert_not(ctx_cmd(&ctx, "10 db 3f ff 03 01 70 82", &keep));
	cr_assert_not(ctx_cmd(&ctx, "00 db 3f ff 02 30 82", &keep));
	cr_assert_eq(keep, 7);
	/* Without a chain in progress a mid-object block is masked. */
	cr_assert(ctx_cmd(&ctx, "00 db 3f ff 02 30 82", &keep));
}

Test(redact, context_follows_get_response)
{
	struct redact_ctx ctx;
	size_t keep;

	redact_ctx_init(&ctx);
	cr_assert_not(ctx_cmd(&ctx, "00 cb 3f ff 05 5c 03 5f c1 09 00", &keep));
	cr_assert(ctx_rsp(&ctx, "53 82 01 00 88 01 02 6110"));
	cr_assert_not(ctx_cmd(&ctx, "00 c0 00 00 10", &keep));
	cr_assert(ctx_rsp(&ctx, "0102030405060708090a0b0c0d0e0f10 9000"));
	/* The next GET RESPONSE without 61XX before it: shown. */
	cr_assert_not(ctx_cmd(&ctx, "00 c0 00 00 10", &keep));
	cr_assert_not(ctx_rsp(&ctx, "01 9000"));
	/* A GET RESPONSE after an ordinary 61XX answer: shown. */
	cr_assert_not(ctx_cmd(&ctx, "00 cb 3f ff 05 5c 03 5f c1 02 00", &keep));
	cr_assert_not(ctx_rsp(&ctx, "5300 6110"));
	cr_assert_not(ctx_cmd(&ctx, "00 c0 00 00 10", &keep));
	cr_assert_not(ctx_rsp(&ctx, "01 9000"));
	/* An SW-only answer has nothing to mask. */
	cr_assert_not(ctx_cmd(&ctx, "00 cb 3f ff 05 5c 03 5f c1 09 00", &keep));
	cr_assert_not(ctx_rsp(&ctx, "6982"));
}

Test(redact, context_verify_and_malformed)
{
	struct redact_ctx ctx;
	size_t keep;

	redact_ctx_init(&ctx);
	cr_assert(ctx_cmd(&ctx, "00 20 00 80 08 313233343536ffff", &keep));
	cr_assert_eq(keep, 5);
	cr_assert_not(ctx_rsp(&ctx, "9000"));
	/* Chained IMPORT KEY: every block masked. */
	cr_assert(ctx_cmd(&ctx, "10 fe 07 9a 02 01 81", &keep));
	cr_assert(ctx_cmd(&ctx, "00 fe 07 9a 02 01 02", &keep));
	/* A malformed command continuing a secret chain: header only. */
	cr_assert(ctx_cmd(&ctx, "10 db 3f ff 07 5c 03 5f c1 09 53 82", &keep));
	cr_assert(ctx_cmd(&ctx, "00 db 3f ff 09 01", &keep));
	cr_assert_eq(keep, 4);
	/* After a malformed command the answer is masked, to be safe. */
	cr_assert(ctx_rsp(&ctx, "01 9000"));
}

Test(redact, hex_formatting)
{
	uint8_t p[] = { 0x00, 0x20, 0x00, 0x80, 0x02, 0x31, 0x32 };
	char b[64];

	cr_assert_eq(redact_hex(b, sizeof(b), p, 7, 5, 2, false), 14);
	cr_assert_str_eq(b, "0020008002****");
	cr_assert_eq(redact_hex(b, sizeof(b), p, 7, 5, 100, true), 20);
	cr_assert_str_eq(b, "00 20 00 80 02 ** **");
	cr_assert_eq(redact_hex(b, sizeof(b), p, 7, 7, 0, true), 20);
	cr_assert_str_eq(b, "00 20 00 80 02 31 32");
	/* Too small: truncated, NUL-terminated, full size reported. */
	cr_assert_eq(redact_hex(b, 6, p, 7, 5, 2, false), 14);
	cr_assert_str_eq(b, "00200");
	cr_assert_eq(redact_hex(NULL, 0, p, 7, 5, 2, true), 20, "sizing call");
	cr_assert_eq(redact_hex(b, sizeof(b), p, 0, 0, 0, true), 0);
	cr_assert_str_eq(b, "");
	/* The PIN digits never appear, whatever the spacing. */
	redact_hex(b, sizeof(b), p, 7, 5, 2, true);
	cr_assert_null(strstr(b, "31"));
}
