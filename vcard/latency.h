/*
 * latency.h: card timing models for `pivstation-vcard --latency`.
 *
 * A model turns what a command did (struct vc_cost) into the time a real
 * token would take to answer; the vcard answers when that time has passed
 * since the command came (its own computing counts toward it, so 8 vcards
 * generating RSA keys on a 2-core machine still answer in the model's
 * time), so benchmarks measure the middleware and not this machine's CPU.
 *
 *   none       no delay (default)
 *   yubikey5   published YubiKey 5 figures over USB (DESIGN.md "Card
 *              timing model"): SELECT 1.3 ms, certificate read 7.3 ms,
 *              VERIFY 9.1 ms, RSA-2048 signature 138 ms, P-256 signature
 *              72 ms; assumed, with no published source: RSA-2048 keygen
 *              4 s, P-256 keygen 0.1 s, and the other sizes scaled
 *   apdu=MS    a fixed extra MS milliseconds per APDU (decimals allowed),
 *              alone or after a model: "yubikey5,apdu=0.5"
 */
#ifndef PV_VCARD_LATENCY_H
#define PV_VCARD_LATENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "apdu/err.h"
#include "vcard/card.h"

struct vc_latency {
	bool yubikey5;
	uint64_t base_us;	/* added to every APDU */
};

/* vc_latency_parse reads a model spec; false (with |why|) if malformed. */
bool vc_latency_parse(const char *spec, struct vc_latency *out,
    struct pv_why *why);

/* vc_latency_us is the time in microseconds |cost| takes under |m|. */
uint64_t vc_latency_us(const struct vc_latency *m, const struct vc_cost *cost);

#endif /* PV_VCARD_LATENCY_H */
