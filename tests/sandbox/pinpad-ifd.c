/*
 * pinpad-ifd.c: a PIN-pad reader for the sandbox.  A pcsc-lite IFD handler
 * (API v3) that forwards every call to a private copy of the vpcd driver
 * and adds the PC/SC part 10 PIN-pad features vpcd lacks, with a scripted
 * "person at the keypad".  Built by tests/sandbox/run --pinpad (cc -shared
 * -fPIC + libpcsclite's cflags + -ldl), not by the Makefile.
 *
 * Driver copy: the shim loads libifdvpcd.so from its own directory (found
 * with dladdr), so run gives every reader.conf entry a directory holding
 * one copy of the shim and one of vpcd (vpcd keeps per-slot state in
 * globals; two entries must not share one loaded copy).
 *
 * Reader attributes answered here (vpcd has none): SCARD_ATTR_VENDOR_NAME
 * "pivstation sandbox", VENDOR_IFD_TYPE, VENDOR_IFD_SERIAL_NO "PVPAD-<SLOT>",
 * VENDOR_IFD_VERSION 1.0.0.
 *
 * Control codes answered here (everything else goes to vpcd):
 *   CM_IOCTL_GET_FEATURE_REQUEST   VERIFY_PIN_DIRECT, MODIFY_PIN_DIRECT,
 *                                  IFD_PIN_PROPERTIES, GET_TLV_PROPERTIES,
 *                                  with the CCID driver's control codes
 *                                  SCARD_CTL_CODE(0x330000 + tag)
 *   FEATURE_GET_TLV_PROPERTIES     wLcdLayout 0x0210, bMinPINSize 4,
 *                                  bMaxPINSize 8, wIdVendor, wIdProduct
 *   FEATURE_IFD_PIN_PROPERTIES     wLcdLayout, validation by OK key, no
 *                                  bTimeOut2
 *   FEATURE_VERIFY_PIN_DIRECT      PIN_VERIFY_STRUCTURE
 *   FEATURE_MODIFY_PIN_DIRECT      PIN_MODIFY_STRUCTURE
 * PIN formats: ASCII or BCD, left-justified, PIN position in bytes (or in
 * bits when a multiple of 8), no PIN length field.  The PIN digits
 * overwrite the APDU template the host sent; the padding stays as sent.
 * VERIFY: PIN at the bmFormatString position after Lc.  MODIFY: new PIN
 * at bInsertionOffsetNew, current PIN (bConfirmPIN bit 1) at
 * bInsertionOffsetOld, both in bytes after Lc.
 *
 * The keypad: each PIN entry takes the first line of
 * $PV_PINPAD_DIR/pinpad<SLOT>.keys (SLOT = vpcd port - 35963 + the slot
 * within the entry), under an flock of pinpad<SLOT>.lock, rewriting the
 * rest through a temporary file and rename:
 *   DIGITS                 typed, then OK (VERIFY)
 *   [OLD] NEW [CONFIRM]    MODIFY: OLD when the current PIN is asked for;
 *                          CONFIRM defaults to NEW
 *   cancel | timeout       the Cancel key | nobody types (answered at once)
 * With no line, the pad polls every 100 ms for bTimerOut seconds (30 when
 * 0), then times out.  Answers as CCID readers give them: 6400 timeout,
 * 6401 cancel, 6402 new PIN and confirmation differ, 6403 PIN length out
 * of range; otherwise the card's response to the built APDU.  A line the
 * pad cannot read counts as cancel (and is logged).
 *
 * Log: one line per operation in $PV_PINPAD_DIR/pinpad<SLOT>.log (op,
 * slot, result, digit counts, the APDU with the typed PIN bytes shown as
 * ** and the data bytes the host filled in other than FF padding as ##,
 * since those may be a current PIN).  The digits themselves are never
 * written anywhere, and every buffer that held them is wiped.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ifdhandler.h>
#include <reader.h>

#define BASE_PORT	35963
#define CTL(tag)	SCARD_CTL_CODE(0x330000 + (tag))
#define MAX_APDU	261
#define MAX_DIGITS	16
#define MAX_LINE	256

/* ---- the wrapped vpcd driver ------------------------------------------- */

