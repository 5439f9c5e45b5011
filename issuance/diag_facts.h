/*
 * diag_facts.h: the facts `pivstation diag` finds about a reader and the
 * PIV card in it (pcsc/diag.h reads them), interpreted for a person as a
 * list of (section, label, value) lines: what the console's diagnostics
 * screen shows without reaching pcsc/ itself.  Certificates are decoded
 * here (subject, expiry, key); card- and reader-supplied text is kept as
 * it came: print it through apdu/text.h.
 */
#ifndef PV_ISSUANCE_DIAG_FACTS_H
#define PV_ISSUANCE_DIAG_FACTS_H

#include <stddef.h>

#include "apdu/err.h"

#define DIAG_FACT_SECTION_MAX	24
#define DIAG_FACT_LABEL_MAX	32
#define DIAG_FACT_VALUE_MAX	224

struct diag_fact {
	char section[DIAG_FACT_SECTION_MAX];	/* "reader", "PIV", ... */
	char label[DIAG_FACT_LABEL_MAX];
	char value[DIAG_FACT_VALUE_MAX];
};

struct diag_facts {
	struct diag_fact *v;		/* owned */
	size_t n, cap;
};

/*
 * diag_facts_read probes the card in |reader| (a reader's whole name, or
 * what pcsc_reader_pick takes) without a PIN and fills |out| (zeroed
 * first; diag_facts_free).  Returns PV_OK, or the error that stopped the
 * probe with |why| (what was read before it is kept in |out|).
 */
enum pv_err diag_facts_read(const char *reader, struct diag_facts *out,
    struct pv_why *why);

void diag_facts_free(struct diag_facts *f);

#endif /* PV_ISSUANCE_DIAG_FACTS_H */
