/*
 * util.c: exit codes, error printing and JSON string output for cli/.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "cli/cli.h"

int
cli_exit_for(enum pv_err e)
{
	switch (pv_err_class(e)) {
	case PV_CLASS_OK: return CLI_EXIT_OK;
	case PV_CLASS_CARD_GONE: return CLI_EXIT_NO_CARD;
	case PV_CLASS_CARD: return CLI_EXIT_CARD;
	case PV_CLASS_AUTH: return CLI_EXIT_AUTH;
	case PV_CLASS_INPUT: return CLI_EXIT_INPUT;
	case PV_CLASS_VERIFY: return CLI_EXIT_VERIFY;
	case PV_CLASS_CANCEL: return CLI_EXIT_INTERRUPTED;
	case PV_CLASS_STATE:
	case PV_CLASS_INTERNAL:
		break;
	}
	return CLI_EXIT_FAIL;
}

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("pivstation: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pivstation %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'pivstation %s --help'.\n", cmd);
	return CLI_EXIT_USAGE;
}

void
cli_json_string(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)(s ? s : ""); *p != '\0'; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

bool
cli_global_opt(struct cli_global *g, int c, const char *arg)
{
	switch (c) {
	case CLI_OPT_TRACE:
		g->trace_path = arg;
		return true;
	case CLI_OPT_TRACE_JSON:
		g->trace_json = true;
		return true;
	case CLI_OPT_STATS:
		g->stats = true;
		return true;
	case CLI_OPT_JSON:
		g->json = true;
		return true;
	case CLI_OPT_HOME:
		g->home = arg;
		return true;
	case 'r':
		g->reader = arg;
		return true;
	case 'v':
		g->verbose++;
		return true;
	default:
		return false;
	}
}


void
cli_json_line(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(o);
}
