/*
 * fuzz_diag.c: the real pcsc glue (pcsc/conn.c, session.c, diag.c and the
 * apdu/ parsers behind them) against a hostile card.  pcsc-lite is
 * replaced through struct pcsc_sys (the libfido2 fuzz_pcsc idea): every
 * SCardTransmit answers with the next length-prefixed chunk of the input,
 * and with SCARD_W_REMOVED_CARD once the input is used up.
 *
 * Input: byte 0 = flags (b0: short-only ATR, b1: reader has part 10
 * features, b2: a transmit fails with SCARD_W_RESET_CARD at the exchange
 * given by byte 1); then chunks of (length high, length low, bytes).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pcsc/diag.h"
#include "pcsc/sys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	const uint8_t *p;
	size_t len;
	uint8_t flags;
	unsigned reset_at, n;
} in;

static const uint8_t atr_ext[] = { 0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81,
    0x31, 0xfe, 0x15, 0x80, 0x73, 0xc0, 0x21, 0xc0, 0x57, 0x59, 0x75, 0x62,
    0x69, 0x4b, 0x65, 0x79, 0x40 };
static const uint8_t atr_short[] = { 0x3b, 0x9c, 0x96, 0x81, 0x31, 0xfe,
    0x45, 0x80, 0x73, 0xc0, 0x21, 0x80, 0x56, 0x50, 0x56, 0x43, 0x41, 0x52,
    0x44, 0x57 };

static LONG
z_establish(DWORD s, LPCVOID a, LPCVOID b, LPSCARDCONTEXT c)
{
	(void)s;
	(void)a;
	(void)b;
	*c = 1;
	return SCARD_S_SUCCESS;
}

static LONG
z_release(SCARDCONTEXT c)
{
	(void)c;
	return SCARD_S_SUCCESS;
}

static LONG
z_list(SCARDCONTEXT c, LPCSTR g, LPSTR buf, LPDWORD len)
{
	static const char names[] = "Fuzz Reader 00 00\0";

	(void)c;
	(void)g;
	if (buf != NULL) {
		if (*len < sizeof(names))
			return SCARD_E_INSUFFICIENT_BUFFER;
		memcpy(buf, names, sizeof(names));
	}
	*len = sizeof(names);
	return SCARD_S_SUCCESS;
}

static const uint8_t *
z_atr(size_t *n)
{
	if (in.flags & 1) {
		*n = sizeof(atr_short);
		return atr_short;
	}
	*n = sizeof(atr_ext);
	return atr_ext;
}

static LONG
z_gsc(SCARDCONTEXT c, DWORD t, SCARD_READERSTATE *st, DWORD n)
{
	const uint8_t *a;
	size_t alen;
	DWORD i;

	(void)c;
	(void)t;
	a = z_atr(&alen);
	for (i = 0; i < n; i++) {
		st[i].dwEventState = SCARD_STATE_PRESENT | SCARD_STATE_CHANGED;
		memcpy(st[i].rgbAtr, a, alen);
		st[i].cbAtr = (DWORD)alen;
	}
	return SCARD_S_SUCCESS;
}

static LONG
z_connect(SCARDCONTEXT c, LPCSTR r, DWORD s, DWORD p, LPSCARDHANDLE h,
    LPDWORD a)
{
	(void)c;
	(void)r;
	(void)s;
	(void)p;
	*h = 2;
	*a = SCARD_PROTOCOL_T1;
	return SCARD_S_SUCCESS;
}

static LONG
z_reconnect(SCARDHANDLE h, DWORD s, DWORD p, DWORD i, LPDWORD a)
{
	(void)h;
	(void)s;
	(void)p;
	(void)i;
	*a = SCARD_PROTOCOL_T1;
	return SCARD_S_SUCCESS;
}

static LONG
z_disconnect(SCARDHANDLE h, DWORD d)
{
	(void)h;
	(void)d;
	return SCARD_S_SUCCESS;
}

static LONG
z_begin(SCARDHANDLE h)
{
	(void)h;
	return SCARD_S_SUCCESS;
}

static LONG
z_end(SCARDHANDLE h, DWORD d)
{
	(void)h;
	(void)d;
	return SCARD_S_SUCCESS;
}

static LONG
z_status(SCARDHANDLE h, LPSTR name, LPDWORD nl, LPDWORD st, LPDWORD p,
    LPBYTE atr, LPDWORD alen)
{
	const uint8_t *a;
	size_t n;

	(void)h;
	(void)name;
	(void)nl;
	a = z_atr(&n);
	*st = SCARD_SPECIFIC;
	*p = SCARD_PROTOCOL_T1;
	memcpy(atr, a, n);
	*alen = (DWORD)n;
	return SCARD_S_SUCCESS;
}

static LONG
z_transmit(SCARDHANDLE h, const SCARD_IO_REQUEST *pci, LPCBYTE cmd,
    DWORD cmd_len, SCARD_IO_REQUEST *rpci, LPBYTE rsp, LPDWORD rsp_len)
{
	size_t n;

	(void)h;
	(void)pci;
	(void)cmd;
	(void)cmd_len;
	(void)rpci;
	if ((in.flags & 4) && ++in.n == in.reset_at)
		return SCARD_W_RESET_CARD;
	if (in.len < 2)
		return SCARD_W_REMOVED_CARD;
	n = (size_t)in.p[0] << 8 | in.p[1];
	in.p += 2;
	in.len -= 2;
	if (n > in.len)
		n = in.len;
	if (n > *rsp_len)
		n = *rsp_len;
	memcpy(rsp, in.p, n);
	in.p += n;
	in.len -= n;
	*rsp_len = (DWORD)n;
	return SCARD_S_SUCCESS;
}

static LONG
z_control(SCARDHANDLE h, DWORD code, LPCVOID i, DWORD il, LPVOID o, DWORD ol,
    LPDWORD ret)
{
	static const uint8_t feats[] = { 0x12, 0x04, 0x42, 0x33, 0x00, 0x12 };
	static const uint8_t props[] = { 0x0a, 0x04, 0x00, 0x00, 0x01, 0x00 };

	(void)h;
	(void)i;
	(void)il;
	if (!(in.flags & 2))
		return SCARD_E_UNSUPPORTED_FEATURE;
	if (code == CM_IOCTL_GET_FEATURE_REQUEST && ol >= sizeof(feats)) {
		memcpy(o, feats, sizeof(feats));
		*ret = sizeof(feats);
		return SCARD_S_SUCCESS;
	}
	if (ol >= sizeof(props)) {
		memcpy(o, props, sizeof(props));
		*ret = sizeof(props);
		return SCARD_S_SUCCESS;
	}
	return SCARD_E_INSUFFICIENT_BUFFER;
}

static LONG
z_attr(SCARDHANDLE h, DWORD id, LPBYTE o, LPDWORD l)
{
	(void)h;
	(void)id;
	(void)o;
	(void)l;
	return SCARD_E_UNSUPPORTED_FEATURE;
}

static LONG
z_valid(SCARDCONTEXT c)
{
	(void)c;
	return SCARD_S_SUCCESS;
}

static LONG
z_cancel(SCARDCONTEXT c)
{
	(void)c;
	return SCARD_S_SUCCESS;
}

static const struct pcsc_sys zsys = {
	.establish = z_establish, .release = z_release, .is_valid = z_valid,
	.list_readers = z_list, .get_status_change = z_gsc,
	.cancel = z_cancel, .connect = z_connect, .reconnect = z_reconnect,
	.disconnect = z_disconnect, .begin = z_begin, .end = z_end,
	.status = z_status, .transmit = z_transmit, .control = z_control,
	.get_attrib = z_attr,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pcsc_diag d;
	struct pcsc_session_opts o;
	struct pcsc_diag_opts dopts;
	struct pcsc_session *s = NULL;

	if (size < 2)
		return 0;
	in.flags = data[0];
	in.reset_at = data[1];
	in.n = 0;
	in.p = data + 2;
	in.len = size - 2;
	memset(&o, 0, sizeof(o));
	memset(&dopts, 0, sizeof(dopts));
	dopts.latency_n = 2;
	if (pcsc_session_open_sys(&zsys, &o, &s, NULL) == PV_OK) {
		(void)pcsc_diag_run(s, &dopts, &d, NULL);
		pcsc_diag_cleanup(&d);
	}
	pcsc_session_close(s);
	return 0;
}
