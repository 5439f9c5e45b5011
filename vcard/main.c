/*
 * main.c: pivstation-vcard, a virtual PIV card / USB key for vpcd.
 *
 *   pivstation-vcard --port PORT --profile usb-key|piv-card|mobile
 *       --state FILE [--serial N] [--firmware X.Y.Z] [--quirk Q]...
 *       [--fault F]... [--latency MODEL] [--stats FILE] [--host ADDR] [-v]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apdu/buf.h"
#include "vcard/card.h"
#include "vcard/crypto.h"
#include "vcard/latency.h"
#include "vcard/server.h"
#include "vcard/state.h"

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t dump_flag;

static void
on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
on_usr1(int sig)
{
	(void)sig;
	dump_flag = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: pivstation-vcard --port PORT --profile PROFILE --state FILE\n"
	    "           [--serial N] [--firmware X.Y.Z] [--quirk Q]... [--fault F]...\n"
	    "           [--latency MODEL] [--stats FILE] [--host ADDR] [-v]\n"
	    "       pivstation-vcard --attestation-root\n"
	    "\n"
	    "  PROFILE  usb-key (YubiKey-5-like), piv-card (plain SP 800-73-4),\n"
	    "           mobile (SP 800-157 derived-credential token)\n"
	    "  FILE     card state; created as a factory-fresh card if absent\n"
	    "  X.Y.Z    usb-key firmware (default 5.4.3); extensions newer than\n"
	    "           it answer 6D00 (firmware-notes/yubikey-firmware-gates.md);\n"
	    "           the management application's SELECT reports it\n"
	    "           (firmware-notes/yubikey-management-app.md)\n"
	    "  Q        no-extended, get-response-255, select-needs-full-aid,\n"
	    "           pin-sw-630x, discovery-builtin, factory-chuid\n"
	    "           (applied when FILE is created and after a PIV\n"
	    "           reset) (see firmware-notes/)\n"
	    "  F        remove-after=N[:MS], mute-after=N[:MS], garbage-after=N,\n"
	    "           reset-after=N\n"
	    "  MODEL    none (default), yubikey5, apdu=MS, or yubikey5,apdu=MS\n"
	    "  --stats  APDU and byte counts as JSON, written on exit and SIGUSR1\n"
	    "  --attestation-root  print the root (PEM) that every usb-key's F9\n"
	    "           attestation certificate chains to\n");
}

struct save_ctx {
	const char *path;
};

static enum pv_err
save_state(void *ctx, const struct vc_state *st)
{
	struct save_ctx *sc = ctx;
	struct pv_why why = { { 0 } };
	enum pv_err r;

	if ((r = vc_state_save(sc->path, st, &why)) != PV_OK)
		fprintf(stderr, "pivstation-vcard: cannot save state: %s\n",
		    why.msg[0] ? why.msg : pv_strerror(r));
	return r;
}

static bool
parse_version(const char *s, uint8_t out[3])
{
	unsigned a, b, c;
	char tail;

	if (sscanf(s, "%u.%u.%u%c", &a, &b, &c, &tail) != 3 || a > 255 ||
	    b > 255 || c > 255)
		return false;
	out[0] = (uint8_t)a;
	out[1] = (uint8_t)b;
	out[2] = (uint8_t)c;
	return true;
}

/* Takes an exclusive lock on FILE.lock so two vcards never share a card. */
static int
lock_state(const char *path)
{
	char lk[4096];
	int n, fd;

	n = snprintf(lk, sizeof(lk), "%s.lock", path);
	if (n < 0 || (size_t)n >= sizeof(lk))
		return -1;
	if ((fd = open(lk, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return -2;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "profile", required_argument, NULL, 'P' },
		{ "state", required_argument, NULL, 's' },
		{ "serial", required_argument, NULL, 'S' },
		{ "firmware", required_argument, NULL, 'F' },
		{ "quirk", required_argument, NULL, 'q' },
		{ "fault", required_argument, NULL, 'f' },
		{ "latency", required_argument, NULL, 'l' },
		{ "stats", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "attestation-root", no_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	struct vc_config cfg;
	struct vc_state st;
	struct vc_server srv;
	struct vc_card *card = NULL;
	struct save_ctx sc;
	struct pv_why why = { { 0 } };
	struct sigaction sa;
	struct rlimit rl = { 0, 0 };
	enum vc_profile profile = VC_PROFILE_NONE;
	const char *state_path = NULL;
	unsigned long long port = 0, serial = 0;
	unsigned long v;
	bool have_serial = false, have_fw = false;
	uint8_t fw[3] = { 5, 4, 3 };
	char name[64];
	int c, lockfd, rc = 1;
	enum pv_err r;

	memset(&cfg, 0, sizeof(cfg));
	memset(&st, 0, sizeof(st));
	memset(&srv, 0, sizeof(srv));
	srv.host = "127.0.0.1";
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!buf_dec_uint(optarg, 65535, &port) || port == 0)
				goto bad_usage;
			break;
		case 'H':
			srv.host = optarg;
			break;
		case 'P':
			if ((profile = vc_profile_parse(optarg)) ==
			    VC_PROFILE_NONE) {
				fprintf(stderr, "pivstation-vcard: unknown "
				    "profile \"%s\"\n", optarg);
				goto bad_usage;
			}
			break;
		case 's':
			state_path = optarg;
			break;
		case 'S':
			if (!buf_dec_uint(optarg, 0xffffffffULL, &serial))
				goto bad_usage;
			have_serial = true;
			break;
		case 'F':
			if (!parse_version(optarg, fw))
				goto bad_usage;
			have_fw = true;
			break;
		case 'q':
			if ((v = vc_quirk_parse(optarg)) == 0) {
				fprintf(stderr, "pivstation-vcard: unknown "
				    "quirk \"%s\"\n", optarg);
				goto bad_usage;
			}
			cfg.quirks |= (unsigned)v;
			break;
		case 'f':
			if (cfg.n_faults == VC_MAX_FAULTS ||
			    !vc_fault_parse(optarg, &cfg.faults[cfg.n_faults],
			    &why)) {
				fprintf(stderr, "pivstation-vcard: %s\n",
				    why.msg[0] ? why.msg : "too many faults");
				goto bad_usage;
			}
			cfg.n_faults++;
			break;
		case 'l':
			if (!vc_latency_parse(optarg, &srv.lat, &why)) {
				fprintf(stderr, "pivstation-vcard: %s\n",
				    why.msg);
				goto bad_usage;
			}
			break;
		case 'o':
			srv.stats_path = optarg;
			break;
		case 'v':
			srv.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'A':
			fputs(vc_attest_root_pem(), stdout);
			return 0;
		default:
			goto bad_usage;
		}
	}
	if (optind != argc || port == 0 || profile == VC_PROFILE_NONE ||
	    state_path == NULL)
		goto bad_usage;

	/* The process holds PINs and private keys: no core dumps. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)setrlimit(RLIMIT_CORE, &rl);
	umask(077);

	if ((lockfd = lock_state(state_path)) < 0) {
		fprintf(stderr, "pivstation-vcard: %s: %s\n", state_path,
		    lockfd == -2 ? "in use by another vcard" :
		    "cannot create the lock file");
		return 1;
	}
	r = vc_state_load(state_path, &st, &why);
	if (r == PV_E_NO_FILE) {
		if (!have_serial) {
			uint8_t b[4];

			if (!vc_rand(b, sizeof(b)))
				goto out;
			serial = 10000000u + (((unsigned long)b[0] << 24 |
			    (unsigned long)b[1] << 16 | (unsigned long)b[2] << 8 |
			    b[3]) % 90000000u);
		}
		if ((r = vc_state_factory(&st, profile, (uint32_t)serial,
		    fw)) != PV_OK ||
		    (r = vc_quirk_factory(&st, cfg.quirks)) != PV_OK) {
			fprintf(stderr, "pivstation-vcard: cannot make a card: "
			    "%s\n", pv_strerror(r));
			goto out;
		}
		sc.path = state_path;
		if (save_state(&sc, &st) != PV_OK)
			goto out;
	} else if (r != PV_OK) {
		fprintf(stderr, "pivstation-vcard: %s\n",
		    why.msg[0] ? why.msg : pv_strerror(r));
		goto out;
	} else {
		if (st.profile != profile) {
			fprintf(stderr, "pivstation-vcard: %s holds a %s, not a "
			    "%s\n", state_path, vc_profile_name(st.profile),
			    vc_profile_name(profile));
			goto out;
		}
		if (have_serial && st.serial != serial)
			fprintf(stderr, "pivstation-vcard: %s: keeping the "
			    "card's serial %u\n", state_path,
			    (unsigned)st.serial);
		if (have_fw && memcmp(st.version, fw, 3) != 0)
			fprintf(stderr, "pivstation-vcard: %s: keeping the "
			    "card's firmware %u.%u.%u\n", state_path,
			    st.version[0], st.version[1], st.version[2]);
	}
	sc.path = state_path;
	if (vc_card_new(&st, &cfg, save_state, &sc, &card) != PV_OK)
		goto out;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	(void)snprintf(name, sizeof(name), "pivstation-vcard[%s:%llu]",
	    vc_profile_name(profile), port);
	srv.name = name;
	srv.port = (uint16_t)port;
	srv.card = card;
	srv.profile = vc_profile_name(profile);
	if (vc_server_run(&srv, &stop_flag, &dump_flag) != PV_OK)
		goto out;
	rc = 0;
out:
	if (srv.stats_path != NULL && srv.card != NULL &&
	    vc_stats_write(&srv, srv.stats_path) != PV_OK) {
		fprintf(stderr, "pivstation-vcard: cannot write %s\n",
		    srv.stats_path);
		rc = 1;
	}
	vc_card_free(card);
	vc_state_cleanup(&st);
	return rc;
bad_usage:
	usage(stderr);
	return 2;
}
