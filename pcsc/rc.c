/*
 * rc.c: names and meanings of PC/SC return codes (pcsc-lite pcsclite.h;
 * the values are those of the PC/SC workgroup specification, part 5, and
 * Microsoft's winerror.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcsc/rc.h"

struct pcsc_rc_row {
	uint32_t rc;
	const char *name;
	const char *text;
	enum pv_err err;
};

/*
 * SCARD_E_UNEXPECTED and SCARD_E_UNSUPPORTED_FEATURE share 0x8010001F in
 * pcsc-lite; the row says both.
 */
static const struct pcsc_rc_row pcsc_rc_rows[] = {
	{ 0x00000000u, "SCARD_S_SUCCESS", "success", PV_OK },
	{ 0x80100001u, "SCARD_F_INTERNAL_ERROR",
	  "internal consistency check failed in the PC/SC service", PV_E_TRANSPORT },
	{ 0x80100002u, "SCARD_E_CANCELLED",
	  "the wait was cancelled (SCardCancel)", PV_E_CANCELLED },
	{ 0x80100003u, "SCARD_E_INVALID_HANDLE",
	  "the context or card handle is not valid (pcscd restarted?)", PV_E_TRANSPORT },
	{ 0x80100004u, "SCARD_E_INVALID_PARAMETER",
	  "a parameter could not be interpreted", PV_E_INTERNAL },
	{ 0x80100005u, "SCARD_E_INVALID_TARGET",
	  "reader registry information is missing or invalid", PV_E_CONFIG },
	{ 0x80100006u, "SCARD_E_NO_MEMORY",
	  "not enough memory in the PC/SC service", PV_E_NOMEM },
	{ 0x80100007u, "SCARD_F_WAITED_TOO_LONG",
	  "an internal timer of the PC/SC service expired", PV_E_TIMEOUT },
	{ 0x80100008u, "SCARD_E_INSUFFICIENT_BUFFER",
	  "the buffer for returned data is too small", PV_E_TOO_LONG },
	{ 0x80100009u, "SCARD_E_UNKNOWN_READER",
	  "the reader name is not known (reader unplugged?)", PV_E_NO_READER },
	{ 0x8010000au, "SCARD_E_TIMEOUT",
	  "the timeout expired", PV_E_TIMEOUT },
	{ 0x8010000bu, "SCARD_E_SHARING_VIOLATION",
	  "another program holds the card exclusively", PV_E_SHARING },
	{ 0x8010000cu, "SCARD_E_NO_SMARTCARD",
	  "no card in the reader", PV_E_NO_CARD },
	{ 0x8010000du, "SCARD_E_UNKNOWN_CARD",
	  "the card name is not known", PV_E_NOT_SUPPORTED },
	{ 0x8010000eu, "SCARD_E_CANT_DISPOSE",
	  "the reader cannot dispose of the card as asked", PV_E_TRANSPORT },
	{ 0x8010000fu, "SCARD_E_PROTO_MISMATCH",
	  "the protocol asked for does not match the card's current protocol",
	  PV_E_PROTO },
	{ 0x80100010u, "SCARD_E_NOT_READY",
	  "the reader or card is not ready for commands", PV_E_TRANSPORT },
	{ 0x80100011u, "SCARD_E_INVALID_VALUE",
	  "a parameter value could not be interpreted", PV_E_INTERNAL },
	{ 0x80100012u, "SCARD_E_SYSTEM_CANCELLED",
	  "cancelled by the system (log-off or shutdown)", PV_E_CANCELLED },
	{ 0x80100013u, "SCARD_F_COMM_ERROR",
	  "communication error inside the PC/SC service", PV_E_TRANSPORT },
	{ 0x80100014u, "SCARD_F_UNKNOWN_ERROR",
	  "internal error of unknown origin in the PC/SC service", PV_E_TRANSPORT },
	{ 0x80100015u, "SCARD_E_INVALID_ATR",
	  "the ATR is not valid", PV_E_MALFORMED },
	{ 0x80100016u, "SCARD_E_NOT_TRANSACTED",
	  "ending a transaction that does not exist", PV_E_STATE },
	{ 0x80100017u, "SCARD_E_READER_UNAVAILABLE",
	  "the reader is not available (unplugged, or its driver failed)",
	  PV_E_NO_READER },
	{ 0x80100018u, "SCARD_P_SHUTDOWN",
	  "the operation was aborted to let the service shut down", PV_E_NO_SERVICE },
	{ 0x80100019u, "SCARD_E_PCI_TOO_SMALL",
	  "the PCI receive buffer is too small", PV_E_INTERNAL },
	{ 0x8010001au, "SCARD_E_READER_UNSUPPORTED",
	  "the reader driver does not meet minimal requirements", PV_E_NOT_SUPPORTED },
	{ 0x8010001bu, "SCARD_E_DUPLICATE_READER",
	  "the reader driver did not give a unique reader name", PV_E_CONFIG },
	{ 0x8010001cu, "SCARD_E_CARD_UNSUPPORTED",
	  "the card does not meet minimal requirements", PV_E_NOT_SUPPORTED },
	{ 0x8010001du, "SCARD_E_NO_SERVICE",
	  "the PC/SC service (pcscd) is not running", PV_E_NO_SERVICE },
	{ 0x8010001eu, "SCARD_E_SERVICE_STOPPED",
	  "the PC/SC service (pcscd) has shut down", PV_E_NO_SERVICE },
	{ 0x8010001fu, "SCARD_E_UNEXPECTED/SCARD_E_UNSUPPORTED_FEATURE",
	  "unexpected error, or the reader/card does not support the feature",
	  PV_E_NOT_SUPPORTED },
	{ 0x80100020u, "SCARD_E_ICC_INSTALLATION",
	  "no primary provider for the card", PV_E_NOT_SUPPORTED },
	{ 0x80100021u, "SCARD_E_ICC_CREATEORDER",
	  "the requested object creation order is not supported", PV_E_NOT_SUPPORTED },
	{ 0x80100023u, "SCARD_E_DIR_NOT_FOUND",
	  "the directory does not exist on the card", PV_E_NOT_FOUND },
	{ 0x80100024u, "SCARD_E_FILE_NOT_FOUND",
	  "the file does not exist on the card", PV_E_NOT_FOUND },
	{ 0x80100025u, "SCARD_E_NO_DIR",
	  "the path is not a card directory", PV_E_NOT_FOUND },
	{ 0x80100026u, "SCARD_E_NO_FILE",
	  "the path is not a card file", PV_E_NOT_FOUND },
	{ 0x80100027u, "SCARD_E_NO_ACCESS",
	  "access to the file is denied", PV_E_SECURITY },
	{ 0x80100028u, "SCARD_E_WRITE_TOO_MANY",
	  "not enough memory on the card", PV_E_NO_SPACE },
	{ 0x80100029u, "SCARD_E_BAD_SEEK",
	  "cannot position in the card file", PV_E_TRANSPORT },
	{ 0x8010002au, "SCARD_E_INVALID_CHV",
	  "the PIN is incorrect", PV_E_PIN_WRONG },
	{ 0x8010002bu, "SCARD_E_UNKNOWN_RES_MNG",
	  "unrecognised error from a layered component", PV_E_TRANSPORT },
	{ 0x8010002cu, "SCARD_E_NO_SUCH_CERTIFICATE",
	  "the certificate does not exist", PV_E_NOT_FOUND },
	{ 0x8010002du, "SCARD_E_CERTIFICATE_UNAVAILABLE",
	  "the certificate could not be obtained", PV_E_NOT_FOUND },
	{ 0x8010002eu, "SCARD_E_NO_READERS_AVAILABLE",
	  "no reader is connected", PV_E_NO_READER },
	{ 0x8010002fu, "SCARD_E_COMM_DATA_LOST",
	  "communication with the card lost data; retry", PV_E_TRANSPORT },
	{ 0x80100030u, "SCARD_E_NO_KEY_CONTAINER",
	  "the key container does not exist on the card", PV_E_NOT_FOUND },
	{ 0x80100031u, "SCARD_E_SERVER_TOO_BUSY",
	  "the PC/SC service is too busy", PV_E_TRANSPORT },
	{ 0x80100065u, "SCARD_W_UNSUPPORTED_CARD",
	  "the reader cannot talk to the card (ATR configuration conflict)",
	  PV_E_NOT_SUPPORTED },
	{ 0x80100066u, "SCARD_W_UNRESPONSIVE_CARD",
	  "the card does not answer a reset (mute card, inserted the wrong way?)",
	  PV_E_NO_CARD },
	{ 0x80100067u, "SCARD_W_UNPOWERED_CARD",
	  "the card is not powered", PV_E_NO_CARD },
	{ 0x80100068u, "SCARD_W_RESET_CARD",
	  "the card was reset by another program; security status was lost",
	  PV_E_RESET },
	{ 0x80100069u, "SCARD_W_REMOVED_CARD",
	  "the card was removed", PV_E_NO_CARD },
	{ 0x8010006au, "SCARD_W_SECURITY_VIOLATION",
	  "access denied by a security violation", PV_E_SECURITY },
	{ 0x8010006bu, "SCARD_W_WRONG_CHV",
	  "the wrong PIN was presented", PV_E_PIN_WRONG },
	{ 0x8010006cu, "SCARD_W_CHV_BLOCKED",
	  "the PIN is blocked (no tries left)", PV_E_BLOCKED },
	{ 0x8010006du, "SCARD_W_EOF",
	  "end of the card file reached", PV_E_NOT_FOUND },
	{ 0x8010006eu, "SCARD_W_CANCELLED_BY_USER",
	  "cancelled by the user", PV_E_CANCELLED },
	{ 0x8010006fu, "SCARD_W_CARD_NOT_AUTHENTICATED",
	  "no PIN was presented to the card", PV_E_SECURITY },
};

