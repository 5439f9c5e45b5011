/*
 * util.c: exit codes, error printing and the JSON printers of cli/.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "apdu/text.h"
#include "cli/cli.h"
#include "issuance/wf.h"

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
cli_print_safe(FILE *f, const char *s, int width)
{
	char buf[1024], *dyn = NULL;
	const char *out = buf;
	size_t n = s != NULL ? strlen(s) : 0;

	if (text_sanitize(s, n, TEXT_SAN_TERMINAL, buf, sizeof(buf)) >=
	    sizeof(buf) && (dyn = text_sanitize_dup(s, TEXT_SAN_TERMINAL)) !=
	    NULL)
		out = dyn;
	fputs(out, f);
	if (width > 0)
		for (n = text_utf8_count(out, strlen(out)); n <= (size_t)width;
		    n++)
			fputc(' ', f);
	free(dyn);
}

/* Messages carry reader names, card text and file names: one line, safe. */
void
cli_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fputs("pivstation: ", stderr);
	cli_print_safe(stderr, msg, 0);
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

struct json_object *
cli_json_str(const char *s)
{
	char *safe = text_sanitize_dup(s, TEXT_SAN_JSON);
	struct json_object *o = json_object_new_string(safe ? safe : "");

	free(safe);
	return o;
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

/* ---- JSON output: json-c trees, serialised here only -------------------- */

/* Slashes stay as they are: paths and URLs read better without "\/". */
#define CLI_JSON_PLAIN	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define CLI_JSON_PRETTY	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

struct json_object *
cli_json_parse_object(const char *s)
{
	struct json_tokener *tok = NULL;
	struct json_object *o = NULL;
	size_t n, end;

	if (s == NULL || (tok = json_tokener_new()) == NULL)
		goto out;
	n = strlen(s);
	json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)(n < INT_MAX ? n : INT_MAX));
	if (o == NULL || n >= INT_MAX ||
	    json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object))
		goto fail;
	/* nothing but white space after the object */
	for (end = json_tokener_get_parse_end(tok); end < n; end++)
		if (strchr(" \t\r\n", s[end]) == NULL)
			goto fail;
	goto out;
fail:
	json_object_put(o);
	o = NULL;
out:
	if (tok != NULL)
		json_tokener_free(tok);
	return o;
}

void
cli_json_line(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, CLI_JSON_PLAIN));
	fflush(stdout);
	json_object_put(o);
}

void
cli_json_doc(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, CLI_JSON_PRETTY));
	fflush(stdout);
	json_object_put(o);
}

void
cli_json_list_begin(struct cli_json_list *l, const char *key)
{
	struct json_object *k = json_object_new_string(key);

	l->n = 0;
	printf("{%s:[\n", json_object_to_json_string_ext(k, CLI_JSON_PLAIN));
	json_object_put(k);
}

void
cli_json_list_add(struct cli_json_list *l, struct json_object *o)
{
	printf("%s%s", l->n > 0 ? ",\n" : "",
	    json_object_to_json_string_ext(o, CLI_JSON_PLAIN));
	l->n++;
	json_object_put(o);
}

void
cli_json_list_end(struct cli_json_list *l)
{
	printf("%s]}\n", l->n > 0 ? "\n" : "");
	fflush(stdout);
}

void
cli_wf_event(const char *cmd, bool json, int iw, int sw,
    const struct wf_event *ev)
{
	json_object *o;

	if (json) {
		o = json_object_new_object();
		json_object_object_add(o, "event",
		    json_object_new_string("step"));
		if (ev->job_id != 0)
			json_object_object_add(o, "job",
			    json_object_new_int64(ev->job_id));
		json_object_object_add(o, "step",
		    json_object_new_string(ev->step));
		json_object_object_add(o, "index",
		    json_object_new_int((int)ev->index));
		json_object_object_add(o, "count",
		    json_object_new_int((int)ev->count));
		json_object_object_add(o, "state", json_object_new_string(
		    wf_step_state_name(ev->state)));
		json_object_object_add(o, "text", cli_json_str(ev->text));
		cli_json_line(o);
		return;
	}
	fprintf(stderr, "%s: [%*u/%u] %-*s %-11s ", cmd, iw, ev->index,
	    ev->count, sw, ev->step, wf_step_state_name(ev->state));
	cli_print_safe(stderr, ev->text, 0);
	fputc('\n', stderr);
}