static struct {
	void *h;
	RESPONSECODE (*create_by_name)(DWORD, LPSTR);
	RESPONSECODE (*create)(DWORD, DWORD);
	RESPONSECODE (*close)(DWORD);
	RESPONSECODE (*get_caps)(DWORD, DWORD, PDWORD, PUCHAR);
	RESPONSECODE (*set_caps)(DWORD, DWORD, DWORD, PUCHAR);
	RESPONSECODE (*set_proto)(DWORD, DWORD, UCHAR, UCHAR, UCHAR, UCHAR);
	RESPONSECODE (*power)(DWORD, DWORD, PUCHAR, PDWORD);
	RESPONSECODE (*transmit)(DWORD, SCARD_IO_HEADER, PUCHAR, DWORD,
	    PUCHAR, PDWORD, PSCARD_IO_HEADER);
	RESPONSECODE (*control)(DWORD, DWORD, PUCHAR, DWORD, PUCHAR, DWORD,
	    LPDWORD);
	RESPONSECODE (*presence)(DWORD);
} vpcd;
static pthread_once_t vpcd_once = PTHREAD_ONCE_INIT;
static int g_port = -1;		/* vpcd port of this entry's first slot */

static void
shim_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pinpad-ifd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void *
sym(const char *name)
{
	void *p = dlsym(vpcd.h, name);

	if (p == NULL)
		shim_err("vpcd lacks %s: %s", name, dlerror());
	return p;
}

static void
vpcd_load(void)
{
	Dl_info info;
	char path[PATH_MAX];
	const char *slash;

	if (dladdr((void *)vpcd_load, &info) == 0 || info.dli_fname == NULL) {
		shim_err("dladdr failed: cannot find my own directory");
		return;
	}
	slash = strrchr(info.dli_fname, '/');
	if (slash == NULL)
		snprintf(path, sizeof(path), "./libifdvpcd.so");
	else if (snprintf(path, sizeof(path), "%.*s/libifdvpcd.so",
	    (int)(slash - info.dli_fname), info.dli_fname) >= (int)sizeof(path)) {
		shim_err("path too long");
		return;
	}
	vpcd.h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (vpcd.h == NULL) {
		shim_err("cannot load %s: %s", path, dlerror());
		return;
	}
	/* POSIX allows converting dlsym's void * to function pointers. */
#define LOAD(f, n) *(void **)(&vpcd.f) = sym(n)
	LOAD(create_by_name, "IFDHCreateChannelByName");
	LOAD(create, "IFDHCreateChannel");
	LOAD(close, "IFDHCloseChannel");
	LOAD(get_caps, "IFDHGetCapabilities");
	LOAD(set_caps, "IFDHSetCapabilities");
	LOAD(set_proto, "IFDHSetProtocolParameters");
	LOAD(power, "IFDHPowerICC");
	LOAD(transmit, "IFDHTransmitToICC");
	LOAD(control, "IFDHControl");
	LOAD(presence, "IFDHICCPresence");
#undef LOAD
}

#define NEED(f) do {							\
	pthread_once(&vpcd_once, vpcd_load);				\
	if (vpcd.f == NULL)						\
		return IFD_COMMUNICATION_ERROR;				\
} while (0)

RESPONSECODE
IFDHCreateChannelByName(DWORD Lun, LPSTR DeviceName)
{
	const char *colon;
	char *end;
	long port;

	NEED(create_by_name);
	colon = DeviceName ? strrchr(DeviceName, ':') : NULL;
	if (colon != NULL) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno == 0 && *end == '\0' && port > 0 && port < 65536)
			g_port = (int)port;
	}
	return vpcd.create_by_name(Lun, DeviceName);
}

