/*
 * batch_out.c: the results file of a batch (batch.h): a CSV line per row
 * from the store, written to a temporary name, synced and renamed, so a
 * reader of the file never sees half of it.
 *
 *	row,person_id,name,status,serial,card_uuid,fascn,cert_9a,cert_9c,
 *	cert_9d,cert_9e,job,error
 *
 * status: "issued", "failed", "in progress" (started, waiting for its
 * card) or "pending".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apdu/fascn.h"
#include "issuance/batch_int.h"
#include "issuance/store.h"

#define RESULTS_HEADER	"row,person_id,name,status,serial,card_uuid,fascn," \
	"cert_9a,cert_9c,cert_9d,cert_9e,job,error\n"

static const uint8_t results_slots[4] = { 0x9a, 0x9c, 0x9d, 0x9e };

static const char *
results_status(enum store_brow_state s)
{
	switch (s) {
	case STORE_BROW_DONE: return "issued";
	case STORE_BROW_FAILED: return "failed";
	case STORE_BROW_RUNNING: return "in progress";
	default: return "pending";
	}
}

/* One row's line into |o| (|cap| bytes). */
static bool
results_line(struct store *st, const struct store_batch_row *sr,
    const struct batch_row *br, char *o, size_t cap)
{
	char num[24], name[3 * IDENTITY_NAME_MAX + 8], uuid[40] = "";
	char fstr[FASCN_STR_LEN] = "", serials[4][STORE_CERT_SERIAL_MAX];
	char serial[STORE_SERIAL_TEXT_MAX] = "";
	struct store_job j;
	struct store_device d;
	struct store_cert c;
	struct fascn f;
	size_t n = 0;
	unsigned i;
	bool ok;

	memset(serials, 0, sizeof(serials));
	if (br == NULL ||
	    identity_printed_name(&br->id, name, sizeof(name)) != PV_OK)
		name[0] = '\0';
	if (sr->job_id != 0 && store_job_get(st, sr->job_id, &j, NULL) ==
	    PV_OK && j.device_id != 0 &&
	    store_device_get(st, j.device_id, &d, NULL) == PV_OK) {
		(void)snprintf(serial, sizeof(serial), "%s", d.serial);
		if (d.has_guid)
			pkix_uuid_str(d.guid, uuid);
		if (d.has_fascn && fascn_decode(d.fascn, FASCN_LEN, &f, NULL) ==
		    PV_OK)
			fascn_to_string(&f, fstr);
		for (i = 0; i < 4; i++) {
			memset(&c, 0, sizeof(c));
			if (store_cert_live(st, d.id, results_slots[i], &c,
			    NULL) == PV_OK)
				(void)snprintf(serials[i], sizeof(serials[i]),
				    "%s", c.serial);
			store_cert_cleanup(&c);
		}
	}
	(void)snprintf(num, sizeof(num), "%u", sr->row);
	ok = batch_csv_field(o, cap, &n, num, false) &&
	    batch_csv_field(o, cap, &n, sr->person_id, false) &&
	    batch_csv_field(o, cap, &n, name, false) &&
	    batch_csv_field(o, cap, &n, results_status(sr->state), false) &&
	    batch_csv_field(o, cap, &n, serial, false) &&
	    batch_csv_field(o, cap, &n, uuid, false) &&
	    batch_csv_field(o, cap, &n, fstr, false);
	for (i = 0; i < 4 && ok; i++)
		ok = batch_csv_field(o, cap, &n, serials[i], false);
	(void)snprintf(num, sizeof(num), "%lld", (long long)sr->job_id);
	return ok && batch_csv_field(o, cap, &n, sr->job_id ? num : "",
	    false) && batch_csv_field(o, cap, &n, sr->detail, true);
}

static bool
results_write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

enum pv_err
batch_results_write(struct station *stn, int64_t id,
    const struct batch_rows *rows, const char *path, struct pv_why *why)
{
	struct store *st = station_store(stn);
	struct store_batch_row *srows = NULL;
	char tmp[STORE_BATCH_PATH_MAX + 8], *line = NULL;
	size_t n = 0, i, cap = 4 * STORE_DETAIL_MAX;
	mode_t old;
	int fd = -1;
	enum pv_err r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return pv_why_set(why, PV_E_TOO_LONG, "results file: path too "
		    "long");
	if ((r = store_batch_rows(st, id, &srows, &n, why)) != PV_OK)
		return r;
	if ((line = malloc(cap)) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	old = umask(077);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	(void)umask(old);
	if (fd < 0) {
		r = pv_why_set(why, PV_E_IO, "results file %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	if (!results_write_all(fd, RESULTS_HEADER, strlen(RESULTS_HEADER))) {
		r = pv_why_set(why, PV_E_IO, "results file %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		line[0] = '\0';
		if (!results_line(st, &srows[i], batch_rows_find(rows,
		    srows[i].row), line, cap) ||
		    !results_write_all(fd, line, strlen(line))) {
			r = pv_why_set(why, PV_E_IO, "results file %s: row %u: "
			    "%s", tmp, srows[i].row, strerror(errno));
			goto out;
		}
	}
	if (fsync(fd) != 0) {
		r = pv_why_set(why, PV_E_IO, "results file %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	(void)close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		r = pv_why_set(why, PV_E_IO, "results file %s: %s", path,
		    strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	r = PV_OK;
out:
	if (fd >= 0) {
		(void)close(fd);
		(void)unlink(tmp);
	}
	free(line);
	free(srows);
	return r;
}
