/*
 * conn.c: one card connection: connect with the right protocol, the
 * transport callback apdu/ uses (SCardTransmit with the PCI of the active
 * protocol), transactions, and the reconnect that acknowledges a reset by
 * another program.
 */
#include <stdlib.h>
#include <string.h>

#include "pcsc/internal.h"
#include "pcsc/rc.h"

struct pcsc_card {
	struct pcsc_ctx *c;
	SCARDHANDLE h;
	bool connected;
	bool in_tx;
	enum pcsc_share share;
	DWORD proto;
	char reader[PCSC_READER_NAME_MAX];
	uint8_t atr[ATR_MAX_LEN];
	size_t atr_len;
	struct pcsc_stats st;
};

static DWORD
pcsc_share_mode(enum pcsc_share s)
{
	switch (s) {
	case PCSC_SHARE_EXCLUSIVE: return SCARD_SHARE_EXCLUSIVE;
	case PCSC_SHARE_DIRECT: return SCARD_SHARE_DIRECT;
	default: return SCARD_SHARE_SHARED;
	}
}

static void
pcsc_card_read_status(struct pcsc_card *k)
{
	char name[PCSC_READER_NAME_MAX];
	DWORD name_len = sizeof(name), state = 0, proto = 0;
	BYTE atr[MAX_ATR_SIZE + 3];
	DWORD atr_len = sizeof(atr);
	LONG rc;

	rc = k->c->sys->status(k->h, name, &name_len, &state, &proto, atr,
	    &atr_len);
	if (rc != SCARD_S_SUCCESS || atr_len > ATR_MAX_LEN)
		return;
	memcpy(k->atr, atr, atr_len);
	k->atr_len = atr_len;
}

enum pv_err
pcsc_card_connect(struct pcsc_ctx *c, const char *reader,
    enum pcsc_share share, struct pcsc_card **out)
{
	struct pcsc_card *k = NULL;
	DWORD proto = 0;
	LONG rc = SCARD_F_INTERNAL_ERROR;
	enum pv_err r = PV_E_INTERNAL;
	int attempt;