RESPONSECODE
IFDHCreateChannel(DWORD Lun, DWORD Channel)
{
	NEED(create);
	if (Channel > 0 && Channel < 65536)
		g_port = (int)Channel;
	return vpcd.create(Lun, Channel);
}

RESPONSECODE
IFDHCloseChannel(DWORD Lun)
{
	NEED(close);
	return vpcd.close(Lun);
}

static int slot_of(DWORD Lun);

/* Copies |n| bytes of an attribute for IFDHGetCapabilities. */
static RESPONSECODE
put_attr(const void *v, size_t n, PDWORD Length, PUCHAR Value)
{
	if (Length == NULL || Value == NULL || *Length < n)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	memcpy(Value, v, n);
	*Length = (DWORD)n;
	return IFD_SUCCESS;
}

/*
 * The reader's own facts, which vpcd does not give (pcscd answers
 * SCardGetAttrib from here): vendor, model, serial number (per slot) and
 * driver version 1.0.0, so that diag's reader section can be checked.
 */
RESPONSECODE
IFDHGetCapabilities(DWORD Lun, DWORD Tag, PDWORD Length, PUCHAR Value)
{
	static const char vendor[] = "pivstation sandbox";
	static const char model[] = "PIN-pad reader (part 10 over vpcd)";
	/* pcsc-lite passes DWORD attributes in host order. */
	const uint32_t version = 0x01000000u;
	char serial[24];

	switch (Tag) {
	case SCARD_ATTR_VENDOR_NAME:
		return put_attr(vendor, sizeof(vendor), Length, Value);
	case SCARD_ATTR_VENDOR_IFD_TYPE:
		return put_attr(model, sizeof(model), Length, Value);
	case SCARD_ATTR_VENDOR_IFD_SERIAL_NO:
		(void)snprintf(serial, sizeof(serial), "PVPAD-%d",
		    slot_of(Lun));
		return put_attr(serial, strlen(serial) + 1, Length, Value);
	case SCARD_ATTR_VENDOR_IFD_VERSION:
		return put_attr(&version, sizeof(version), Length, Value);
	default:
		break;
	}
	NEED(get_caps);
	return vpcd.get_caps(Lun, Tag, Length, Value);
}

RESPONSECODE
IFDHSetCapabilities(DWORD Lun, DWORD Tag, DWORD Length, PUCHAR Value)
{
	NEED(set_caps);
	return vpcd.set_caps(Lun, Tag, Length, Value);
}

RESPONSECODE
IFDHSetProtocolParameters(DWORD Lun, DWORD Protocol, UCHAR Flags, UCHAR PTS1,
    UCHAR PTS2, UCHAR PTS3)
{
	NEED(set_proto);
	return vpcd.set_proto(Lun, Protocol, Flags, PTS1, PTS2, PTS3);
}

RESPONSECODE
IFDHPowerICC(DWORD Lun, DWORD Action, PUCHAR Atr, PDWORD AtrLength)
{
	NEED(power);
	return vpcd.power(Lun, Action, Atr, AtrLength);
}

RESPONSECODE
IFDHTransmitToICC(DWORD Lun, SCARD_IO_HEADER SendPci, PUCHAR TxBuffer,
    DWORD TxLength, PUCHAR RxBuffer, PDWORD RxLength,
    PSCARD_IO_HEADER RecvPci)
{
	NEED(transmit);
	return vpcd.transmit(Lun, SendPci, TxBuffer, TxLength, RxBuffer,
	    RxLength, RecvPci);
}

RESPONSECODE
IFDHICCPresence(DWORD Lun)
{
	NEED(presence);
	return vpcd.presence(Lun);
}

/* ---- the pad's log and keypad queue ---------------------------------------- */

static int
slot_of(DWORD Lun)
{
	int port = g_port > 0 ? g_port : BASE_PORT;

	return port - BASE_PORT + (int)(Lun & 0xffff);
}

