/*
 * pcsc-probe.c: a tiny PC/SC client for the sandbox scripts.  It never
 * sends an APDU unless asked to (transmit), so probing does not disturb
 * the cards' APDU counters, faults or statistics.
 *
 *   pv-pcsc-probe list                         reader, state, ATR per line
 *   pv-pcsc-probe wait-present MS READER...    until every READER has a card
 *   pv-pcsc-probe wait-absent MS READER...     until no READER has a card
 *   pv-pcsc-probe wait-ready MS READER         until the card in READER
 *                                              answers a SELECT of the PIV
 *                                              application (a card pcscd
 *                                              still shows after a pull it
 *                                              has not polled yet fails it)
 *   pv-pcsc-probe wait-service MS              until pcscd answers
 *   pv-pcsc-probe reset READER                 warm-reset the card (other
 *                                              handles get SCARD_W_RESET_CARD)
 *   pv-pcsc-probe transmit READER HEX...       send each APDU as is (no
 *                                              GET RESPONSE), print
 *                                              "<response hex>" per line;
 *                                              a response under 2 bytes
 *                                              ends it with status 1
 *   pv-pcsc-probe control READER CODE [HEX [APDU...]]
 *                                              SCardControl(CODE, HEX) on
 *                                              a shared connection to the
 *                                              card, print the answer in
 *                                              hex (CODE in hex, e.g.
 *                                              42000D48); each APDU (e.g.
 *                                              a SELECT) is sent first on
 *                                              the same connection and
 *                                              must answer 9000 (pcscd
 *                                              powers an unused card
 *                                              down, losing the selection)
 *
 * Exit status: 0 done, 1 timed out or PC/SC error, 2 usage.
 * Built by tests/sandbox/run (cc + libpcsclite), not by the Makefile.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <winscard.h>

#define MAX_READERS 32

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int
establish(SCARDCONTEXT *ctx)
{
	LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, ctx);

	return rv == SCARD_S_SUCCESS ? 0 : -1;
}

/* Fills |states| with the current state of |names|; -1 on error. */
static int
snapshot(SCARDCONTEXT ctx, char **names, int n, SCARD_READERSTATE *states)
{
	LONG rv;

	for (int i = 0; i < n; i++) {
		memset(&states[i], 0, sizeof(states[i]));
		states[i].szReader = names[i];
		states[i].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	rv = SCardGetStatusChange(ctx, 0, states, (DWORD)n);
	return rv == SCARD_S_SUCCESS ? 0 : -1;
}

static int
cmd_wait(char **names, int n, long ms, int want_present)
{
	SCARD_READERSTATE st[MAX_READERS];
	SCARDCONTEXT ctx = 0;
	long deadline = now_ms() + ms;
	int have_ctx = 0;

	if (n > MAX_READERS)
		return 2;
	for (;;) {
		if (!have_ctx)
			have_ctx = establish(&ctx) == 0;
		if (have_ctx && snapshot(ctx, names, n, st) == 0) {
			int ok = 1;

			for (int i = 0; i < n; i++) {
				DWORD s = st[i].dwEventState;
				int present = (s & SCARD_STATE_PRESENT) &&
				    !(s & SCARD_STATE_MUTE) &&
				    !(s & SCARD_STATE_UNKNOWN);

				if (present != want_present)
					ok = 0;
			}
			if (ok) {
				SCardReleaseContext(ctx);
				return 0;
			}
		} else if (have_ctx) {
			SCardReleaseContext(ctx);
			have_ctx = 0;
		}
		if (now_ms() >= deadline)
			break;
		nap(40);
	}
	if (have_ctx)
		SCardReleaseContext(ctx);
	return 1;
}

static int
cmd_service(long ms)
{
	SCARDCONTEXT ctx;
	long deadline = now_ms() + ms;

	for (;;) {
		if (establish(&ctx) == 0) {
			SCardReleaseContext(ctx);
			return 0;
		}
		if (now_ms() >= deadline)
			return 1;
		nap(40);
	}
}

static int
cmd_list(void)
{
	SCARD_READERSTATE st[MAX_READERS];
	SCARDCONTEXT ctx;
	char *buf = NULL, *names[MAX_READERS];
	DWORD len = SCARD_AUTOALLOCATE;
	int n = 0;

	if (establish(&ctx) != 0)
		return 1;
	if (SCardListReaders(ctx, NULL, (LPSTR)&buf, &len) != SCARD_S_SUCCESS) {
		SCardReleaseContext(ctx);
		return 0;	/* no readers */
	}
	for (char *p = buf; *p != '\0' && n < MAX_READERS; p += strlen(p) + 1)
		names[n++] = p;
	if (snapshot(ctx, names, n, st) == 0) {
		for (int i = 0; i < n; i++) {
			printf("%s\t%s\t", names[i],
			    (st[i].dwEventState & SCARD_STATE_PRESENT) ?
			    "present" : "empty");
			for (DWORD j = 0; j < st[i].cbAtr; j++)
				printf("%02X", st[i].rgbAtr[j]);
			printf("\n");
		}
	}
	SCardFreeMemory(ctx, buf);
	SCardReleaseContext(ctx);
	return 0;
}

static int
connect_card(const char *reader, SCARDCONTEXT *ctx, SCARDHANDLE *h,
    DWORD *proto)
{
	if (establish(ctx) != 0)
		return -1;
	if (SCardConnect(*ctx, reader, SCARD_SHARE_SHARED,
	    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, h, proto) !=
	    SCARD_S_SUCCESS) {
		SCardReleaseContext(*ctx);
		return -1;
	}
	return 0;
}

static int
cmd_reset(const char *reader)
{
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto;
	LONG rv;

	if (connect_card(reader, &ctx, &h, &proto) != 0)
		return 1;
	rv = SCardDisconnect(h, SCARD_RESET_CARD);
	SCardReleaseContext(ctx);
	return rv == SCARD_S_SUCCESS ? 0 : 1;
}

/*
 * Ready = pcscd lets us connect and the card behind the reader answers
 * SELECT PIV with 9000 or 61XX.  "Present" alone is not enough after a
 * pull-and-reinsert: pcscd polls the driver, so for a while it can show
 * the card that was pulled, then report it gone.  Once a SELECT has gone
 * through, the card is back for good.
 */
static int
cmd_ready(const char *reader, long ms)
{
	static const unsigned char sel[] = { 0x00, 0xa4, 0x04, 0x00, 0x0b,
	    0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
	    0x00 };
	long deadline = now_ms() + ms;

	for (;;) {
		SCARDCONTEXT ctx;
		SCARDHANDLE h;
		DWORD proto, rlen;
		unsigned char rsp[258];

		if (connect_card(reader, &ctx, &h, &proto) == 0) {
			LONG rv;

			rlen = sizeof(rsp);
			rv = SCardTransmit(h, proto == SCARD_PROTOCOL_T0 ?
			    SCARD_PCI_T0 : SCARD_PCI_T1, sel, sizeof(sel), NULL,
			    rsp, &rlen);
			SCardDisconnect(h, SCARD_LEAVE_CARD);
			SCardReleaseContext(ctx);
			if (rv == SCARD_S_SUCCESS && rlen >= 2 &&
			    (rsp[rlen - 2] == 0x61 || (rsp[rlen - 2] == 0x90 &&
			    rsp[rlen - 1] == 0x00)))
				return 0;
		}
		if (now_ms() >= deadline)
			return 1;
		nap(40);
	}
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int
cmd_transmit(const char *reader, char **hex, int n)
{
	static unsigned char cmd[65544], rsp[65544];
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto, rlen;
	int rc = 0;

	if (connect_card(reader, &ctx, &h, &proto) != 0) {
		fprintf(stderr, "pv-pcsc-probe: cannot connect to %s\n", reader);
		return 1;
	}
	for (int i = 0; i < n && rc == 0; i++) {
		size_t clen = 0;
		int hi = -1;

		for (const char *p = hex[i]; *p != '\0'; p++) {
			int v = hexval(*p);

			if (v < 0)
				continue;	/* spaces, colons */
			if (hi < 0) {
				hi = v;
			} else if (clen < sizeof(cmd)) {
				cmd[clen++] = (unsigned char)(hi << 4 | v);
				hi = -1;
			}
		}
		rlen = sizeof(rsp);
		if (SCardTransmit(h, proto == SCARD_PROTOCOL_T0 ?
		    SCARD_PCI_T0 : SCARD_PCI_T1, cmd, (DWORD)clen, NULL, rsp,
		    &rlen) != SCARD_S_SUCCESS) {
			fprintf(stderr, "pv-pcsc-probe: transmit failed\n");
			rc = 1;
			break;
		}
		for (DWORD j = 0; j < rlen; j++)
			printf("%02X", rsp[j]);
		printf("\n");
		if (rlen < 2) {
			/* vpcd reports a card that vanished mid-APDU as a
			 * successful exchange of 0 bytes. */
			fprintf(stderr, "pv-pcsc-probe: response of %lu bytes "
			    "(card gone?)\n", (unsigned long)rlen);
			rc = 1;
		}
	}
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
	return rc;
}

static size_t
unhex(const char *s, unsigned char *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s != '\0'; s++) {
		int v = hexval(*s);

		if (v < 0)
			continue;	/* spaces, colons */
		if (hi < 0) {
			hi = v;
		} else if (n < cap) {
			out[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

static int
cmd_control(const char *reader, const char *code_s, const char *hex,
    char **pre, int npre)
{
	static unsigned char in[65544], out[65544];
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto, rlen = 0;
	LONG rv = SCARD_S_SUCCESS;
	unsigned long code;
	size_t n;
	char *end;

	code = strtoul(code_s, &end, 16);
	if (*code_s == '\0' || *end != '\0') {
		fprintf(stderr, "pv-pcsc-probe: bad control code %s\n", code_s);
		return 2;
	}
	if (connect_card(reader, &ctx, &h, &proto) != 0) {
		fprintf(stderr, "pv-pcsc-probe: cannot connect to %s\n", reader);
		return 1;
	}
	for (int i = 0; i < npre && rv == SCARD_S_SUCCESS; i++) {
		size_t alen = unhex(pre[i], in, sizeof(in));

		rlen = sizeof(out);
		rv = SCardTransmit(h, proto == SCARD_PROTOCOL_T0 ?
		    SCARD_PCI_T0 : SCARD_PCI_T1, in, (DWORD)alen, NULL, out,
		    &rlen);
		if (rv == SCARD_S_SUCCESS && (rlen < 2 ||
		    out[rlen - 2] != 0x90 || out[rlen - 1] != 0x00)) {
			fprintf(stderr, "pv-pcsc-probe: APDU %s failed\n",
			    pre[i]);
			SCardDisconnect(h, SCARD_LEAVE_CARD);
			SCardReleaseContext(ctx);
			return 1;
		}
	}
	n = hex ? unhex(hex, in, sizeof(in)) : 0;
	rlen = 0;
	if (rv == SCARD_S_SUCCESS)
		rv = SCardControl(h, (DWORD)code, in, (DWORD)n, out,
		    sizeof(out), &rlen);
	if (rv == SCARD_S_SUCCESS) {
		for (DWORD j = 0; j < rlen; j++)
			printf("%02X", out[j]);
		printf("\n");
	} else {
		fprintf(stderr, "pv-pcsc-probe: control: %s (0x%08lX)\n",
		    pcsc_stringify_error(rv), (unsigned long)rv);
	}
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
	return rv == SCARD_S_SUCCESS ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return cmd_list();
	if (argc >= 3 && strcmp(argv[1], "wait-service") == 0)
		return cmd_service(atol(argv[2]));
	if (argc >= 4 && strcmp(argv[1], "wait-present") == 0)
		return cmd_wait(argv + 3, argc - 3, atol(argv[2]), 1);
	if (argc >= 4 && strcmp(argv[1], "wait-absent") == 0)
		return cmd_wait(argv + 3, argc - 3, atol(argv[2]), 0);
	if (argc == 4 && strcmp(argv[1], "wait-ready") == 0)
		return cmd_ready(argv[3], atol(argv[2]));
	if (argc == 3 && strcmp(argv[1], "reset") == 0)
		return cmd_reset(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "transmit") == 0)
		return cmd_transmit(argv[2], argv + 3, argc - 3);
	if (argc >= 4 && strcmp(argv[1], "control") == 0)
		return cmd_control(argv[2], argv[3], argc >= 5 ? argv[4] : NULL,
		    argv + 5, argc > 5 ? argc - 5 : 0);
	fprintf(stderr, "usage: pv-pcsc-probe list | wait-service MS | "
	    "wait-present MS READER... | wait-absent MS READER... | "
	    "wait-ready MS READER | "
	    "reset READER | transmit READER HEX... | "
	    "control READER CODE [HEX [APDU...]]\n");
	return 2;
}