	*out = NULL;
	if (reader == NULL || strlen(reader) >= PCSC_READER_NAME_MAX) {
		r = PV_E_INVAL;
		goto out;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	k->c = c;
	k->share = share;
	memcpy(k->reader, reader, strlen(reader) + 1);
	for (attempt = 0; attempt < 2; attempt++) {
		if ((r = pcsc_ctx_ensure(c)) != PV_OK)
			goto out;
		rc = c->sys->connect(pcsc_ctx_handle(c), reader,
		    pcsc_share_mode(share),
		    share == PCSC_SHARE_DIRECT ? 0 :
		    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &k->h, &proto);
		if (rc == SCARD_S_SUCCESS || !pcsc_ctx_lost(c, rc))
			break;
	}
	if (rc != SCARD_S_SUCCESS) {
		r = pcsc_note_rc(c, "SCardConnect", rc);
		goto out;
	}
	k->connected = true;
	k->proto = proto;
	pcsc_card_read_status(k);
	pcsc_log(c, "%s: %s: T=%d, ATR %zu bytes", __func__, reader,
	    proto == SCARD_PROTOCOL_T0 ? 0 : proto == SCARD_PROTOCOL_T1 ? 1 : -1,
	    k->atr_len);
	*out = k;
	k = NULL;
	r = PV_OK;
out:
	free(k);
	return r;
}

void
pcsc_card_free(struct pcsc_card *k, bool reset)
{
	if (k == NULL)
		return;
	if (k->connected) {
		if (k->in_tx)
			(void)k->c->sys->end(k->h, SCARD_LEAVE_CARD);
		(void)k->c->sys->disconnect(k->h,
		    reset ? SCARD_RESET_CARD : SCARD_LEAVE_CARD);
	}
	free(k);
}

const char *
pcsc_card_reader(const struct pcsc_card *k)
{
	return k->reader;
}

int
pcsc_card_protocol(const struct pcsc_card *k)
{
	if (k->proto == SCARD_PROTOCOL_T0)
		return 0;
	if (k->proto == SCARD_PROTOCOL_T1)
		return 1;
	return -1;
}

const uint8_t *
pcsc_card_atr(const struct pcsc_card *k, size_t *len)
{
	*len = k->atr_len;
	return k->atr;
}

void
pcsc_card_stats(const struct pcsc_card *k, struct pcsc_stats *out)
{
	*out = k->st;
}

struct pcsc_ctx *
pcsc_card_ctx(const struct pcsc_card *k)
{
	return k->c;
}

enum pv_err
pcsc_card_reconnect(struct pcsc_card *k, bool reset)
{
	DWORD proto = 0;
	LONG rc;

	if (!k->connected)
		return PV_E_NO_CARD;
	rc = k->c->sys->reconnect(k->h, pcsc_share_mode(k->share),
	    k->share == PCSC_SHARE_DIRECT ? 0 :
	    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
	    reset ? SCARD_RESET_CARD : SCARD_LEAVE_CARD, &proto);
	if (rc != SCARD_S_SUCCESS) {
		if (pcsc_ctx_lost(k->c, rc))
			k->connected = false;
		return pcsc_note_rc(k->c, "SCardReconnect", rc);
	}
	k->proto = proto;
	k->st.n_reconnects++;
	k->in_tx = false;	/* a reconnect ends any transaction */
	pcsc_card_read_status(k);
	return PV_OK;
}

/*
 * After SCARD_W_RESET_CARD: acknowledge with SCardReconnect (no second
 * reset), re-take the transaction we held, and tell the caller.
 */
static enum pv_err
pcsc_card_on_reset(struct pcsc_card *k)
{
	bool had_tx = k->in_tx;
	enum pv_err r;
	LONG rc;

	pcsc_log(k->c, "%s: %s: card was reset by another program", __func__,
	    k->reader);
	k->st.n_resets++;
	if ((r = pcsc_card_reconnect(k, false)) != PV_OK)
		return r;
	if (had_tx) {
		rc = k->c->sys->begin(k->h);
		if (rc != SCARD_S_SUCCESS)
			return pcsc_note_rc(k->c, "SCardBeginTransaction", rc);
		k->in_tx = true;
	}
	return PV_E_RESET;
}

/*
 * After a failed exchange: is the card still there?  A card pulled in the
 * middle of an APDU often shows up as a generic error (vpcd:
 * SCARD_E_NOT_TRANSACTED) before pcscd notices the removal.
 */
static bool
pcsc_card_gone(struct pcsc_card *k)
{
	char name[PCSC_READER_NAME_MAX];
	DWORD name_len = sizeof(name), state = 0, proto = 0;
	BYTE atr[MAX_ATR_SIZE + 3];
	DWORD atr_len = sizeof(atr);
	LONG rc;

	rc = k->c->sys->status(k->h, name, &name_len, &state, &proto, atr,
	    &atr_len);
	return rc == SCARD_W_REMOVED_CARD || rc == SCARD_E_NO_SMARTCARD ||
	    (rc == SCARD_S_SUCCESS && (state & SCARD_ABSENT) != 0);
}

/* Maps a failed card call; the connection dies with the card or pcscd. */
static enum pv_err
pcsc_card_fail(struct pcsc_card *k, const char *call, LONG rc)
{
	enum pv_err r = pcsc_note_rc(k->c, call, rc);

	if (rc == SCARD_W_RESET_CARD)
		return pcsc_card_on_reset(k);
	if (pcsc_ctx_lost(k->c, rc)) {
		k->connected = false;
		return PV_E_NO_SERVICE;
	}
	if (rc == SCARD_W_REMOVED_CARD || rc == SCARD_E_NO_SMARTCARD)
		return PV_E_NO_CARD;
	/* pcsc-lite reports an exchange the reader could not complete (a
	 * card pulled mid-APDU) as SCARD_E_NOT_TRANSACTED: a transport
	 * failure, not a misuse of transactions
	 * (firmware-notes/vpcd-empty-response.md). */
	if (rc == SCARD_E_NOT_TRANSACTED &&
	    strcmp(call, "SCardEndTransaction") != 0)
		r = PV_E_TRANSPORT;
	if (r == PV_E_TRANSPORT && pcsc_card_gone(k))
		return PV_E_NO_CARD;	/* say why the exchange failed */
	return r;
}

static enum pv_err
pcsc_card_xfer(void *arg, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp,
    size_t rsp_cap, size_t *rsp_len)
{
	struct pcsc_card *k = arg;
	SCARD_IO_REQUEST pci;
	DWORD rlen;
	uint64_t t0;
	LONG rc;

	*rsp_len = 0;
	if (!k->connected)
		return PV_E_NO_CARD;
	if (cmd_len > MAX_BUFFER_SIZE_EXTENDED || rsp_cap < 2)
		return PV_E_INVAL;
	if (rsp_cap > MAX_BUFFER_SIZE_EXTENDED)
		rsp_cap = MAX_BUFFER_SIZE_EXTENDED;
	pci.dwProtocol = k->proto;
	pci.cbPciLength = sizeof(pci);
	rlen = (DWORD)rsp_cap;
	t0 = pcsc_now_ns();
	rc = k->c->sys->transmit(k->h, &pci, cmd, (DWORD)cmd_len, NULL, rsp,
	    &rlen);
	k->st.ns_transmit += pcsc_now_ns() - t0;
	if (rc != SCARD_S_SUCCESS)
		return pcsc_card_fail(k, "SCardTransmit", rc);
	(void)pcsc_note_rc(k->c, "SCardTransmit", rc);	/* no stale code */
	k->st.n_apdus++;
	k->st.bytes_out += cmd_len;
	if (rlen == 0) {
		/* vpcd answers a dropped card connection with an empty
		 * response before pcscd notices the removal
		 * (firmware-notes/vpcd-empty-response.md). */
		pcsc_log(k->c, "%s: %s: empty response: card removed", __func__,
		    k->reader);
		return PV_E_NO_CARD;
	}
	if (rlen > rsp_cap || rlen < 2) {
		pcsc_log(k->c, "%s: response of %lu bytes", __func__,
		    (unsigned long)rlen);
		return pcsc_card_gone(k) ? PV_E_NO_CARD : PV_E_TRANSPORT;
	}
	k->st.bytes_in += rlen;
	*rsp_len = rlen;
	return PV_OK;
}

struct apdu_transport
pcsc_card_transport(struct pcsc_card *k)
{
	struct apdu_transport t = { .xfer = pcsc_card_xfer, .ctx = k };

	return t;
}

enum pv_err
pcsc_card_begin(struct pcsc_card *k)
{
	LONG rc;

	if (!k->connected)
		return PV_E_NO_CARD;
	if (k->in_tx)
		return PV_OK;
	rc = k->c->sys->begin(k->h);
	if (rc == SCARD_W_RESET_CARD) {
		(void)pcsc_note_rc(k->c, "SCardBeginTransaction", rc);
		k->in_tx = true;	/* re-taken by on_reset */
		return pcsc_card_on_reset(k);
	}
	if (rc != SCARD_S_SUCCESS)
		return pcsc_card_fail(k, "SCardBeginTransaction", rc);
	k->in_tx = true;
	return PV_OK;
}

enum pv_err
pcsc_card_end(struct pcsc_card *k)
{
	LONG rc;

	if (!k->connected || !k->in_tx)
		return PV_OK;
	k->in_tx = false;
	rc = k->c->sys->end(k->h, SCARD_LEAVE_CARD);
	if (rc != SCARD_S_SUCCESS && rc != SCARD_W_RESET_CARD)
		return pcsc_card_fail(k, "SCardEndTransaction", rc);
	return PV_OK;
}

enum pv_err
pcsc_card_control(struct pcsc_card *k, uint32_t code, const uint8_t *in,
    size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
	DWORD got = 0;
	LONG rc;

	*out_len = 0;
	if (!k->connected)
		return PV_E_NO_CARD;
	rc = k->c->sys->control(k->h, (DWORD)code, in, (DWORD)in_len, out,
	    (DWORD)out_cap, &got);
	if (rc != SCARD_S_SUCCESS)
		return pcsc_card_fail(k, "SCardControl", rc);
	if (got > out_cap)
		return PV_E_TRANSPORT;
	*out_len = got;
	return PV_OK;
}

enum pv_err
pcsc_card_attr(struct pcsc_card *k, uint32_t id, uint8_t *out, size_t cap,
    size_t *out_len)
{
	DWORD len = (DWORD)cap;
	LONG rc;

	*out_len = 0;
	if (!k->connected)
		return PV_E_NO_CARD;
	rc = k->c->sys->get_attrib(k->h, (DWORD)id, out, &len);
	if (rc != SCARD_S_SUCCESS) {
		(void)pcsc_note_rc(k->c, "SCardGetAttrib", rc);
		return rc == SCARD_E_UNSUPPORTED_FEATURE ||
		    rc == SCARD_E_INVALID_PARAMETER ? PV_E_NOT_SUPPORTED :
		    pcsc_card_fail(k, "SCardGetAttrib", rc);
	}
	if (len > cap)
		return PV_E_TRANSPORT;
	*out_len = len;
	return PV_OK;
}