static void
pad_log(int slot, const char *fmt, ...)
{
	const char *dir = getenv("PV_PINPAD_DIR");
	char path[PATH_MAX];
	FILE *f = NULL;
	va_list ap;

	if (dir != NULL && snprintf(path, sizeof(path), "%s/pinpad%d.log",
	    dir, slot) < (int)sizeof(path))
		f = fopen(path, "a");
	if (f == NULL)
		f = stderr;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	if (f != stderr)
		fclose(f);
}

static void
wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

/*
 * take_line: the first line of the slot's keys file into |line|, the rest
 * written back.  1 = a line, 0 = none queued, -1 = error (logged).
 */
static int
take_line(int slot, char *line, size_t cap)
{
	const char *dir = getenv("PV_PINPAD_DIR");
	char keys[PATH_MAX], lock[PATH_MAX], tmp[PATH_MAX];
	char buf[8192];
	size_t n = 0, l;
	char *nl;
	int lfd, fd, rv = -1;
	ssize_t r;

	if (dir == NULL)
		return 0;
	if (snprintf(keys, sizeof(keys), "%s/pinpad%d.keys", dir, slot) >=
	    (int)sizeof(keys) ||
	    snprintf(lock, sizeof(lock), "%s/pinpad%d.lock", dir, slot) >=
	    (int)sizeof(lock) ||
	    snprintf(tmp, sizeof(tmp), "%s/pinpad%d.keys.tmp", dir, slot) >=
	    (int)sizeof(tmp))
		return -1;
	lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0 || flock(lfd, LOCK_EX) != 0) {
		pad_log(slot, "ERROR cannot lock %s: %s", lock, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	fd = open(keys, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rv = errno == ENOENT ? 0 : -1;
		goto out;
	}
	while (n < sizeof(buf) && (r = read(fd, buf + n, sizeof(buf) - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (n == sizeof(buf)) {
		pad_log(slot, "ERROR %s is too long", keys);
		goto out;
	}
	if (n == 0) {
		rv = 0;
		goto out;
	}
	nl = memchr(buf, '\n', n);
	l = nl ? (size_t)(nl - buf) : n;
	if (l >= cap) {
		pad_log(slot, "ERROR keypad line longer than %zu bytes", cap - 1);
		l = 0;		/* consumed, read as an empty line */
	}
	memcpy(line, buf, l);
	line[l] = '\0';
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		pad_log(slot, "ERROR cannot write %s: %s", tmp, strerror(errno));
		wipe(line, cap);
		goto out;
	}
	{
		size_t off = nl ? l + 1 : n, w = 0;

		while (off + w < n) {
			r = write(fd, buf + off + w, n - off - w);
			if (r <= 0)
				break;
			w += (size_t)r;
		}
		if (close(fd) != 0 || off + w != n ||
		    rename(tmp, keys) != 0) {
			pad_log(slot, "ERROR cannot rewrite %s", keys);
			unlink(tmp);
			wipe(line, cap);
			goto out;
		}
	}
	rv = 1;
out:
	wipe(buf, sizeof(buf));
	flock(lfd, LOCK_UN);
	close(lfd);
	return rv;
}

enum entry { E_KEYS, E_CANCEL, E_TIMEOUT, E_BAD };

/*
 * wait_entry: what the person does within |timeout_s| seconds: the keys of
 * one line split into up to 3 digit strings in |tok| (each at most
 * MAX_DIGITS digits), or cancel/timeout.
 */
static enum entry
wait_entry(int slot, unsigned timeout_s, char tok[3][MAX_DIGITS + 1],
    int *ntok)
{
	char line[MAX_LINE];
	struct timespec nap = { 0, 100 * 1000000L };
	unsigned long waited = 0, limit = (unsigned long)timeout_s * 10;
	char *p, *save = NULL;
	enum entry e = E_KEYS;
	int got;

	for (;;) {
		got = take_line(slot, line, sizeof(line));
		if (got != 0 || waited >= limit)
			break;
		nanosleep(&nap, NULL);
		waited++;
	}
	if (got <= 0)
		return got < 0 ? E_BAD : E_TIMEOUT;
	*ntok = 0;
	for (p = strtok_r(line, " \t\r", &save); p != NULL;
	    p = strtok_r(NULL, " \t\r", &save)) {
		if (strcmp(p, "cancel") == 0 && *ntok == 0) {
			e = E_CANCEL;
			continue;
		}
		if (strcmp(p, "timeout") == 0 && *ntok == 0) {
			e = E_TIMEOUT;
			continue;
		}
		if (e != E_KEYS || *ntok == 3 ||
		    strspn(p, "0123456789") != strlen(p) ||
		    strlen(p) > MAX_DIGITS) {
			e = E_BAD;
			break;
		}
		memcpy(tok[*ntok], p, strlen(p) + 1);
		(*ntok)++;
	}
	wipe(line, sizeof(line));
	if (e == E_KEYS && *ntok == 0)
		tok[(*ntok)++][0] = '\0';	/* OK with nothing typed */
	return e;
}

/* ---- PIN formats ------------------------------------------------------------- */

struct fmt {
	int bcd;		/* 0 ASCII, 1 BCD */
	size_t pos;		/* PIN position after Lc, bytes (VERIFY) */
	unsigned min, max;	/* digits */
};

/* parse_fmt: 0, or -1 with |why| set for an unsupported format. */
static int
parse_fmt(uint8_t fs, uint8_t block, uint16_t extra, struct fmt *f,
    const char **why)
{
	unsigned pos = (fs >> 3) & 0x0f;

	if (fs & 0x04)
		return *why = "right justification is not supported", -1;
	switch (fs & 0x03) {
	case 0x02: f->bcd = 0; break;
	case 0x01: f->bcd = 1; break;
	default: return *why = "only ASCII and BCD PIN types are supported", -1;
	}
	if (fs & 0x80)
		f->pos = pos;
	else if (pos % 8 == 0)
		f->pos = pos / 8;
	else
		return *why = "PIN position in bits is not supported", -1;
	if (block & 0xf0)
		return *why = "a PIN length field in the block is not supported",
		    -1;
	f->max = extra & 0xff;
	f->min = extra >> 8;
	if (f->max == 0 || f->max > MAX_DIGITS || f->min > f->max)
		return *why = "wPINMaxExtraDigit out of range", -1;
	return 0;
}

static size_t
pin_bytes(const struct fmt *f, size_t ndigits)
{
	return f->bcd ? (ndigits + 1) / 2 : ndigits;
}

/* put_pin writes |d| into |data| at |off|; marks the bytes in |mask|. */
static void
put_pin(const struct fmt *f, const char *d, uint8_t *data, uint8_t *mask,
    size_t off)
{
	size_t i, n = strlen(d);

	for (i = 0; i < n; i++) {
		uint8_t v = (uint8_t)(d[i] - '0');

		if (!f->bcd) {
			data[off + i] = (uint8_t)('0' + v);
			mask[off + i] = 1;
		} else if (i % 2 == 0) {
			data[off + i / 2] = (uint8_t)(v << 4 |
			    (data[off + i / 2] & 0x0f));
			mask[off + i / 2] = 1;
		} else {
			data[off + i / 2] = (uint8_t)((data[off + i / 2] &
			    0xf0) | v);
		}
	}
}

/* ---- the APDU template ------------------------------------------------------- */

struct tmpl {
	uint8_t a[MAX_APDU];
	uint8_t mask[MAX_APDU];	/* 1 = PIN byte (logged as **) */
	size_t len, lc;		/* APDU length, Lc */
};

static int
parse_apdu(const uint8_t *p, size_t len, struct tmpl *t, const char **why)
{
	if (len < 6 || len > MAX_APDU)
		return *why = "the APDU must be a short APDU with data", -1;
	t->lc = p[4];
	if (t->lc == 0 || (len != 5 + t->lc && len != 6 + t->lc))
		return *why = "the APDU's Lc does not match its length", -1;
	memcpy(t->a, p, len);
	memset(t->mask, 0, sizeof(t->mask));
	t->len = len;
	return 0;
}

static void
tmpl_text(const struct tmpl *t, char *out, size_t cap)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < t->len && o + 4 < cap; i++) {
		if (t->mask[i])
			o += (size_t)snprintf(out + o, cap - o, "%s**",
			    i ? " " : "");
		else if (i >= 5 && i < 5 + t->lc && t->a[i] != 0xff)
			o += (size_t)snprintf(out + o, cap - o, "%s##",
			    i ? " " : "");
		else
			o += (size_t)snprintf(out + o, cap - o, "%s%02X",
			    i ? " " : "", t->a[i]);
	}
}

/* ---- VERIFY / MODIFY ----------------------------------------------------------- */

static RESPONSECODE
sw_answer(uint16_t sw, PUCHAR rx, DWORD rxlen, LPDWORD ret)
{
	if (rxlen < 2)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	rx[0] = (UCHAR)(sw >> 8);
	rx[1] = (UCHAR)sw;
	*ret = 2;
	return IFD_SUCCESS;
}

static RESPONSECODE
send_apdu(DWORD Lun, struct tmpl *t, PUCHAR rx, DWORD rxlen, LPDWORD ret,
    uint16_t *sw)
{
	SCARD_IO_HEADER spci = { SCARD_PROTOCOL_T1, 0 }, rpci = { 0, 0 };
	UCHAR r[MAX_APDU + 2];
	DWORD rl = sizeof(r);
	RESPONSECODE rc;

	rc = vpcd.transmit(Lun, spci, t->a, (DWORD)t->len, r, &rl, &rpci);
	wipe(t->a, sizeof(t->a));
	if (rc != IFD_SUCCESS)
		return rc;
	if (rl < 2 || rl > sizeof(r))
		return IFD_COMMUNICATION_ERROR;
	if (rl > rxlen) {
		wipe(r, sizeof(r));
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	}
	memcpy(rx, r, rl);
	*ret = rl;
	*sw = (uint16_t)(r[rl - 2] << 8 | r[rl - 1]);
	wipe(r, sizeof(r));
	return IFD_SUCCESS;
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static const char *
entry_name(enum entry e)
{
	return e == E_CANCEL ? "cancel" : e == E_TIMEOUT ? "timeout" :
	    "unreadable keypad line, taken as cancel";
}

static RESPONSECODE
pin_op(DWORD Lun, int modify, const uint8_t *tx, size_t txlen, PUCHAR rx,
    DWORD rxlen, LPDWORD ret)
{
	const char *op = modify ? "MODIFY" : "VERIFY", *why = NULL;
	size_t hdr = modify ? 24 : 19, off_new, off_old = 0;
	int slot = slot_of(Lun), ntok = 0, need_old = 0, need_conf = 0;
	char tok[3][MAX_DIGITS + 1], text[3 * MAX_APDU + 1];
	const char *oldp = NULL, *newp, *confp;
	struct tmpl t;
	struct fmt f;
	enum entry e;
	uint16_t sw = 0;
	RESPONSECODE rc;
	unsigned timeout;

	if (txlen < hdr) {
		pad_log(slot, "%s slot=%d ERROR structure of %zu bytes, need "
		    "at least %zu", op, slot, txlen, hdr);
		return IFD_NOT_SUPPORTED;
	}
	if (le32(tx + hdr - 4) != txlen - hdr) {
		pad_log(slot, "%s slot=%d ERROR ulDataLength %u but %zu bytes "
		    "follow", op, slot, le32(tx + hdr - 4), txlen - hdr);
		return IFD_NOT_SUPPORTED;
	}
	if (parse_fmt(tx[2], tx[3], (uint16_t)(tx[modify ? 7 : 5] |
	    tx[modify ? 8 : 6] << 8), &f, &why) != 0 ||
	    parse_apdu(tx + hdr, txlen - hdr, &t, &why) != 0) {
		pad_log(slot, "%s slot=%d ERROR %s", op, slot, why);
		return IFD_NOT_SUPPORTED;
	}
	if (modify) {
		need_conf = tx[9] & 0x01;
		need_old = (tx[9] & 0x02) != 0;
		off_new = tx[6];
		off_old = tx[5];
	} else {
		off_new = f.pos;
	}
	/* Both PIN blocks must fit in the data at their longest. */
	if (off_new + pin_bytes(&f, f.max) > t.lc ||
	    (need_old && off_old + pin_bytes(&f, f.max) > t.lc)) {
		pad_log(slot, "%s slot=%d ERROR a %u-digit PIN does not fit in "
		    "the %zu data bytes", op, slot, f.max, t.lc);
		return IFD_NOT_SUPPORTED;
	}
	timeout = tx[0] ? tx[0] : 30;
	tmpl_text(&t, text, sizeof(text));
	e = wait_entry(slot, timeout, tok, &ntok);
	if (e != E_KEYS) {
		sw = e == E_TIMEOUT ? 0x6400 : 0x6401;
		pad_log(slot, "%s slot=%d sw=%04X %s apdu=%s", op, slot, sw,
		    entry_name(e), text);
		rc = sw_answer(sw, rx, rxlen, ret);
		goto out;
	}
	/* Tokens: [OLD] NEW [CONFIRM] for MODIFY, DIGITS for VERIFY. */
	if ((!modify && ntok != 1) ||
	    (modify && (ntok < 1 + need_old || ntok > 1 + need_old + need_conf))) {
		pad_log(slot, "%s slot=%d sw=6401 %s (%d entries for %s) "
		    "apdu=%s", op, slot, entry_name(E_BAD), ntok,
		    modify ? (need_old ? "OLD NEW [CONFIRM]" : "NEW [CONFIRM]") :
		    "DIGITS", text);
		rc = sw_answer(0x6401, rx, rxlen, ret);
		goto out;
	}
	if (need_old)
		oldp = tok[0];
	newp = tok[need_old];
	confp = ntok > 1 + need_old ? tok[1 + need_old] : newp;
	if ((oldp && (strlen(oldp) < f.min || strlen(oldp) > f.max)) ||
	    strlen(newp) < f.min || strlen(newp) > f.max) {
		sw = 0x6403;
		pad_log(slot, "%s slot=%d sw=6403 PIN length outside %u..%u "
		    "digits=%zu%s apdu=%s", op, slot, f.min, f.max,
		    strlen(newp), oldp ? " (with current PIN)" : "", text);
		rc = sw_answer(sw, rx, rxlen, ret);
		goto out;
	}
	if (strcmp(newp, confp) != 0) {
		pad_log(slot, "%s slot=%d sw=6402 new PIN and confirmation "
		    "differ apdu=%s", op, slot, text);
		rc = sw_answer(0x6402, rx, rxlen, ret);
		goto out;
	}
	if (oldp)
		put_pin(&f, oldp, t.a + 5, t.mask + 5, off_old);
	put_pin(&f, newp, t.a + 5, t.mask + 5, off_new);
	tmpl_text(&t, text, sizeof(text));
	rc = send_apdu(Lun, &t, rx, rxlen, ret, &sw);
	if (rc != IFD_SUCCESS)
		pad_log(slot, "%s slot=%d ERROR %s (IFD code %ld) "
		    "digits=%zu apdu=%s", op, slot,
		    rc == IFD_ERROR_INSUFFICIENT_BUFFER ? "the card's answer "
		    "does not fit the caller's buffer" : "transmit failed",
		    (long)rc, strlen(newp), text);
	else if (oldp)
		pad_log(slot, "%s slot=%d sw=%04X digits=%zu old_digits=%zu "
		    "apdu=%s", op, slot, sw, strlen(newp), strlen(oldp), text);
	else
		pad_log(slot, "%s slot=%d sw=%04X digits=%zu apdu=%s", op, slot,
		    sw, strlen(newp), text);
out:
	wipe(tok, sizeof(tok));
	wipe(&t, sizeof(t));
	return rc;
}

/* ---- IFDHControl ----------------------------------------------------------- */

static RESPONSECODE
put_bytes(const uint8_t *p, size_t n, PUCHAR rx, DWORD rxlen, LPDWORD ret)
{
	if (rx == NULL || rxlen < n)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	memcpy(rx, p, n);
	*ret = (DWORD)n;
	return IFD_SUCCESS;
}

RESPONSECODE
IFDHControl(DWORD Lun, DWORD dwControlCode, PUCHAR TxBuffer, DWORD TxLength,
    PUCHAR RxBuffer, DWORD RxLength, LPDWORD pdwBytesReturned)
{
	static const uint8_t tags[] = { FEATURE_VERIFY_PIN_DIRECT,
	    FEATURE_MODIFY_PIN_DIRECT, FEATURE_IFD_PIN_PROPERTIES,
	    FEATURE_GET_TLV_PROPERTIES };
	/* wLcdLayout 2x16, bMinPINSize 4, bMaxPINSize 8, wIdVendor,
	 * wIdProduct (values little-endian). */
	static const uint8_t tlv[] = { 0x01, 2, 0x10, 0x02, 0x06, 1, 4,
	    0x07, 1, 8, 0x0b, 2, 0x50, 0x56, 0x0c, 2, 0x01, 0x00 };
	/* PIN_PROPERTIES_STRUCTURE: wLcdLayout, bEntryValidationCondition,
	 * bTimeOut2. */
	static const uint8_t pinprops[] = { 0x10, 0x02, 0x02, 0x00 };
	uint8_t feat[sizeof(tags) * 6];
	size_t i;
	RESPONSECODE rc;

	NEED(control);
	if (pdwBytesReturned == NULL)
		return IFD_COMMUNICATION_ERROR;
	*pdwBytesReturned = 0;
	if (dwControlCode == CM_IOCTL_GET_FEATURE_REQUEST) {
		for (i = 0; i < sizeof(tags); i++) {
			DWORD c = CTL(tags[i]);

			feat[6 * i] = tags[i];
			feat[6 * i + 1] = 4;
			feat[6 * i + 2] = (uint8_t)(c >> 24);
			feat[6 * i + 3] = (uint8_t)(c >> 16);
			feat[6 * i + 4] = (uint8_t)(c >> 8);
			feat[6 * i + 5] = (uint8_t)c;
		}
		return put_bytes(feat, sizeof(feat), RxBuffer, RxLength,
		    pdwBytesReturned);
	}
	if (dwControlCode == CTL(FEATURE_GET_TLV_PROPERTIES))
		return put_bytes(tlv, sizeof(tlv), RxBuffer, RxLength,
		    pdwBytesReturned);
	if (dwControlCode == CTL(FEATURE_IFD_PIN_PROPERTIES))
		return put_bytes(pinprops, sizeof(pinprops), RxBuffer,
		    RxLength, pdwBytesReturned);
	if (dwControlCode == CTL(FEATURE_VERIFY_PIN_DIRECT) ||
	    dwControlCode == CTL(FEATURE_MODIFY_PIN_DIRECT)) {
		if (TxBuffer == NULL || RxBuffer == NULL)
			return IFD_NOT_SUPPORTED;
		rc = pin_op(Lun, dwControlCode == CTL(FEATURE_MODIFY_PIN_DIRECT),
		    TxBuffer, TxLength, RxBuffer, RxLength, pdwBytesReturned);
		if (rc != IFD_SUCCESS)
			*pdwBytesReturned = 0;
		return rc;
	}
	return vpcd.control(Lun, dwControlCode, TxBuffer, TxLength, RxBuffer,
	    RxLength, pdwBytesReturned);
}
