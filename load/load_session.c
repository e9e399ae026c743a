/*
 * load_session - ph-load's SMTP client connection (states in
 * load_session.h; the transaction itself is load_tx.c).
 *
 * TLS (implicit or after STARTTLS) goes through ph-relay's client filter
 * (tls_client_start) over the socket bufferevent; the certificate check is
 * configured on the SSL_CTX by the run. After "220" to STARTTLS, anything
 * the server sent along in plain text is an attack on the session
 * (CVE-2011-0411 style injection) and breaks it.
 *
 * DIAGNOSTICS: nothing is fatal but running out of memory for a session
 * itself; problems are reported to the run (LOAD_SESSION_FAILED, WHY).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include "log.h"
#include "tls.h"
#include "load_clock.h"
#include "load_tx.h"
#include "load_session.h"

enum session_state {
	SESSION_CLOSED, SESSION_CONNECT, SESSION_TLS, SESSION_GREETING,
	SESSION_EHLO, SESSION_STARTTLS, SESSION_AUTH, SESSION_IDLE, SESSION_TX,
	SESSION_RSET, SESSION_QUIT
};

struct load_session {
	struct event_base *base;
	const struct load_target *target;
	struct load_feed feed;
	struct bufferevent *bev;
	struct event *timer;		/* the wait for the server */
	struct event *later;		/* a connect failure, reported from the loop */
	enum session_state state;
	struct smtpc_reply reply;	/* being assembled */
	unsigned caps;			/* SMTPC_CAP_* of the last EHLO */
	bool greeted;
	bool tls_active;
	bool quit_wanted;
	bool in_flight;
	bool dot_written;		/* the payload of the message in flight is out */
	struct load_ticket ticket;
	struct load_tx tx;
	char refusal[256];		/* the first refusal of this transaction */
	char error[512];		/* why connecting failed at once */
};

static void session_on_read(struct bufferevent *bev, void *arg);
static void session_on_write(struct bufferevent *bev, void *arg);
static void session_on_event(struct bufferevent *bev, short what, void *arg);

/* session_state_name - for diagnostics */
static const char *session_state_name(enum session_state st)
{
	static const char *const names[] = {
		"CLOSED", "CONNECT", "TLS", "GREETING", "EHLO", "STARTTLS",
		"AUTH", "IDLE", "TX", "RSET", "QUIT"
	};

	return names[st];
}

/* session_opts - the run's options */
static const struct load_opts *session_opts(const struct load_session *s)
{
	return s->target->opts;
}

/* session_enter - change state; every state but IDLE and CLOSED waits
 * for the server at most --timeout */
static void session_enter(struct load_session *s, enum session_state st)
{
	s->state = st;
	if (st == SESSION_IDLE || st == SESSION_CLOSED)
		evtimer_del(s->timer);
	else
		evtimer_add(s->timer, s->target->timeout);
}

/* session_out - the connection's output */
static struct evbuffer *session_out(struct load_session *s)
{
	return bufferevent_get_output(s->bev);
}

/* session_send - one command line */
static void session_send(struct load_session *s, const char *cmd,
    enum session_state next)
{
	evbuffer_add_printf(session_out(s), "%s\r\n", cmd);
	session_enter(s, next);
}

/* session_use - BEV (a new socket or TLS over the old one) is the
 * connection from now on, in state ST */
static void session_use(struct load_session *s, struct bufferevent *bev,
    enum session_state st)
{
	s->bev = bev;
	bufferevent_setcb(bev, session_on_read, session_on_write, session_on_event, s);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	session_enter(s, st);
}

