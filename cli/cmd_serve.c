/*
 * cmd_serve.c: `pivstation serve`: parses the options, opens the station,
 * runs the service (issuance/serve.h) until SIGTERM or SIGINT, and writes
 * its log to standard error, one line per event.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "issuance/operator.h"
#include "issuance/serve.h"
#include "issuance/station.h"

struct serve_cli_signals {
	sigset_t set;
	atomic_bool stop;
	atomic_bool reload;
};

static void *
serve_cli_sigwait(void *arg)
{
	struct serve_cli_signals *sg = arg;
	int sig;

	for (;;) {
		if (sigwait(&sg->set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			atomic_store(&sg->reload, true);
			continue;
		}
		atomic_store(&sg->stop, true);
		return NULL;
	}
}

/* One log line on standard error, stamped (journald adds its own). */
static void
serve_cli_log(void *ctx, const char *line)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32];

	(void)ctx;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)gmtime_r(&ts.tv_sec, &tm);
	(void)strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* one write per line: threads log at once */
	flockfile(stderr);
	fprintf(stderr, "%s.%03ldZ ", stamp, ts.tv_nsec / 1000000);
	cli_print_safe(stderr, line, 0);
	fputc('\n', stderr);
	funlockfile(stderr);
}

static void
serve_cli_help(FILE *f)
{
	fprintf(f,
	    "usage: pivstation serve [--listen ADDR:PORT] [--listen-http ADDR:PORT]\n"
	    "                        [--quiet] [passphrase options]\n"
	    "\n"
	    "The station's device-facing service: the OCSP responder, the CRL and\n"
	    "the CA certificates at the [urls] the station's certificates name,\n"
	    "over HTTPS and plain HTTP.  Settings come from [serve]; options\n"
	    "override.  It asks the CA passphrase once at start (--passphrase-file\n"
	    "FILE, --passphrase-fd N, $PIVSTATION_CA_PASSPHRASE, [ca] passphrase)\n"
	    "for the OCSP responder's key and, when the station issues the server\n"
	    "certificate, the issuing CA's.  SIGTERM or SIGINT stops it once the\n"
	    "requests in progress end; SIGHUP re-reads the CRL.\n"
	    "\n"
	    "  --listen ADDR:PORT       HTTPS listener (\"\" = none)\n"
	    "  --listen-http ADDR:PORT  plain HTTP listener (\"\" = none)\n"
	    "  --quiet                  no line per request (errors still)\n");
}

int
cli_cmd_serve(struct cli_global *g, int argc, char **argv)
{
	enum {
		OPT_LISTEN = CLI_OPT__NEXT, OPT_LISTEN_HTTP, OPT_QUIET,
		OPT_PASS_FILE, OPT_PASS_FD
	};
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "listen-http", required_argument, NULL, OPT_LISTEN_HTTP },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "passphrase-file", required_argument, NULL, OPT_PASS_FILE },
		{ "passphrase-fd", required_argument, NULL, OPT_PASS_FD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct serve_cli_signals sg;
	struct serve_opts so;
	struct pass_chain po;
	struct station *stn = NULL;
	struct serve *srv = NULL;
	struct pv_why why = { "" };
	pthread_t th;
	bool sig_thread = false;
	enum pv_err r;
	int c, rc;

	memset(&so, 0, sizeof(so));
	so.access_log = true;
	so.log = serve_cli_log;
	cli_pass_chain(&po);
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case OPT_LISTEN: so.listen = optarg; break;
		case OPT_LISTEN_HTTP: so.listen_http = optarg; break;
		case OPT_QUIET: so.access_log = false; break;
		case OPT_PASS_FILE: po.src[PASS_CA].file = optarg; break;
		case OPT_PASS_FD:
			if ((rc = cli_fd_arg("serve", "--passphrase-fd", optarg,
			    &po.src[PASS_CA].fd)) != CLI_EXIT_OK)
				return rc;
			break;
		case 'h':
			serve_cli_help(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("serve", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("serve", "unexpected argument '%s'",
		    argv[optind]);
	if ((rc = cli_station(g, STATION_NEED_STORE | STATION_NEED_CA, &po,
	    &stn)) != CLI_EXIT_OK)
		return rc;
	if ((rc = cli_permit(stn, OP_CA)) != CLI_EXIT_OK)
		goto out;
	if ((r = serve_new(stn, &so, &srv, &why)) != PV_OK) {
		rc = cli_fail("serve", r, &why);
		goto out;
	}
	/* Signals go to one thread; the workers started next inherit the
	 * mask and never see them. */
	memset(&sg, 0, sizeof(sg));
	atomic_init(&sg.stop, false);
	atomic_init(&sg.reload, false);
	sigemptyset(&sg.set);
	sigaddset(&sg.set, SIGINT);
	sigaddset(&sg.set, SIGTERM);
	sigaddset(&sg.set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &sg.set, NULL) != 0 ||
	    pthread_create(&th, NULL, serve_cli_sigwait, &sg) != 0) {
		cli_error("serve: cannot set up signal handling");
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	sig_thread = true;
	if ((r = serve_start(srv, &why)) != PV_OK) {
		rc = cli_fail("serve", r, &why);
		goto out;
	}
	if ((r = serve_run(srv, &sg.stop, &sg.reload, &why)) != PV_OK) {
		rc = cli_fail("serve", r, &why);
		goto out;
	}
	rc = CLI_EXIT_OK;
out:
	serve_free(srv);
	if (sig_thread) {
		(void)pthread_cancel(th);	/* sigwait is a cancellation point */
		(void)pthread_join(th, NULL);
	}
	return cli_station_done(stn, rc);
}
