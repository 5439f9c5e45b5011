/*
 * server.c: the vcard's TCP link to vpcd, latency, faults and stats.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vcard/server.h"
#include "vcard/vpcd.h"

#define RECONNECT_MS	50
#define POLL_MS		200
#define RX_CHUNK	65536

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t
now_ms(void)
{
	return now_us() / 1000u;
}

/* Sleeps |us| microseconds, in slices, giving up early on a stop. */
static void
sleep_us(uint64_t us, volatile sig_atomic_t *stop)
{
	while (us > 0 && !*stop) {
		uint64_t slice = us > 100000 ? 100000 : us;
		struct timespec ts = {
			.tv_sec = (time_t)(slice / 1000000),
			.tv_nsec = (long)(slice % 1000000) * 1000,
		};

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !*stop)
			;
		us -= slice;
	}
}

/*
 * vpcd 3.3 sends a message's length and its body as two writes, so its
 * Nagle algorithm holds the body until our ACK arrives; a delayed ACK
 * would cost 40 ms per message.  Linux clears TCP_QUICKACK as it goes,
 * so it is set again after every read.
 */
static void
quick_ack(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static int
connect_once(const struct vc_server *s)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(s->port);
	if (inet_pton(AF_INET, s->host, &sa.sin_addr) != 1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	quick_ack(fd);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void
log_apdu(const struct vc_server *s, const uint8_t *cmd, size_t len,
    const struct buf_out *reply, enum vc_action act)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	/*
	 * Header and SW only: command data may hold a PIN or a key.  |reply|
	 * is the vpcd frame: 2 length bytes, then data and SW; the count
	 * logged is the response APDU's length, SW included.
	 */
	fprintf(stderr, "%ld.%06ld %s: > %02x %02x %02x %02x (%zu %s)",
	    (long)ts.tv_sec, ts.tv_nsec / 1000, s->name,
	    len > 0 ? cmd[0] : 0, len > 1 ? cmd[1] : 0, len > 2 ? cmd[2] : 0,
	    len > 3 ? cmd[3] : 0, len, buf_bytes_word(len));
	if (act == VC_ACT_REPLY && reply->len >= 4)
		fprintf(stderr, " < %02x%02x (%zu %s)\n",
		    reply->p[reply->len - 2], reply->p[reply->len - 1],
		    reply->len - 2, buf_bytes_word(reply->len - 2));
	else
		fprintf(stderr, " < %s\n", act == VC_ACT_REMOVE ? "(removed)" :
		    act == VC_ACT_MUTE ? "(mute)" : "(nothing)");
}

/* -v: the reader driver's power requests, to follow a card's life through
 * pcscd.  Not the ATR requests: vpcd asks for the ATR on every presence
 * poll (counted in the stats instead). */
static void
log_ctrl(const struct vc_server *s, const uint8_t *msg, size_t len,
    enum vc_msg_kind kind)
{
	static const char *const power[] = { "power off", "power on",
	    "reset" };
	struct timespec ts;
	const char *what = "unknown control message";

	if (kind == VC_MSG_POWER && len == 1 && msg[0] < 3)
		what = power[msg[0]];
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "%ld.%06ld %s: %s\n", (long)ts.tv_sec,
	    ts.tv_nsec / 1000, s->name, what);
}

enum link_end {
	LINK_LOST,		/* peer closed or I/O error: reconnect */
	LINK_STOP,		/* *stop was set */
	LINK_REMOVED,		/* remove fault: stay away (for a while) */
	LINK_MUTED,		/* mute fault */
};

