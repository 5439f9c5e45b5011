/*
 * fake_pcsc.c: the scripted pcsc-lite of fake_pcsc.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/pcsc/fake_pcsc.h"

struct fake_pcsc fk;

static const uint8_t fake_yk5_atr[] = { 0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81,
    0x31, 0xfe, 0x15, 0x80, 0x73, 0xc0, 0x21, 0xc0, 0x57, 0x59, 0x75, 0x62,
    0x69, 0x4b, 0x65, 0x79, 0x40 };

void
fake_pcsc_reset(void)
{
	fake_card_free(fk.card);
	memset(&fk, 0, sizeof(fk));
	fk.service_up = true;
	fk.proto = SCARD_PROTOCOL_T1;
}

struct fake_reader *
fake_pcsc_add_reader(const char *name, bool card)
{
	struct fake_reader *r = &fk.r[fk.n_readers++];

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	if (card) {
		r->present = true;
		memcpy(r->atr, fake_yk5_atr, sizeof(fake_yk5_atr));
		r->atr_len = sizeof(fake_yk5_atr);
		r->events = 1;
	}
	return r;
}

void
fake_pcsc_remove_reader(const char *name)
{
	size_t i;

	for (i = 0; i < fk.n_readers; i++)
		if (strcmp(fk.r[i].name, name) == 0) {
			memmove(&fk.r[i], &fk.r[i + 1],
			    (fk.n_readers - i - 1) * sizeof(fk.r[0]));
			fk.n_readers--;
			return;
		}
}

void
fake_pcsc_on_wait(fake_mutation_fn *fn)
{
	fk.on_wait[fk.n_on_wait++] = fn;
}

static struct fake_reader *
find(const char *name)
{
	size_t i;

	for (i = 0; i < fk.n_readers; i++)
		if (strcmp(fk.r[i].name, name) == 0)
			return &fk.r[i];
	return NULL;
}

static LONG
f_establish(DWORD scope, LPCVOID r1, LPCVOID r2, LPSCARDCONTEXT ctx)
{
	(void)scope;
	(void)r1;
	(void)r2;
	fk.n_establish++;
	if (!fk.service_up) {
		if (fk.service_back_after > 0 && --fk.service_back_after == 0)
			fk.service_up = true;
		return SCARD_E_NO_SERVICE;
	}
	*ctx = 0x1234;
	return SCARD_S_SUCCESS;
}

static LONG
f_release(SCARDCONTEXT ctx)
{
	(void)ctx;
	fk.n_release++;
	return SCARD_S_SUCCESS;
}

static LONG
f_is_valid(SCARDCONTEXT ctx)
{
	(void)ctx;
	return SCARD_S_SUCCESS;
}

static LONG
f_list_readers(SCARDCONTEXT ctx, LPCSTR groups, LPSTR buf, LPDWORD len)
{
	size_t need = 1, i, o = 0;

	(void)ctx;
	(void)groups;
	if (!fk.service_up)
		return SCARD_E_NO_SERVICE;
	if (fk.n_readers == 0)
		return SCARD_E_NO_READERS_AVAILABLE;
	for (i = 0; i < fk.n_readers; i++)
		need += strlen(fk.r[i].name) + 1;
	if (buf == NULL) {
		*len = (DWORD)need;
		return SCARD_S_SUCCESS;
	}
	if (*len < need)
		return SCARD_E_INSUFFICIENT_BUFFER;
	for (i = 0; i < fk.n_readers; i++) {
		memcpy(buf + o, fk.r[i].name, strlen(fk.r[i].name) + 1);
		o += strlen(fk.r[i].name) + 1;
	}
	buf[o] = '\0';
	*len = (DWORD)need;
	return SCARD_S_SUCCESS;
}

/* One pass over |st|: true if anything changed. */
static LONG
gsc_pass(SCARD_READERSTATE *st, DWORD n, size_t n_at_start, bool *changed)
{
	DWORD i, now;
	struct fake_reader *r;

	*changed = false;
	for (i = 0; i < n; i++) {
		if (strcmp(st[i].szReader, PCSC_PNP_READER) == 0 &&
		    fk.pnp_during_call_only) {
			st[i].dwEventState = 0;
			if (fk.n_readers != n_at_start) {
				st[i].dwEventState = SCARD_STATE_CHANGED;
				*changed = true;
			}
			continue;
		}
		if (strcmp(st[i].szReader, PCSC_PNP_READER) == 0) {
			now = (DWORD)fk.n_readers << 16;
			if ((st[i].dwCurrentState >> 16) != fk.n_readers) {
				st[i].dwEventState = now | SCARD_STATE_CHANGED;
				*changed = true;
			} else {
				st[i].dwEventState = now;
			}
			continue;
		}
		if ((r = find(st[i].szReader)) == NULL)
			return SCARD_E_UNKNOWN_READER;
		now = ((DWORD)r->events << 16) | (r->present ?
		    SCARD_STATE_PRESENT : SCARD_STATE_EMPTY);
		st[i].cbAtr = 0;
		if (r->present) {
			memcpy(st[i].rgbAtr, r->atr, r->atr_len);
			st[i].cbAtr = (DWORD)r->atr_len;
		}
		if (st[i].dwCurrentState == SCARD_STATE_UNAWARE ||
		    (st[i].dwCurrentState & ~(DWORD)SCARD_STATE_CHANGED) != now) {
			st[i].dwEventState = now | SCARD_STATE_CHANGED;
			*changed = true;
		} else {
			st[i].dwEventState = now;
		}
	}
	return SCARD_S_SUCCESS;
}

