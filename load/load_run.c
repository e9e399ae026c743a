/*
 * load_run - the run of ph-load: sessions, the message schedule, stops and
 * the summary (see load_run.h).
 *
 * Open loop (--rate R): message i is due at start + i/R. A timer fires at
 * the next due time and hands the due messages to sessions waiting idle
 * (a stack of them); a session that finishes a message takes an overdue
 * one at once. Nothing waits for the server to catch up, so when it is
 * slower than R the backlog shows in the "message" latency.
 *
 * DIAGNOSTICS: a server name that does not resolve, an unreadable --file
 * or CA file end the run before it starts (exit 2); connection failures
 * are counted, the first few printed on stderr.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/x509v3.h>
#include <event2/event.h>
#include "log.h"
#include "tls.h"
#include "tls.h"
#include "load_clock.h"
#include "load_msg.h"
#include "load_session.h"
#include "load_stats.h"
#include "load_run.h"

#define RETRY_MS 100		/* before reconnecting after a failure */
#define FAILURES_SHOWN 5	/* connection failures printed on stderr */
#define PROGRESS_MS 1000

struct load_run;

/* run_slot - one session and the run it belongs to */
struct run_slot {
	struct load_run *run;
	struct load_session *s;
	struct event *retry;		/* reconnect timer */
	bool waiting;			/* on the idle stack */
	bool up;			/* its connection is set up */
};

struct load_run {
	const struct load_opts *o;
	struct event_base *base;
	struct load_target target;
	struct load_msg msg;
	struct load_stats *st;
	struct run_slot *slots;
	struct run_slot **idle;		/* --rate: sessions waiting for a message */
	size_t nidle;
	struct event *tick;		/* --rate: the next message is due */
	struct event *progress;		/* the live line (stderr is a tty) */
	struct event *deadline;		/* --duration */
	struct event *sigint, *sigterm;
	uint64_t next;			/* the next message number to hand out */
	unsigned up;			/* sessions set up now */
	unsigned failures_in_row;	/* since a session was last set up */
	unsigned signals;
	bool stopping;			/* no message starts any more */
	bool done;
};

static void run_stop(struct load_run *run);

/* ---- schedule ---- */

/* run_exhausted - every message of --messages is handed out */
static bool run_exhausted(const struct load_run *run)
{
	return run->o->messages && run->next >= run->o->messages;
}

/* run_due_us - when message N is due under --rate */
static uint64_t run_due_us(const struct load_run *run, uint64_t n)
{
	return run->st->start_us + (uint64_t)((double)n * 1e6 / run->o->rate);
}

/* run_arm_tick - fire when the next message is due, if a session waits
 * for it (busy sessions take overdue messages themselves when done) */
static void run_arm_tick(struct load_run *run)
{
	uint64_t now = load_now_us(), due = run_due_us(run, run->next);
	uint64_t wait = due > now ? due - now : 0;
	struct timeval tv = { (time_t)(wait / 1000000), (suseconds_t)(wait % 1000000) };

	if (run->nidle > 0 && !run->stopping && !run_exhausted(run))
		evtimer_add(run->tick, &tv);
}

/* run_take - the feed's take: the next message, if one is due */
static int run_take(void *arg, struct load_ticket *t)
{
	struct run_slot *slot = arg;
	struct load_run *run = slot->run;
	uint64_t now = load_now_us();

	if (run_exhausted(run))
		run_stop(run);
	if (run->stopping)
		return -1;
	if (run->o->rate > 0 && run_due_us(run, run->next) > now) {
		if (!slot->waiting) {
			slot->waiting = true;
			run->idle[run->nidle++] = slot;
		}
		if (!evtimer_pending(run->tick, NULL))
			run_arm_tick(run);
		return 0;
	}
	t->n = run->next++;
	t->start_us = run->o->rate > 0 ? run_due_us(run, t->n) : now;
	run->st->started++;
	return 1;
}