/* Serves one connection until it ends. */
static enum link_end
serve(struct vc_server *s, int fd, struct vc_frame_dec *dec,
    uint8_t *rx, volatile sig_atomic_t *stop, volatile sig_atomic_t *dump)
{
	struct buf_out reply;
	enum link_end end = LINK_LOST;

	memset(&reply, 0, sizeof(reply));
	while (!*stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		size_t off = 0;
		int pr;

		if (*dump) {
			*dump = 0;
			if (s->stats_path != NULL)
				(void)vc_stats_write(s, s->stats_path);
		}
		pr = poll(&pfd, 1, POLL_MS);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			goto out;
		if (pr == 0)
			continue;
		n = recv(fd, rx, RX_CHUNK, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		quick_ack(fd);
		while (off < (size_t)n) {
			enum vc_msg_kind kind;
			enum vc_action act;
			struct vc_cost cost;
			uint64_t us, t0, spent;

			off += vc_frame_feed(dec, rx + off, (size_t)n - off);
			if (!dec->done)
				continue;
			buf_out_cleanup(&reply);
			if (!buf_out_alloc(&reply, 600, 65540))
				goto out;
			t0 = now_us();
			act = vc_vpcd_message(s->card, dec->msg, dec->need,
			    &reply, &kind, &cost);
			if (!buf_out_ok(&reply))
				goto out;
			if (kind == VC_MSG_ATR)
				s->stats.atr_requests++;
			else if (kind == VC_MSG_POWER)
				s->stats.power_events++;
			if (kind != VC_MSG_APDU) {
				if (s->verbose && kind != VC_MSG_ATR)
					log_ctrl(s, dec->msg, dec->need, kind);
				goto send;
			}
			s->stats.apdus++;
			s->stats.bytes_in += dec->need;
			if (dec->need > 1)
				s->stats.by_ins[dec->msg[1]]++;
			if (s->verbose)
				log_apdu(s, dec->msg, dec->need, &reply, act);
			if (act == VC_ACT_REMOVE) {
				s->stats.faults++;
				end = LINK_REMOVED;
				goto out;
			}
			if (act == VC_ACT_MUTE) {
				s->stats.faults++;
				end = LINK_MUTED;
				goto out;
			}
			s->stats.bytes_out += reply.len >= 2 ? reply.len - 2 : 0;
			/* The model is the time the token takes to answer:
			 * what this process spent computing (an RSA key
			 * generation, on a machine shared with other cards)
			 * is part of it, not added to it. */
			us = vc_latency_us(&s->lat, &cost);
			s->stats.latency_us += us;
			spent = now_us() - t0;
			sleep_us(us > spent ? us - spent : 0, stop);
send:
			if (reply.len > 0 && !write_all(fd, reply.p, reply.len))
				goto out;
		}
		buf_wipe(rx, (size_t)n);	/* commands carry PINs and keys */
	}
	end = LINK_STOP;
out:
	buf_out_cleanup(&reply);
	return end;
}

/* Waits |ms| (0 = until stopped) while keeping stats dumps working. */
static void
idle(struct vc_server *s, uint64_t ms, volatile sig_atomic_t *stop,
    volatile sig_atomic_t *dump)
{
	uint64_t until = now_ms() + ms;

	while (!*stop && (ms == 0 || now_ms() < until)) {
		if (*dump) {
			*dump = 0;
			if (s->stats_path != NULL)
				(void)vc_stats_write(s, s->stats_path);
		}
		sleep_us(50000, stop);
	}
}

enum pv_err
vc_server_run(struct vc_server *s, volatile sig_atomic_t *stop,
    volatile sig_atomic_t *dump)
{
	struct vc_frame_dec dec;
	uint8_t *rx;
	bool warned = false;

	if ((rx = malloc(RX_CHUNK)) == NULL)
		return PV_E_NOMEM;
	if (!vc_frame_init(&dec)) {
		buf_free_secret(rx, RX_CHUNK);
		return PV_E_NOMEM;
	}
	while (!*stop) {
		enum link_end end;
		int fd = connect_once(s);

		if (fd < 0) {
			if (!warned)
				fprintf(stderr, "%s: waiting for vpcd on %s:%u\n",
				    s->name, s->host, s->port);
			warned = true;
			idle(s, RECONNECT_MS, stop, dump);
			continue;
		}
		warned = false;
		s->stats.connections++;
		fprintf(stderr, "%s: connected to vpcd on %s:%u\n", s->name,
		    s->host, s->port);
		vc_card_reset(s->card);		/* a fresh insertion */
		memset(&dec.hdr, 0, sizeof(dec.hdr));
		dec.hdr_got = dec.need = dec.got = 0;
		dec.done = false;
		end = serve(s, fd, &dec, rx, stop, dump);
		if (end == LINK_MUTED) {
			unsigned long ms = vc_card_fault_ms(s->card);

			fprintf(stderr, "%s: fault: mute%s\n", s->name,
			    ms ? "" : " for ever");
			idle(s, ms, stop, dump);
			close(fd);
			fprintf(stderr, "%s: fault: mute card is gone\n",
			    s->name);
			idle(s, 0, stop, dump);
			break;
		}
		close(fd);
		if (end == LINK_REMOVED) {
			unsigned long ms = vc_card_fault_ms(s->card);

			fprintf(stderr, "%s: fault: card removed%s\n", s->name,
			    ms ? "" : " for good");
			idle(s, ms, stop, dump);
			continue;
		}
		if (end == LINK_LOST)
			fprintf(stderr, "%s: vpcd closed the connection\n",
			    s->name);
	}
	vc_frame_cleanup(&dec);
	buf_free_secret(rx, RX_CHUNK);
	return PV_OK;
}

enum pv_err
vc_stats_write(const struct vc_server *s, const char *path)
{
	char tmp[4096];
	FILE *f;
	int n, fd;
	bool first = true;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return PV_E_IO;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		return PV_E_IO;
	}
	fprintf(f, "{\"profile\":\"%s\",\"port\":%u,\"apdus\":%llu,"
	    "\"bytes_in\":%llu,\"bytes_out\":%llu,\"atr_requests\":%llu,"
	    "\"power_events\":%llu,\"connections\":%llu,\"latency_us\":%llu,"
	    "\"faults\":%llu,\"ins\":{", s->profile ? s->profile : "",
	    s->port, (unsigned long long)s->stats.apdus,
	    (unsigned long long)s->stats.bytes_in,
	    (unsigned long long)s->stats.bytes_out,
	    (unsigned long long)s->stats.atr_requests,
	    (unsigned long long)s->stats.power_events,
	    (unsigned long long)s->stats.connections,
	    (unsigned long long)s->stats.latency_us,
	    (unsigned long long)s->stats.faults);
	for (size_t i = 0; i < 256; i++) {
		if (s->stats.by_ins[i] == 0)
			continue;
		fprintf(f, "%s\"%02zx\":%llu", first ? "" : ",", i,
		    (unsigned long long)s->stats.by_ins[i]);
		first = false;
	}
	fprintf(f, "}}\n");
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return PV_E_IO;
	}
	return PV_OK;
}