static LONG
f_get_status_change(SCARDCONTEXT ctx, DWORD timeout, SCARD_READERSTATE *st,
    DWORD n)
{
	bool changed, waited = false;
	size_t n_at_start = fk.n_readers;
	fake_mutation_fn *after;
	LONG rc;

	(void)ctx;
	fk.n_gsc++;
	for (;;) {
		if (!fk.service_up)
			return SCARD_F_COMM_ERROR;	/* as pcsc-lite does */
		if ((rc = gsc_pass(st, n, n_at_start, &changed)) !=
		    SCARD_S_SUCCESS)
			return rc;
		if (changed) {
			if (waited && (after = fk.on_return) != NULL) {
				fk.on_return = NULL;
				after();
			}
			return SCARD_S_SUCCESS;
		}
		if (timeout == 0 || fk.next_on_wait >= fk.n_on_wait)
			return SCARD_E_TIMEOUT;
		fk.on_wait[fk.next_on_wait++]();
		waited = true;
	}
}

static LONG
f_cancel(SCARDCONTEXT ctx)
{
	(void)ctx;
	return SCARD_S_SUCCESS;
}

static LONG
f_connect(SCARDCONTEXT ctx, LPCSTR name, DWORD share, DWORD protos,
    LPSCARDHANDLE h, LPDWORD active)
{
	struct fake_reader *r = find(name);

	(void)ctx;
	fk.last_share = share;
	fk.last_protos = protos;
	fk.n_connect++;
	if (!fk.service_up)
		return SCARD_E_NO_SERVICE;
	if (r == NULL)
		return SCARD_E_UNKNOWN_READER;
	if (!r->present)
		return SCARD_E_NO_SMARTCARD;
	*h = 0x77 + (SCARDHANDLE)(r - fk.r);
	*active = fk.proto;
	return SCARD_S_SUCCESS;
}

static LONG
f_reconnect(SCARDHANDLE h, DWORD share, DWORD protos, DWORD init,
    LPDWORD active)
{
	(void)h;
	fk.last_share = share;
	fk.last_protos = protos;
	fk.n_reconnect++;
	fk.last_reconnect_init = init;
	*active = fk.proto;
	return SCARD_S_SUCCESS;
}

static LONG
f_disconnect(SCARDHANDLE h, DWORD disp)
{
	(void)h;
	(void)disp;
	fk.n_disconnect++;
	return SCARD_S_SUCCESS;
}

static LONG
f_begin(SCARDHANDLE h)
{
	(void)h;
	fk.n_begin++;
	if (fk.n_begin <= FAKE_MAX_SCRIPT && fk.begin_rc[fk.n_begin - 1] != 0)
		return fk.begin_rc[fk.n_begin - 1];
	return SCARD_S_SUCCESS;
}

