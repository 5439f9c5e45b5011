/*
 * latency.c: the card timing models (see latency.h for the figures).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vcard/latency.h"
#include "vcard/state.h"

/* Private-key operation and key generation times, microseconds. */
struct alg_time {
	uint8_t alg;
	uint64_t sign_us;
	uint64_t keygen_us;
};

/*
 * Published (jsign YubiKey 5 NFC benchmark): RSA-2048 and P-256
 * signatures.  Everything else is an assumption: RSA private operations
 * scaled by the cube of the modulus size, P-384 by the square of the
 * field size; key generation from the DESIGN.md guesses, scaled likewise.
 */
static const struct alg_time alg_times[] = {
	{ VC_ALG_RSA1024, 18000, 1000000 },
	{ VC_ALG_RSA2048, 138000, 4000000 },
	{ VC_ALG_RSA3072, 466000, 13500000 },
	{ VC_ALG_RSA4096, 1104000, 32000000 },
	{ VC_ALG_ECCP256, 72000, 100000 },
	{ VC_ALG_ECCP384, 162000, 225000 },
};

#define YK5_SELECT_US		1300
#define YK5_VERIFY_US		9100
#define YK5_MIN_APDU_US		1000
/* 7.3 ms for a ~1 KiB certificate read in 256-byte pieces. */
#define YK5_READ_NS_PER_BYTE	7130
/* Flash writes: assumed slower than reads. */
#define YK5_WRITE_NS_PER_BYTE	10000
#define YK5_ADMIN_US		1500

bool
vc_latency_parse(const char *spec, struct vc_latency *out,
    struct pv_why *why)
{
	char buf[128], *save = NULL, *tok;

	memset(out, 0, sizeof(*out));
	if (strlen(spec) >= sizeof(buf))
		goto bad;
	memcpy(buf, spec, strlen(spec) + 1);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "none") == 0) {
			out->yubikey5 = false;
		} else if (strcmp(tok, "yubikey5") == 0) {
			out->yubikey5 = true;
		} else if (strncmp(tok, "apdu=", 5) == 0) {
			char *end;
			double ms = strtod(tok + 5, &end);

			if (end == tok + 5 || *end != '\0' || !(ms >= 0) ||
			    ms > 60000)
				goto bad;
			out->base_us = (uint64_t)(ms * 1000.0 + 0.5);
		} else {
			goto bad;
		}
	}
	return true;
bad:
	pv_why_set(why, PV_E_INPUT, "latency \"%s\": expected none, yubikey5 "
	    "and/or apdu=MS, comma-separated", spec);
	return false;
}

static const struct alg_time *
find_alg(uint8_t alg)
{
	for (size_t i = 0; i < sizeof(alg_times) / sizeof(alg_times[0]); i++)
		if (alg_times[i].alg == alg)
			return &alg_times[i];
	return NULL;
}

uint64_t
vc_latency_us(const struct vc_latency *m, const struct vc_cost *cost)
{
	const struct alg_time *at;
	uint64_t t = 0;

	if (m->yubikey5) {
		switch (cost->op) {
		case VC_OP_SELECT:
			t = YK5_SELECT_US;
			break;
		case VC_OP_READ:
			t = (uint64_t)cost->bytes_out * YK5_READ_NS_PER_BYTE /
			    1000;
			break;
		case VC_OP_WRITE:
			t = (uint64_t)cost->bytes_in * YK5_WRITE_NS_PER_BYTE /
			    1000;
			break;
		case VC_OP_VERIFY:
			t = YK5_VERIFY_US;
			break;
		case VC_OP_SIGN:
			at = find_alg(cost->alg);
			t = at != NULL ? at->sign_us : 0;
			break;
		case VC_OP_KEYGEN:
			at = find_alg(cost->alg);
			t = at != NULL ? at->keygen_us : 0;
			break;
		case VC_OP_ADMIN:
			t = YK5_ADMIN_US;
			break;
		default:
			break;
		}
		if (t < YK5_MIN_APDU_US)
			t = YK5_MIN_APDU_US;
	}
	return t + m->base_us;
}
