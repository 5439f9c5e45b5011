/*
 * trace.c: the APDU tracer.  Redaction is decided from the command bytes
 * by apdu/redact.c, at the source: nothing secret is formatted at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apdu/redact.h"
#include "apdu/sw.h"
#include "apdu/text.h"
#include "pcsc/internal.h"
#include "pcsc/trace.h"

struct pcsc_trace {
	FILE *f;
	bool json;
	bool own;
	unsigned long seq;
};

struct pcsc_trace_tap {
	struct pcsc_trace *t;
	struct apdu_transport inner;
	struct redact_ctx rc;
	char reader[PCSC_READER_NAME_MAX];
};

void
pcsc_trace_time(char out[PCSC_TIME_LEN])
{
	struct timespec ts;
	struct tm tm;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)gmtime_r(&ts.tv_sec, &tm);
	(void)snprintf(out, PCSC_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

enum pv_err
pcsc_trace_open(const char *path, bool json, struct pcsc_trace **out,
    struct pv_why *why)
{
	struct pcsc_trace *t;
	int fd;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return PV_E_NOMEM;
	t->json = json;
	if (strcmp(path, "-") == 0) {
		t->f = stderr;
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd < 0 || (t->f = fdopen(fd, "w")) == NULL) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			free(t);
			return pv_why_set(why, PV_E_IO, "--trace %s: %s", path,
			    strerror(e));
		}
		(void)fchmod(fd, 0600);	/* an existing file keeps its mode */
		t->own = true;
	}
	*out = t;
	return PV_OK;
}

void
pcsc_trace_close(struct pcsc_trace *t)
{
	if (t == NULL)
		return;
	if (t->own)
		fclose(t->f);
	else
		fflush(t->f);
	free(t);
}

void
pcsc_trace_note(struct pcsc_trace *t, const char *fmt, ...)
{
	char ts[PCSC_TIME_LEN];
	va_list ap;

	if (t == NULL || t->json)
		return;
	pcsc_trace_time(ts);
	fprintf(t->f, "# %s ", ts);
	va_start(ap, fmt);
	vfprintf(t->f, fmt, ap);
	va_end(ap);
	fputc('\n', t->f);
	fflush(t->f);
}

/* Redacted hex of |p| in a new string (NULL when out of memory). */
static char *
trace_hex(const uint8_t *p, size_t len, size_t mask_off, size_t mask_len,
    bool spaced)
{
	size_t need = redact_hex(NULL, 0, p, len, mask_off, mask_len, spaced);
	char *s = malloc(need + 1);

	if (s != NULL)
		(void)redact_hex(s, need + 1, p, len, mask_off, mask_len, spaced);
	return s;
}

/* A reader name as a JSON string: made valid UTF-8 (apdu/text.h), then
 * quoted. */
static void
trace_json_str(FILE *f, const char *name)
{
	char *safe = text_sanitize_dup(name, TEXT_SAN_JSON);
	const char *s = safe != NULL ? safe : "";

	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
	free(safe);
}

static enum pv_err
trace_xfer(void *arg, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp,
    size_t rsp_cap, size_t *rsp_len)
{
	struct pcsc_trace_tap *tap = arg;
	struct pcsc_trace *t = tap->t;
	char ts[PCSC_TIME_LEN], swt[128];
	char *ch = NULL, *rh = NULL;
	size_t keep = cmd_len;
	bool mask_cmd, mask_rsp;
	uint64_t t0, us;
	enum pv_err r;
	const char *ins;
	uint16_t sw = 0;

	if (t == NULL)
		return tap->inner.xfer(tap->inner.ctx, cmd, cmd_len, rsp, rsp_cap,
		    rsp_len);
	pcsc_trace_time(ts);
	mask_cmd = redact_ctx_cmd(&tap->rc, cmd, cmd_len, &keep);
	if (!mask_cmd || keep > cmd_len)
		keep = cmd_len;
	ch = trace_hex(cmd, cmd_len, keep, cmd_len - keep, !t->json);
	t0 = pcsc_now_ns();
	r = tap->inner.xfer(tap->inner.ctx, cmd, cmd_len, rsp, rsp_cap, rsp_len);
	us = (pcsc_now_ns() - t0) / 1000u;
	t->seq++;
	if (r == PV_OK && *rsp_len >= 2) {
		mask_rsp = redact_ctx_rsp(&tap->rc, rsp, *rsp_len);
		rh = trace_hex(rsp, *rsp_len, 0, mask_rsp ? *rsp_len - 2 : 0,
		    !t->json);
		sw = (uint16_t)(rsp[*rsp_len - 2] << 8 | rsp[*rsp_len - 1]);
	}
	ins = cmd_len >= 2 ? apdu_ins_name(cmd[1]) : NULL;
	if (t->json) {
		fprintf(t->f, "{\"seq\":%lu,\"t\":\"%s\",\"reader\":", t->seq, ts);
		trace_json_str(t->f, tap->reader);
		fprintf(t->f, ",\"cmd\":\"%s\"", ch != NULL ? ch : "");
		if (rh != NULL)
			fprintf(t->f, ",\"rsp\":\"%s\"", rh);
		fprintf(t->f, ",\"us\":%llu", (unsigned long long)us);
		if (r != PV_OK)
			fprintf(t->f, ",\"err\":\"%s\"", pv_errname(r));
		fputs("}\n", t->f);
	} else {
		fprintf(t->f, "> %s # %s %s\n", ch != NULL ? ch : "", ts,
		    ins != NULL ? ins : "");
		if (rh != NULL)
			fprintf(t->f, "< %s # %llu.%03llu ms %s\n", rh,
			    (unsigned long long)(us / 1000),
			    (unsigned long long)(us % 1000),
			    sw_text(sw, swt, sizeof(swt)));
		else
			fprintf(t->f, "# no response: %s (%s)\n", pv_errname(r),
			    pv_strerror(r));
	}
	fflush(t->f);
	free(ch);
	free(rh);
	return r;
}

enum pv_err
pcsc_trace_tap_new(struct pcsc_trace *t, const struct apdu_transport *inner,
    const char *reader, struct pcsc_trace_tap **out,
    struct apdu_transport *out_tr)
{
	struct pcsc_trace_tap *tap;

	*out = NULL;
	if ((tap = calloc(1, sizeof(*tap))) == NULL)
		return PV_E_NOMEM;
	tap->t = t;
	tap->inner = *inner;
	redact_ctx_init(&tap->rc);
	if (reader != NULL)
		(void)snprintf(tap->reader, sizeof(tap->reader), "%s", reader);
	out_tr->xfer = trace_xfer;
	out_tr->ctx = tap;
	*out = tap;
	return PV_OK;
}

void
pcsc_trace_tap_free(struct pcsc_trace_tap *tap)
{
	free(tap);
}