static LONG
f_end(SCARDHANDLE h, DWORD disp)
{
	(void)h;
	(void)disp;
	fk.n_end++;
	return SCARD_S_SUCCESS;
}

static LONG
f_status(SCARDHANDLE h, LPSTR name, LPDWORD name_len, LPDWORD state,
    LPDWORD proto, LPBYTE atr, LPDWORD atr_len)
{
	struct fake_reader *r = &fk.r[h - 0x77];

	(void)name;
	(void)name_len;
	if (!r->present)
		return SCARD_W_REMOVED_CARD;
	*state = SCARD_SPECIFIC;
	*proto = fk.proto;
	memcpy(atr, r->atr, r->atr_len);
	*atr_len = (DWORD)r->atr_len;
	return SCARD_S_SUCCESS;
}

static LONG
f_transmit(SCARDHANDLE h, const SCARD_IO_REQUEST *pci, LPCBYTE cmd,
    DWORD cmd_len, SCARD_IO_REQUEST *rpci, LPBYTE rsp, LPDWORD rsp_len)
{
	struct apdu_transport tr;
	size_t n = 0;
	unsigned k;

	(void)h;
	(void)rpci;
	k = ++fk.n_transmit;
	if (pci->dwProtocol != fk.proto)
		return SCARD_E_PROTO_MISMATCH;
	if (k <= FAKE_MAX_SCRIPT && fk.transmit_rc[k - 1] != 0)
		return fk.transmit_rc[k - 1];
	if (k <= FAKE_MAX_SCRIPT && fk.transmit_empty_at[k - 1]) {
		*rsp_len = 0;
		return SCARD_S_SUCCESS;
	}
	if (fk.card == NULL)
		return SCARD_E_NOT_TRANSACTED;
	tr = fake_card_transport(fk.card);
	if (tr.xfer(tr.ctx, cmd, cmd_len, rsp, *rsp_len, &n) != PV_OK)
		return SCARD_E_NOT_TRANSACTED;
	*rsp_len = (DWORD)n;
	return SCARD_S_SUCCESS;
}

static LONG
f_control(SCARDHANDLE h, DWORD code, LPCVOID in, DWORD in_len, LPVOID out,
    DWORD out_len, LPDWORD ret)
{
	(void)h;
	fk.n_control++;
	fk.last_control_code = code;
	if (in != NULL && in_len <= sizeof(fk.last_control_in)) {
		memcpy(fk.last_control_in, in, in_len);
		fk.last_control_in_len = in_len;
	}
	if (fk.control_rc != 0)
		return fk.control_rc;
	if (code == CM_IOCTL_GET_FEATURE_REQUEST) {
		if (out_len < fk.features_len)
			return SCARD_E_INSUFFICIENT_BUFFER;
		memcpy(out, fk.features, fk.features_len);
		*ret = (DWORD)fk.features_len;
		return SCARD_S_SUCCESS;
	}
	memcpy(out, fk.control_answer, fk.control_answer_len);
	*ret = (DWORD)fk.control_answer_len;
	return SCARD_S_SUCCESS;
}

static LONG
f_get_attrib(SCARDHANDLE h, DWORD id, LPBYTE out, LPDWORD len)
{
	(void)h;
	if (id == SCARD_ATTR_VENDOR_NAME && *len >= 5) {
		memcpy(out, "Fake", 5);
		*len = 5;
		return SCARD_S_SUCCESS;
	}
	return SCARD_E_UNSUPPORTED_FEATURE;
}

const struct pcsc_sys fake_sys = {
	.establish = f_establish,
	.release = f_release,
	.is_valid = f_is_valid,
	.list_readers = f_list_readers,
	.get_status_change = f_get_status_change,
	.cancel = f_cancel,
	.connect = f_connect,
	.reconnect = f_reconnect,
	.disconnect = f_disconnect,
	.begin = f_begin,
	.end = f_end,
	.status = f_status,
	.transmit = f_transmit,
	.control = f_control,
	.get_attrib = f_get_attrib,
};