/* run_on_tick - hand the due messages to waiting sessions */
static void run_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct load_run *run = arg;
	struct run_slot *slot;

	while (run->nidle > 0 && !run->stopping &&
	    run_due_us(run, run->next) <= load_now_us()) {
		slot = run->idle[--run->nidle];
		slot->waiting = false;
		load_session_poke(slot->s);
	}
	run_arm_tick(run);
}

/* ---- sessions ---- */

/* run_all_closed - no session has a connection or a reconnect pending */
static bool run_all_closed(const struct load_run *run)
{
	unsigned i;

	for (i = 0; i < run->o->sessions; i++)
		if (!load_session_closed(run->slots[i].s) ||
		    evtimer_pending(run->slots[i].retry, NULL))
			return false;
	return true;
}

/* run_maybe_finish - stopped and every session gone: leave the loop */
static void run_maybe_finish(struct load_run *run)
{
	if (run->stopping && !run->done && run_all_closed(run)) {
		run->done = true;
		event_base_loopexit(run->base, NULL);
	}
}

/* run_stop - start no more messages; sessions QUIT when their message is done */
static void run_stop(struct load_run *run)
{
	unsigned i;

	if (run->stopping)
		return;
	run->stopping = true;
	evtimer_del(run->tick);
	if (run->deadline)
		evtimer_del(run->deadline);
	for (i = 0; i < run->o->sessions; i++) {
		evtimer_del(run->slots[i].retry);
		/* one still being set up would only QUIT once it is up */
		if (run->slots[i].up)
			load_session_quit(run->slots[i].s);
		else
			load_session_abort(run->slots[i].s);
	}
	run_maybe_finish(run);
}

/* run_abort - drop every connection now */
static void run_abort(struct load_run *run)
{
	unsigned i;

	run->stopping = true;
	for (i = 0; i < run->o->sessions; i++) {
		evtimer_del(run->slots[i].retry);
		load_session_abort(run->slots[i].s);
	}
	run_maybe_finish(run);
}

/* run_done - the feed's done: count the verdict */
static void run_done(void *arg, const struct load_ticket *t, const struct load_result *r)
{
	struct run_slot *slot = arg;

	load_stats_message(slot->run->st, t, r);
}

/* run_reconnect_later - reconnect SLOT after MS unless the run stopped */
static void run_reconnect_later(struct run_slot *slot, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (slot->run->stopping)
		run_maybe_finish(slot->run);
	else
		evtimer_add(slot->retry, &tv);
}

/* run_failed - a connection failed: count, show the first few, give up
 * when nothing gets through (while some session works, the others keep
 * trying: a server may cap connections per client) */
static void run_failed(struct run_slot *slot, const char *why)
{
	struct load_run *run = slot->run;
	unsigned limit = run->o->sessions * 2 > 10 ? run->o->sessions * 2 : 10;

	load_stats_failure(run->st, why);
	if (run->st->conn_failures <= FAILURES_SHOWN)
		fprintf(stderr, "ph-load: %s\n", why);
	if (run->st->conn_failures == FAILURES_SHOWN + 1)
		fprintf(stderr, "ph-load: further connection failures are only counted\n");
	if (++run->failures_in_row >= limit && run->up == 0) {
		run->st->gave_up = true;
		run_abort(run);
		return;
	}
	run_reconnect_later(slot, RETRY_MS);
}

/* run_event - the feed's event */
static void run_event(void *arg, struct load_session *s, enum load_session_event ev,
    const char *why)
{
	struct run_slot *slot = arg;

	if (slot->up && ev != LOAD_SESSION_UP) {
		slot->up = false;
		slot->run->up--;
	}
	switch (ev) {
	case LOAD_SESSION_UP:
		slot->up = true;
		slot->run->up++;
		slot->run->st->connections++;
		slot->run->failures_in_row = 0;
		break;
	case LOAD_SESSION_FAILED:
		run_failed(slot, why);
		break;
	case LOAD_SESSION_CLOSED:
		run_reconnect_later(slot, 0);
		break;
	}
}

/* run_on_retry - reconnect a session */
static void run_on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct run_slot *slot = arg;

	load_session_connect(slot->s);
}