/* session_drop - close the socket; S stays for a reconnect */
static void session_drop(struct load_session *s)
{
	if (s->bev) {
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
	s->tls_active = false;
	s->greeted = false;
	s->caps = 0;
	smtpc_reply_reset(&s->reply);
	session_enter(s, SESSION_CLOSED);
}

/* session_lose_message - the message in flight gets no verdict */
static void session_lose_message(struct load_session *s)
{
	struct load_result r;

	if (!s->in_flight)
		return;
	memset(&r, 0, sizeof(r));
	r.cls = LOAD_CLASS_LOST;
	r.end_us = load_now_us();
	s->in_flight = false;
	s->feed.done(s->feed.arg, &s->ticket, &r);
}

/* session_fail - connection trouble: the message in flight is lost, the
 * connection closed, the run told WHY */
static void session_fail(struct load_session *s, const char *why)
{
	char buf[700];

	snprintf(buf, sizeof(buf), "%s (in %s)", why, session_state_name(s->state));
	session_lose_message(s);
	session_drop(s);
	s->feed.event(s->feed.arg, s, LOAD_SESSION_FAILED, buf);
}

/* session_closed - the connection ended without trouble */
static void session_closed(struct load_session *s)
{
	session_drop(s);
	s->feed.event(s->feed.arg, s, LOAD_SESSION_CLOSED, NULL);
}

/* session_refused - a setup reply that is not the one wanted */
static void session_refused(struct load_session *s, const char *what,
    const struct smtpc_reply *r)
{
	char text[300], buf[400];

	smtpc_reply_summary(r, text, sizeof(text));
	snprintf(buf, sizeof(buf), "%s: %s", what, text);
	session_fail(s, buf);
}

/* ---- messages ---- */

/* session_idle - take the next message, wait for one, or QUIT */
static void session_idle(struct load_session *s)
{
	bool pipelined;
	int rc;

	session_enter(s, SESSION_IDLE);
	if (s->quit_wanted) {
		session_send(s, "QUIT", SESSION_QUIT);
		return;
	}
	rc = s->feed.take(s->feed.arg, &s->ticket);
	if (s->state != SESSION_IDLE)
		return;		/* the run stopped from inside take: QUIT is out */
	if (rc < 0) {
		session_send(s, "QUIT", SESSION_QUIT);
		return;
	}
	if (rc == 0)
		return;
	s->in_flight = true;
	s->dot_written = false;
	s->refusal[0] = '\0';
	pipelined = session_opts(s)->pipelining && (s->caps & SMTPC_CAP_PIPELINING);
	if (load_tx_start(&s->tx, s->target->msg, s->ticket.n, pipelined,
	    session_out(s)) < 0) {
		session_fail(s, "out of memory");
		return;
	}
	session_enter(s, SESSION_TX);
}

/* session_verdict - report the message that load_tx decided */
static void session_verdict(struct load_session *s, const char *last_text)
{
	struct load_result r;

	memset(&r, 0, sizeof(r));
	r.code = s->tx.code;
	r.cls = load_class_of(r.code);
	r.has_dot_reply = s->tx.reply_us != 0;
	r.dot_us = s->tx.dot_us;
	r.end_us = load_now_us();
	r.rcpt_refused = s->tx.refused;
	snprintf(r.text, sizeof(r.text), "%s", r.has_dot_reply ? last_text : s->refusal);
	s->in_flight = false;
	s->feed.done(s->feed.arg, &s->ticket, &r);
}

/* session_on_tx_reply - a reply within the transaction */
static void session_on_tx_reply(struct load_session *s, const struct smtpc_reply *r)
{
	enum load_tx_phase phase = s->tx.phase;
	enum load_tx_result res;
	char text[256], buf[400];

	smtpc_reply_summary(r, text, sizeof(text));
	if (r->code / 100 != 2 && r->code != 354 && !s->refusal[0])
		snprintf(s->refusal, sizeof(s->refusal), "%s", text);
	res = load_tx_on_reply(&s->tx, s->target->msg, r->code, load_now_us(),
	    session_out(s));
	if (res == LOAD_TX_BROKEN) {
		snprintf(buf, sizeof(buf), "unexpected reply to %s: %s",
		    load_tx_phase_name(phase), text);
		session_fail(s, buf);
		return;
	}
	if (res == LOAD_TX_MORE) {
		session_enter(s, SESSION_TX);
		return;
	}
	session_verdict(s, text);
	if (r->code == 421)
		session_closed(s);	/* the server said it closes */
	else if (res == LOAD_TX_DONE_RSET)
		session_send(s, "RSET", SESSION_RSET);
	else
		session_idle(s);
}

/* ---- set-up ---- */

/* session_up - ready for messages */
static void session_up(struct load_session *s)
{
	s->feed.event(s->feed.arg, s, LOAD_SESSION_UP, NULL);
	session_idle(s);
}

/* session_after_ehlo - STARTTLS, AUTH or ready */
static void session_after_ehlo(struct load_session *s)
{
	char buf[1024];

	if (session_opts(s)->starttls && !s->tls_active) {
		if (!(s->caps & SMTPC_CAP_STARTTLS)) {
			session_fail(s, "STARTTLS is not offered");
			return;
		}
		session_send(s, "STARTTLS", SESSION_STARTTLS);
		return;
	}
	if (s->target->auth_plain) {
		snprintf(buf, sizeof(buf), "AUTH PLAIN %s", s->target->auth_plain);
		session_send(s, buf, SESSION_AUTH);
		return;
	}
	session_up(s);
}

/* session_tls_begin - wrap the connection in TLS; the handshake's end is
 * a BEV_EVENT_CONNECTED of the new bufferevent */
static void session_tls_begin(struct load_session *s)
{
	struct bufferevent *tb;

	tb = tls_client_start(s->base, s->bev, s->target->tls, session_opts(s)->host,
	    false);
	if (tb)
		session_use(s, tb, SESSION_TLS);
	else
		session_fail(s, "cannot start TLS");
}

/* session_on_starttls - the reply to STARTTLS */
static void session_on_starttls(struct load_session *s, const struct smtpc_reply *r)
{
	if (r->code != 220) {
		session_refused(s, "STARTTLS refused", r);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_input(s->bev)) > 0) {
		session_fail(s, "plain-text data after 220 to STARTTLS");
		return;
	}
	session_tls_begin(s);
}

