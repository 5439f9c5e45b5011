/*
 * cmd_atr.c: `pivstation atr HEX [--json]`: the full ISO 7816-3 decode of
 * an ATR and what pcsc-tools' smartcard_list.txt knows about it.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/buf.h"
#include "cli/cli.h"
#include "cli/cmd_atr.h"
#include "pcsc/atr.h"

struct print_ctx {
	FILE *f;
	const char *indent;
	int n;
};

static void
print_elem(void *arg, const char *field, const char *hex, const char *meaning)
{
	struct print_ctx *p = arg;

	fprintf(p->f, "%s%-16s %-2s  %s\n", p->indent, field, hex, meaning);
}

static void
print_ident(void *arg, const char *pattern, const char *text)
{
	struct print_ctx *p = arg;

	(void)pattern;
	fprintf(p->f, "%s  %s\n", p->indent, text);
	p->n++;
}

int
cli_atr_print(FILE *f, const uint8_t *atr, size_t len, const char *indent)
{
	struct atr_info a;
	struct pv_why why = { { 0 } };
	struct print_ctx p = { f, indent, 0 };
	char hex[ATR_HEX_MAX];
	size_t matched = 0;
	enum pv_err r;

	atr_to_hex(atr, len, hex);
	fprintf(f, "%sATR: %s\n", indent, hex);
	if (atr_parse(atr, len, &a, &why) != PV_OK) {
		fprintf(f, "%s  malformed ATR: %s\n", indent, why.msg);
		return -1;
	}
	atr_explain(&a, print_elem, &p);
	fprintf(f, "%sIdentified (smartcard_list.txt):\n", indent);
	r = atr_identify(NULL, atr, len, print_ident, &p, &matched);
	if (r == PV_E_IO)
		fprintf(f, "%s  (list not readable: install pcsc-tools)\n", indent);
	else if (matched == 0)
		fprintf(f, "%s  (not in the list)\n", indent);
	return 0;
}

struct json_ctx {
	json_object *arr;
};

static void
json_elem(void *arg, const char *field, const char *hex, const char *meaning)
{
	struct json_ctx *j = arg;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "field", json_object_new_string(field));
	json_object_object_add(o, "hex", json_object_new_string(hex));
	json_object_object_add(o, "meaning", cli_json_str(meaning));
	json_object_array_add(j->arr, o);
}

static void
json_ident(void *arg, const char *pattern, const char *text)
{
	struct json_ctx *j = arg;

	(void)pattern;
	json_object_array_add(j->arr, cli_json_str(text));
}

json_object *
cli_atr_json(const uint8_t *atr, size_t len)
{
	json_object *o = json_object_new_object(), *protos, *t1, *caps;
	struct atr_info a;
	struct pv_why why = { { 0 } };
	struct json_ctx j;
	char hex[ATR_HEX_MAX], hist[ATR_MAX_HIST * 2 + 1];
	unsigned t;

	atr_to_hex(atr, len, hex);
	json_object_object_add(o, "atr", json_object_new_string(hex));
	if (atr_parse(atr, len, &a, &why) != PV_OK) {
		json_object_object_add(o, "valid", json_object_new_boolean(0));
		json_object_object_add(o, "error", cli_json_str(why.msg));
		return o;
	}
	json_object_object_add(o, "valid", json_object_new_boolean(1));
	json_object_object_add(o, "convention", json_object_new_string(
	    a.ts == 0x3b ? "direct" : "inverse"));
	protos = json_object_new_array();
	for (t = 0; t < 16; t++)
		if (a.protocols & (1u << t))
			json_object_array_add(protos, json_object_new_int((int)t));
	json_object_object_add(o, "protocols", protos);
	json_object_object_add(o, "first_protocol",
	    json_object_new_int(a.first_proto));
	json_object_object_add(o, "fi", json_object_new_int((int)a.f));
	json_object_object_add(o, "di", json_object_new_int((int)a.d));
	json_object_object_add(o, "fmax_khz",
	    json_object_new_int((int)a.fmax_khz));
	json_object_object_add(o, "clocks_per_etu", json_object_new_double(
	    a.d ? (double)a.f / a.d : 0.0));
	json_object_object_add(o, "guard_time_n", json_object_new_int(a.n));
	json_object_object_add(o, "specific_mode",
	    json_object_new_boolean(a.has_ta2));
	if (a.protocols & 1)
		json_object_object_add(o, "t0_wi", json_object_new_int(a.wi));
	if (a.protocols & 2) {
		t1 = json_object_new_object();
		json_object_object_add(t1, "ifsc", json_object_new_int(a.ifsc));
		json_object_object_add(t1, "bwi", json_object_new_int(a.bwi));
		json_object_object_add(t1, "cwi", json_object_new_int(a.cwi));
		json_object_object_add(t1, "edc",
		    json_object_new_string(a.crc ? "CRC" : "LRC"));
		json_object_object_add(o, "t1", t1);
	}
	buf_hex_upper(a.hist, a.hist_len, hist, sizeof(hist));
	json_object_object_add(o, "historical", json_object_new_string(hist));
	json_object_object_add(o, "category", json_object_new_int(a.category));
	if (a.has_caps) {
		caps = json_object_new_object();
		json_object_object_add(caps, "command_chaining",
		    json_object_new_boolean(a.caps_len >= 3 &&
		    (a.caps[2] & 0x80)));
		json_object_object_add(caps, "extended_length",
		    json_object_new_boolean(a.caps_len >= 3 &&
		    (a.caps[2] & 0x40)));
		json_object_object_add(o, "card_capabilities", caps);
	}
	if (a.has_lcs)
		json_object_object_add(o, "life_cycle", json_object_new_int(a.lcs));
	json_object_object_add(o, "tck_present",
	    json_object_new_boolean(a.tck_present));
	json_object_object_add(o, "tck_ok", json_object_new_boolean(a.tck_ok));
	j.arr = json_object_new_array();
	atr_explain(&a, json_elem, &j);
	json_object_object_add(o, "elements", j.arr);
	j.arr = json_object_new_array();
	(void)atr_identify(NULL, atr, len, json_ident, &j, NULL);
	json_object_object_add(o, "identified", j.arr);
	return o;
}

struct first_ctx {
	char *out;
	size_t cap;
	bool done;
};

static void
first_ident(void *arg, const char *pattern, const char *text)
{
	struct first_ctx *fc = arg;

	(void)pattern;
	if (fc->done)
		return;
	snprintf(fc->out, fc->cap, "%s", text);
	fc->done = true;
}

void
cli_atr_identify_first(const uint8_t *atr, size_t len, char *out, size_t cap)
{
	struct first_ctx fc = { out, cap, false };

	if (cap > 0)
		out[0] = '\0';
	(void)atr_identify(NULL, atr, len, first_ident, &fc, NULL);
}

static void
atr_usage(FILE *f)
{
	fprintf(f,
	    "usage: pivstation atr [--json] HEX...\n"
	    "\n"
	    "Decode an ATR (ISO 7816-3): TS, T0, the TA/TB/TC/TD chains, the\n"
	    "protocols offered, Fi/Di and the bit rate, guard time, T=1 IFSC/\n"
	    "BWI/CWI, the historical bytes (compact-TLV card capabilities: extended\n"
	    "length, chaining) and TCK; then what /usr/share/pcsc/smartcard_list.txt\n"
	    "says about it.  HEX may be spaced (\"3B FD 13 ...\") or not.\n");
}

int
cli_cmd_atr(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char hex[512];
	uint8_t atr[ATR_MAX_LEN];
	size_t len = 0, o = 0, n;
	struct pv_why why = { { 0 } };
	json_object *j;
	int c, i;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		if (c == 'h') {
			atr_usage(stdout);
			return CLI_EXIT_OK;
		}
		return cli_usage_error("atr", "unknown option");
	}
	if (optind >= argc)
		return cli_usage_error("atr", "give the ATR in hex");
	hex[0] = '\0';
	for (i = optind; i < argc; i++) {
		n = strlen(argv[i]);
		if (o + n + 2 > sizeof(hex))
			return cli_usage_error("atr", "ATR too long");
		memcpy(hex + o, argv[i], n);
		o += n;
		hex[o++] = ' ';
		hex[o] = '\0';
	}
	if (atr_from_hex(hex, atr, &len, &why) != PV_OK) {
		cli_error("atr: %s", why.msg);
		return CLI_EXIT_INPUT;
	}
	if (g->json) {
		j = cli_atr_json(atr, len);
		c = json_object_get_boolean(json_object_object_get(j, "valid"));
		cli_json_doc(j);
		return c ? CLI_EXIT_OK : CLI_EXIT_INPUT;
	}
	return cli_atr_print(stdout, atr, len, "") == 0 ? CLI_EXIT_OK :
	    CLI_EXIT_INPUT;
}
