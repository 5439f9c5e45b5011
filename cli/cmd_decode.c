/*
 * cmd_decode.c: `pivstation decode [FILE|-]`: explain a recorded APDU
 * conversation (the text form of apdu/decode.h, or the JSON Lines trace
 * whose field names apdu/decode.h lists).  No card is needed.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/decode.h"
#include "cli/cli.h"

static void
decode_help(FILE *f)
{
	fprintf(f,
	    "usage: pivstation decode [--json] [FILE|-]\n"
	    "\n"
	    "Explain an APDU conversation: each command's name, case and\n"
	    "encoding, P1/P2, Lc/Le and data, the response as a TLV tree and\n"
	    "the status word in words.  PINs, PUKs and keys are redacted.\n"
	    "\n"
	    "Input (FILE, or standard input when FILE is - or absent):\n"
	    "  > 00 a4 04 00 05 a0 00 00 03 08 00    a command, in hex\n"
	    "  < 61 11 4f 06 00 00 10 00 01 00 ... 90 00   its response\n"
	    "  # comment\n"
	    "or the JSON Lines trace of --trace-json (one exchange per line,\n"
	    "fields \"cmd\" and \"rsp\").  \"**\" is a byte masked by a trace.\n"
	    "\n"
	    "  --json   one JSON document {\"exchanges\": [...]}\n");
}

static bool
decode_hexish(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		    (*s >= 'A' && *s <= 'F') || *s == '*' || *s == ' ' ||
		    *s == ':'))
			return false;
	return true;
}

/*
 * Turn one JSON trace line into "> cmd\n< rsp\n".  Returns 0, or -1 with a
 * message in |err|.
 */
static int
decode_json_line(const char *line, size_t n, FILE *conv, char *err,
    size_t err_cap)
{
	struct json_object *o = NULL, *v;
	enum json_tokener_error je;
	char *s = NULL;
	const char *cmd, *rsp = NULL, *e = NULL;
	int r = -1;

	if ((s = strndup(line, n)) == NULL) {
		snprintf(err, err_cap, "out of memory");
		goto out;
	}
	o = json_tokener_parse_verbose(s, &je);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		snprintf(err, err_cap, "not a JSON object (%s)",
		    o == NULL ? json_tokener_error_desc(je) : "wrong type");
		goto out;
	}
	if (!json_object_object_get_ex(o, DECODE_JSON_CMD, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !decode_hexish(cmd = json_object_get_string(v))) {
		snprintf(err, err_cap, "no \"%s\" hex string", DECODE_JSON_CMD);
		goto out;
	}
	if (json_object_object_get_ex(o, DECODE_JSON_RSP, &v) &&
	    json_object_is_type(v, json_type_string)) {
		rsp = json_object_get_string(v);
		if (!decode_hexish(rsp)) {
			snprintf(err, err_cap, "\"%s\" is not hex",
			    DECODE_JSON_RSP);
			goto out;
		}
	}
	if (json_object_object_get_ex(o, DECODE_JSON_ERROR, &v) &&
	    json_object_is_type(v, json_type_string))
		e = json_object_get_string(v);
	fprintf(conv, "> %s\n", cmd);
	if (rsp != NULL)
		fprintf(conv, "< %s\n", rsp);
	else if (e != NULL)
		fprintf(conv, "# no response: transport error\n");
	r = 0;
out:
	json_object_put(o);
	free(s);
	return r;
}

/* Read all of |f| (at most DECODE_MAX_INPUT + 1 bytes) into *out. */
static int
decode_read_all(FILE *f, char **out, size_t *out_len)
{
	size_t cap = 65536, len = 0, n;
	char *buf = malloc(cap), *nb;

	*out = NULL;
	*out_len = 0;
	if (buf == NULL)
		return -1;
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len > DECODE_MAX_INPUT)
			break;
		if (len == cap) {
			if ((nb = realloc(buf, cap * 2)) == NULL) {
				free(buf);
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

int
cli_cmd_decode(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = "-";
	FILE *f = NULL, *conv = NULL;
	char *in = NULL, *text = NULL, err[160];
	size_t in_len = 0, text_len = 0, pos, line = 0;
	struct buf_out out;
	struct pv_why why;
	enum pv_err e;
	int c, rc = CLI_EXIT_FAIL;

	memset(&out, 0, sizeof(out));
	pv_why_clear(&why);
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		if (c == 'h') {
			decode_help(stdout);
			return CLI_EXIT_OK;
		}
		return cli_usage_error("decode", "unknown option");
	}
	if (optind + 1 < argc)
		return cli_usage_error("decode", "one input file at most");
	if (optind < argc)
		path = argv[optind];
	if (strcmp(path, "-") == 0) {
		f = stdin;
	} else if ((f = fopen(path, "r")) == NULL) {
		cli_error("decode: %s: %s", path, strerror(errno));
		rc = CLI_EXIT_INPUT;
		goto out;
	}
	if (decode_read_all(f, &in, &in_len) != 0) {
		cli_error("decode: %s: cannot read", path);
		rc = CLI_EXIT_INPUT;
		goto out;
	}
	if (in_len > DECODE_MAX_INPUT) {
		cli_error("decode: %s: larger than %u bytes", path,
		    DECODE_MAX_INPUT);
		rc = CLI_EXIT_INPUT;
		goto out;
	}
	/* JSON Lines become the text form; other lines pass through. */
	if ((conv = open_memstream(&text, &text_len)) == NULL) {
		cli_error("decode: out of memory");
		goto out;
	}
	for (pos = 0; pos < in_len; ) {
		const char *s = in + pos, *nl = memchr(s, '\n', in_len - pos);
		size_t n = nl ? (size_t)(nl - s) : in_len - pos, k = 0;

		pos += n + (nl ? 1 : 0);
		line++;
		while (k < n && (s[k] == ' ' || s[k] == '\t'))
			k++;
		if (k < n && s[k] == '{') {
			if (decode_json_line(s + k, n - k, conv, err,
			    sizeof(err)) != 0) {
				cli_error("decode: %s line %zu: %s", path, line,
				    err);
				rc = CLI_EXIT_INPUT;
				goto out;
			}
		} else {
			fwrite(s, 1, n, conv);
			fputc('\n', conv);
		}
	}
	if (fclose(conv) != 0) {
		conv = NULL;
		cli_error("decode: out of memory");
		goto out;
	}
	conv = NULL;
	if (!buf_out_alloc(&out, 65536, DECODE_MAX_OUTPUT)) {
		cli_error("decode: out of memory");
		goto out;
	}
	e = decode_conversation(text, text_len, g->json, &out, &why);
	if (e != PV_OK) {
		cli_error("decode: %s: %s", path, why.msg[0] ? why.msg :
		    pv_strerror(e));
		rc = cli_exit_for(e);
		goto out;
	}
	if (fwrite(out.p, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
		cli_error("decode: writing the output: %s", strerror(errno));
		goto out;
	}
	rc = CLI_EXIT_OK;
out:
	if (conv != NULL)
		fclose(conv);
	if (f != NULL && f != stdin)
		fclose(f);
	free(text);
	free(in);
	buf_out_cleanup(&out);
	return rc;
}