/* ---- timers and signals ---- */

/* run_on_progress - the live line on a terminal */
static void run_on_progress(evutil_socket_t fd, short what, void *arg)
{
	struct load_run *run = arg;
	char line[256];

	load_stats_progress(run->st, load_now_us(), line, sizeof(line));
	fprintf(stderr, "\r%s\033[K", line);
}

/* run_on_deadline - --duration is over */
static void run_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	run_stop(arg);
}

/* run_on_signal - first SIGINT/SIGTERM: stop; the second: drop everything */
static void run_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct load_run *run = arg;

	run->st->interrupted = true;
	if (run->signals++ == 0)
		run_stop(run);
	else
		run_abort(run);
}

/* run_events - timers and signal events; fatal_nomem */
static void run_events(struct load_run *run)
{
	struct timeval tv = { PROGRESS_MS / 1000, (PROGRESS_MS % 1000) * 1000 };

	if (!(run->tick = evtimer_new(run->base, run_on_tick, run)) ||
	    !(run->sigint = evsignal_new(run->base, SIGINT, run_on_signal, run)) ||
	    !(run->sigterm = evsignal_new(run->base, SIGTERM, run_on_signal, run)))
		fatal_nomem("ph-load events");
	evsignal_add(run->sigint, NULL);
	evsignal_add(run->sigterm, NULL);
	if (isatty(STDERR_FILENO)) {
		run->progress = event_new(run->base, -1, EV_PERSIST, run_on_progress, run);
		if (!run->progress)
			fatal_nomem("ph-load events");
		evtimer_add(run->progress, &tv);
	}
	if (run->o->duration > 0) {
		tv.tv_sec = (time_t)run->o->duration;
		tv.tv_usec = (suseconds_t)((run->o->duration - (double)tv.tv_sec) * 1e6);
		if (!(run->deadline = evtimer_new(run->base, run_on_deadline, run)))
			fatal_nomem("ph-load events");
		evtimer_add(run->deadline, &tv);
	}
}

/* ---- set-up ---- */