/* session_on_setup_reply - greeting, EHLO, AUTH */
static void session_on_setup_reply(struct load_session *s, const struct smtpc_reply *r)
{
	switch (s->state) {
	case SESSION_GREETING:
		if (r->code / 100 != 2) {
			session_refused(s, "greeting", r);
			return;
		}
		s->greeted = true;
		evbuffer_add_printf(session_out(s), "EHLO %s\r\n", session_opts(s)->ehlo);
		session_enter(s, SESSION_EHLO);
		return;
	case SESSION_EHLO:
		if (r->code / 100 != 2) {
			session_refused(s, "EHLO refused", r);
			return;
		}
		s->caps = smtpc_ehlo_caps(r);
		session_after_ehlo(s);
		return;
	case SESSION_AUTH:
		if (r->code / 100 != 2)
			session_refused(s, "AUTH PLAIN refused", r);
		else
			session_up(s);
		return;
	default:
		session_refused(s, "unexpected reply", r);
		return;
	}
}

/* session_on_reply - one complete reply, by state */
static void session_on_reply(struct load_session *s, const struct smtpc_reply *r)
{
	switch (s->state) {
	case SESSION_TX:
		session_on_tx_reply(s, r);
		break;
	case SESSION_STARTTLS:
		session_on_starttls(s, r);
		break;
	case SESSION_RSET:
		if (r->code / 100 == 2)
			session_idle(s);
		else
			session_refused(s, "RSET refused", r);
		break;
	case SESSION_QUIT:
	case SESSION_IDLE:	/* e.g. "421 timeout" before the server closes */
		session_closed(s);
		break;
	default:
		session_on_setup_reply(s, r);
		break;
	}
}

/* session_on_read - replies out of the input, one at a time */
static void session_on_read(struct bufferevent *bev, void *arg)
{
	struct load_session *s = arg;
	struct smtpc_reply r;

	while (s->bev == bev && s->state != SESSION_CLOSED) {
		switch (load_reply_read(bufferevent_get_input(bev), &s->reply)) {
		case LOAD_REPLY_PARTIAL:
			return;
		case LOAD_REPLY_MALFORMED:
			session_fail(s, "malformed reply");
			return;
		case LOAD_REPLY_TOO_LONG:
			session_fail(s, "reply line too long");
			return;
		case LOAD_REPLY_COMPLETE:
			r = s->reply;
			smtpc_reply_reset(&s->reply);
			session_on_reply(s, &r);
			break;
		}
	}
}

/* session_on_write - the output buffer is empty: when the payload and its
 * dot were queued, this is the moment the last byte left (for TLS: left
 * the TLS filter), where the end-of-DATA latency starts */
static void session_on_write(struct bufferevent *bev, void *arg)
{
	struct load_session *s = arg;

	if (s->state == SESSION_TX && s->tx.phase == LOAD_TX_DOT && !s->dot_written) {
		s->dot_written = true;
		s->tx.dot_us = load_now_us();
	}
}