#define PCSC_N_RC (sizeof(pcsc_rc_rows) / sizeof(pcsc_rc_rows[0]))

static const struct pcsc_rc_row *
pcsc_rc_find(uint32_t rc)
{
	size_t i;

	for (i = 0; i < PCSC_N_RC; i++)
		if (pcsc_rc_rows[i].rc == rc)
			return &pcsc_rc_rows[i];
	return NULL;
}

const char *
pcsc_rc_name(uint32_t rc)
{
	const struct pcsc_rc_row *r = pcsc_rc_find(rc);

	return r != NULL ? r->name : "SCARD_?";
}

const char *
pcsc_rc_text(uint32_t rc)
{
	const struct pcsc_rc_row *r = pcsc_rc_find(rc);

	return r != NULL ? r->text : "unknown PC/SC error";
}

enum pv_err
pcsc_rc_to_err(uint32_t rc)
{
	const struct pcsc_rc_row *r = pcsc_rc_find(rc);

	return r != NULL ? r->err : PV_E_TRANSPORT;
}

bool
pcsc_rc_is_service_gone(uint32_t rc)
{
	return rc == PCSC_RC_NO_SERVICE || rc == PCSC_RC_SERVICE_STOPPED;
}

unsigned
pcsc_rc_count(void)
{
	return (unsigned)PCSC_N_RC;
}

uint32_t
pcsc_rc_at(unsigned i)
{
	return i < PCSC_N_RC ? pcsc_rc_rows[i].rc : 0;
}