/* run_resolve - the server's first address */
static int run_resolve(struct load_run *run)
{
	struct addrinfo hints, *res;
	char port[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", run->o->port);
	if ((rc = getaddrinfo(run->o->host, port, &hints, &res)) != 0) {
		fprintf(stderr, "ph-load: %s: %s\n", run->o->host, gai_strerror(rc));
		return -1;
	}
	memcpy(&run->target.sa, res->ai_addr, res->ai_addrlen);
	run->target.salen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* run_tls_ctx - the client context: no check with --insecure, else the
 * chain against --cafile (or the system's store) and the --server host
 * (an IP literal against the certificate's IP addresses) */
static SSL_CTX *run_tls_ctx(const struct load_opts *o)
{
	unsigned char addr[16];
	X509_VERIFY_PARAM *param;
	SSL_CTX *ctx;
	int ok;

	if (o->insecure)
		return tls_client_ctx(NULL);
	if (!(ctx = tls_verify_ctx(o->cafile ? o->cafile : "")))
		return NULL;
	param = SSL_CTX_get0_param(ctx);
	if (inet_pton(AF_INET, o->host, addr) == 1 || inet_pton(AF_INET6, o->host, addr) == 1)
		ok = X509_VERIFY_PARAM_set1_ip_asc(param, o->host);
	else
		ok = X509_VERIFY_PARAM_set1_host(param, o->host, 0);
	if (ok != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* run_prepare - target, message, TLS and AUTH; -1 (printed) on failure */
static int run_prepare(struct load_run *run)
{
	const struct load_opts *o = run->o;
	char err[512];

	run->target.opts = o;
	run->target.msg = &run->msg;
	if (run_resolve(run) < 0)
		return -1;
	if (load_msg_init(&run->msg, o, err, sizeof(err)) < 0) {
		fprintf(stderr, "ph-load: %s\n", err);
		return -1;
	}
	if ((o->tls || o->starttls) && !(run->target.tls = run_tls_ctx(o))) {
		fprintf(stderr, "ph-load: cannot set up TLS (--cafile %s)\n",
		    o->cafile ? o->cafile : "system store");
		return -1;
	}
	if (o->auth_user &&
	    !(run->target.auth_plain = load_auth_plain(o->auth_user, o->auth_password))) {
		fprintf(stderr, "ph-load: out of memory\n");
		return -1;
	}
	return 0;
}

/* run_sessions - one slot per --sessions, each connecting */
static void run_sessions(struct load_run *run)
{
	const struct load_feed feed_proto = { NULL, run_take, run_done, run_event };
	struct load_feed feed = feed_proto;
	unsigned i;

	run->slots = calloc(run->o->sessions, sizeof(*run->slots));
	run->idle = calloc(run->o->sessions, sizeof(*run->idle));
	if (!run->slots || !run->idle)
		fatal_nomem("ph-load sessions");
	for (i = 0; i < run->o->sessions; i++) {
		run->slots[i].run = run;
		feed.arg = &run->slots[i];
		run->slots[i].s = load_session_new(run->base, &run->target, &feed);
		if (!(run->slots[i].retry = evtimer_new(run->base, run_on_retry,
		    &run->slots[i])))
			fatal_nomem("ph-load sessions");
	}
	for (i = 0; i < run->o->sessions; i++)
		load_session_connect(run->slots[i].s);
}

/* run_report - the summary on stdout */
static void run_report(struct load_run *run)
{
	char *json;

	if (run->progress)
		fprintf(stderr, "\r\033[K");
	if (!run->o->json) {
		load_stats_print(run->st, run->o, stdout);
		return;
	}
	if (!(json = load_stats_json(run->st, run->o)))
		fatal_nomem("ph-load summary");
	printf("%s\n", json);
	free(json);
}

/* run_free - release everything (the loop has ended) */
static void run_free(struct load_run *run)
{
	struct event **const events[] = { &run->tick, &run->progress,
		&run->deadline, &run->sigint, &run->sigterm };
	unsigned i;

	for (i = 0; run->slots && i < run->o->sessions; i++) {
		load_session_free(run->slots[i].s);
		event_free(run->slots[i].retry);
	}
	free(run->slots);
	free(run->idle);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (*events[i])
			event_free(*events[i]);
	if (run->base)
		event_base_free(run->base);
	if (run->target.tls)
		SSL_CTX_free(run->target.tls);
	free((char *)run->target.auth_plain);
	load_msg_free(&run->msg);
	load_stats_free(run->st);
}

/* run_base_new - the event base; with --rate its timers keep the
 * schedule to the microsecond (a timerfd, one more system call per loop
 * turn) rather than epoll's milliseconds */
static struct event_base *run_base_new(const struct load_opts *o)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (!cfg)
		return NULL;
	if (o->rate > 0)
		event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* run_timeout - --timeout as a common timeout of BASE: every session's
 * wait goes into one queue instead of the timer heap */
static const struct timeval *run_timeout(struct event_base *base, double seconds)
{
	struct timeval tv = { (time_t)seconds,
		(suseconds_t)((seconds - (double)(time_t)seconds) * 1e6) };
	const struct timeval *common = event_base_init_common_timeout(base, &tv);

	if (!common)
		fatal_nomem("ph-load timeout");
	return common;
}

/* load_run - see load_run.h */
int load_run(const struct load_opts *o)
{
	struct load_run run;
	int rc;

	memset(&run, 0, sizeof(run));
	run.o = o;
	signal(SIGPIPE, SIG_IGN);
	if (run_prepare(&run) < 0) {
		run_free(&run);
		return 2;
	}
	if (!(run.base = run_base_new(o)))
		fatal_nomem("ph-load event base");
	run.target.timeout = run_timeout(run.base, o->timeout);
	run.st = load_stats_new(load_now_us());
	run_events(&run);
	run_sessions(&run);
	event_base_dispatch(run.base);
	run_report(&run);
	rc = load_stats_exit_code(run.st);
	run_free(&run);
	return rc;
}