/* session_on_connected - TCP connected or a TLS handshake done */
static void session_on_connected(struct load_session *s)
{
	if (s->state == SESSION_CONNECT && session_opts(s)->tls) {
		session_tls_begin(s);
		return;
	}
	if (s->state == SESSION_TLS) {
		s->tls_active = true;
		if (s->greeted) {	/* after STARTTLS: EHLO again (RFC 3207) */
			evbuffer_add_printf(session_out(s), "EHLO %s\r\n",
			    session_opts(s)->ehlo);
			session_enter(s, SESSION_EHLO);
			return;
		}
	}
	session_enter(s, SESSION_GREETING);
	/* a greeting that came with the handshake is already buffered */
	session_on_read(s->bev, s);
}

/* session_on_event - connected, TLS up, closed or broken */
static void session_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct load_session *s = arg;
	char err[256], buf[400];

	if (what & BEV_EVENT_CONNECTED) {
		session_on_connected(s);
		return;
	}
	if (s->state == SESSION_TLS) {
		tls_handshake_error(bev, err, sizeof(err));
		snprintf(buf, sizeof(buf), "TLS handshake failed: %s", err);
		session_fail(s, buf);
	} else if (s->state == SESSION_CONNECT) {
		snprintf(buf, sizeof(buf), "connect: %s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		session_fail(s, buf);
	} else if (s->state == SESSION_QUIT || (s->state == SESSION_IDLE && !s->in_flight)) {
		session_closed(s);
	} else {
		session_fail(s, (what & BEV_EVENT_EOF) ? "connection closed by the server" :
		    "connection error");
	}
}

/* session_on_timer - the server did not answer in time */
static void session_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct load_session *s = arg;

	if (s->state == SESSION_QUIT)
		session_closed(s);
	else
		session_fail(s, "timed out waiting for the server");
}

/* session_on_later - report an immediate connect failure from the loop */
static void session_on_later(evutil_socket_t fd, short what, void *arg)
{
	struct load_session *s = arg;

	session_fail(s, s->error);
}

/* ---- public ---- */

/* load_session_new - see load_session.h */
struct load_session *load_session_new(struct event_base *base,
    const struct load_target *target, const struct load_feed *feed)
{
	struct load_session *s = calloc(1, sizeof(*s));

	if (!s || !(s->timer = evtimer_new(base, session_on_timer, s)) ||
	    !(s->later = evtimer_new(base, session_on_later, s)))
		fatal_nomem("ph-load session");
	s->base = base;
	s->target = target;
	s->feed = *feed;
	s->state = SESSION_CLOSED;
	smtpc_reply_reset(&s->reply);
	return s;
}

/* load_session_connect - start a connection */
void load_session_connect(struct load_session *s)
{
	struct timeval now = { 0, 0 };
	struct bufferevent *bev;

	s->quit_wanted = false;
	session_enter(s, SESSION_CONNECT);
	if ((bev = bufferevent_socket_new(s->base, -1, BEV_OPT_CLOSE_ON_FREE))) {
		session_use(s, bev, SESSION_CONNECT);
		if (bufferevent_socket_connect(bev, (struct sockaddr *)&s->target->sa,
		    (int)s->target->salen) == 0)
			return;
	}
	snprintf(s->error, sizeof(s->error), "connect: %s",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	evtimer_add(s->later, &now);
}

/* load_session_poke - a message may be due */
void load_session_poke(struct load_session *s)
{
	if (s->state == SESSION_IDLE && !s->in_flight)
		session_idle(s);
}

/* load_session_quit - QUIT now or after the message in flight */
void load_session_quit(struct load_session *s)
{
	s->quit_wanted = true;
	if (s->state == SESSION_IDLE && !s->in_flight)
		session_idle(s);
}

/* load_session_abort - drop the connection, losing what is in flight */
void load_session_abort(struct load_session *s)
{
	evtimer_del(s->later);
	session_lose_message(s);
	session_drop(s);
}

/* load_session_busy - a message is in flight */
bool load_session_busy(const struct load_session *s)
{
	return s->in_flight;
}

/* load_session_closed - no connection */
bool load_session_closed(const struct load_session *s)
{
	return s->state == SESSION_CLOSED;
}

/* load_session_free - release S */
void load_session_free(struct load_session *s)
{
	if (!s)
		return;
	if (s->bev)
		bufferevent_free(s->bev);
	event_free(s->timer);
	event_free(s->later);
	free(s);
}
