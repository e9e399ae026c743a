/*
 * relay_session - the SMTP client of ph-relay: one connection to one
 * destination, carrying as many transactions as the destination has tasks.
 *
 *   CONNECT -> GREETING -> EHLO (-> HELO) [-> STARTTLS -> TLS -> EHLO]
 *   -> IDLE -> MAIL -> RCPT... -> DATA -> DOT -> IDLE (RSET first when the
 *   transaction failed) ... IDLE --idle_timeout--> QUIT -> CLOSED
 *
 * The transaction itself (MAIL, RCPT..., DATA, the outcomes) is relay_tx.c;
 * this file runs the connection and its states. Until the connection is
 * established (greeting and EHLO done), a refused connection, a timeout or a
 * 4xx/5xx greeting moves on to the next address of the destination. TLS
 * follows the destination's policy (relay_tls.h): under "may" a failed
 * STARTTLS handshake reconnects once to the same address in plain text;
 * under "encrypt" / "verify" a server without STARTTLS, refusing it or
 * failing the handshake (or the certificate check) counts as a failed
 * address (4.7.4 / 4.7.5), and mail never goes out in plain text. Each
 * transaction's verdict goes to the destination (relay_dest_feedback). A
 * connection lost in the middle of a transaction before the dot puts the task
 * back at the head of its destination's queue (twice at most), after the dot
 * it defers the task (the queue retries; at-least-once).
 *
 * DIAGNOSTICS: nothing is fatal here; problems become task results and warn
 * lines; state changes are debug lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include "log.h"
#include "relay_dest.h"
#include "relay_session.h"
#include "relay_tls.h"
#include "relay_tx.h"
#include "smtpc.h"
#include "tls.h"

#define SESSION_LINE_MAX 65536	/* longest reply line we wait for */
#define SESSION_QUIT_MS 5000
#define SESSION_MAX_REQUEUES 2

enum session_state {
	SESSION_CONNECT, SESSION_GREETING, SESSION_EHLO, SESSION_HELO,
	SESSION_STARTTLS, SESSION_TLS, SESSION_IDLE, SESSION_MAIL, SESSION_RCPT,
	SESSION_DATA, SESSION_DOT, SESSION_RSET, SESSION_QUIT, SESSION_CLOSED
};

struct relay_session {
	struct relay *relay;
	struct relay_dest *dest;
	struct relay_addrs *addrs;
	size_t ai;			/* address being used */
	struct bufferevent *bev;
	struct event *timer;
	enum session_state state;
	struct smtpc_reply reply;
	unsigned caps;
	bool established;
	bool retired;			/* its address left the DNS answer */
	bool tls_active;
	bool tls_off;			/* handshake failed: plain on this address */
	char tls_version[32];
	char tls_cipher[64];
	char conn_error[600];		/* why an immediate connect failed */
	struct relay_tx tx;		/* the transaction (tx.task NULL: none) */
	struct relay_tx next;		/* pipelined after tx's dot (next.task NULL: none) */
	unsigned messages;
};

static void session_on_read(struct bufferevent *bev, void *arg);
static void session_on_event(struct bufferevent *bev, short what, void *arg);
static void session_failed(struct relay_session *s, const char *why);
static void session_ready(struct relay_session *s);
static void session_pipeline_next(struct relay_session *s);

/* session_state_name - for logs */
static const char *session_state_name(enum session_state st)
{
	static const char *names[] = {
		"CONNECT", "GREETING", "EHLO", "HELO", "STARTTLS", "TLS",
		"IDLE", "MAIL", "RCPT", "DATA", "DOT", "RSET", "QUIT", "CLOSED"
	};

	return names[st];
}

/* session_addr - the address in use */
static const struct relay_addr *session_addr(const struct relay_session *s)
{
	return &s->addrs->a[s->ai];
}

/* session_timeout_ms - how long state ST may wait for the server */
static long long session_timeout_ms(const struct relay_session *s,
    enum session_state st)
{
	const struct relay_config *c = &s->relay->cfg;

	switch (st) {
	case SESSION_CONNECT:
		return c->connect_timeout_ms;
	case SESSION_DOT:
		return c->data_timeout_ms;
	case SESSION_IDLE:
		return c->idle_timeout_ms;
	case SESSION_QUIT:
		return SESSION_QUIT_MS;
	default:
		return c->command_timeout_ms;
	}
}

/* session_enter - change state and arm the state's timer */
static void session_enter(struct relay_session *s, enum session_state st)
{
	long long ms = session_timeout_ms(s, st);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	log_debug("relay session %s %s[%s]: %s -> %s", relay_dest_name(s->dest),
	    session_addr(s)->host, session_addr(s)->ip,
	    session_state_name(s->state), session_state_name(st));
	s->state = st;
	if (st == SESSION_CLOSED)
		evtimer_del(s->timer);
	else
		evtimer_add(s->timer, &tv);
}

/* session_out - the connection's output buffer */
static struct evbuffer *session_out(struct relay_session *s)
{
	return bufferevent_get_output(s->bev);
}

/* session_send - queue one command line */
static void session_send(struct relay_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void session_send(struct relay_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	relay_tx_vcmd(session_out(s), fmt, ap);
	va_end(ap);
}

/* session_drop_bev - close the socket (the session object stays) */
static void session_drop_bev(struct relay_session *s)
{
	if (s->bev) {
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
	s->tls_active = false;
	s->tls_version[0] = s->tls_cipher[0] = '\0';
}

/* session_connect - start connecting to the current address */
static void session_connect(struct relay_session *s)
{
	const struct relay_addr *a = session_addr(s);
	struct timeval now = { 0, 0 };

	s->conn_error[0] = '\0';
	s->caps = 0;
	s->bev = bufferevent_socket_new(s->relay->base, -1, BEV_OPT_CLOSE_ON_FREE);
	s->state = SESSION_CONNECT;
	if (s->bev) {
		bufferevent_setcb(s->bev, session_on_read, NULL, session_on_event, s);
		bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	}
	if (s->bev && bufferevent_socket_connect(s->bev,
	    (struct sockaddr *)&a->sa, (int)a->salen) == 0) {
		session_enter(s, SESSION_CONNECT);
		return;
	}
	/* report from the loop, never from inside the caller */
	snprintf(s->conn_error, sizeof(s->conn_error), "connect to %s[%s]:%u: %s",
	    a->host, a->ip, ntohs(((const struct sockaddr_in *)&a->sa)->sin_port),
	    strerror(errno));
	evtimer_add(s->timer, &now);
}

/* session_on_free - deferred free of a closed session */
static void session_on_free(evutil_socket_t fd, short what, void *arg)
{
	relay_session_free(arg);
}

/* session_give_back - T's connection died: T goes back to its destination
 * queue unless its body was out (SENT) or it came back too often; then it
 * is deferred with WHY */
static void session_give_back(struct relay_session *s, struct relay_task *t,
    bool sent, const char *why)
{
	if (t == NULL)
		return;
	if (!sent && t->requeues < SESSION_MAX_REQUEUES) {
		relay_dest_requeue(s->dest, t);
		return;
	}
	relay_task_set_rest(t, PH__OUTCOME__OUTCOME_DEFERRED, why);
	relay_task_done(t);
}

/* session_close - end the connection; tell the dest (ERROR: why it never
 * came up); the object is freed from the loop */
static void session_close(struct relay_session *s, const char *error)
{
	struct timeval now = { 0, 0 };

	if (s->state == SESSION_CLOSED)
		return;
	session_enter(s, SESSION_CLOSED);
	session_drop_bev(s);
	if (s->tx.task) {
		relay_task_set_rest(s->tx.task, PH__OUTCOME__OUTCOME_DEFERRED,
		    "4.4.2 connection closed during the transaction");
		relay_task_done(relay_tx_take(&s->tx));
	}
	session_give_back(s, relay_tx_take(&s->next), false,
	    "4.4.2 connection closed before the transaction");
	relay_dest_session_gone(s->dest, s, error);
	event_base_once(s->relay->base, -1, EV_TIMEOUT, session_on_free, s, &now);
}

/* session_next_addr - this address failed before the session was up */
static void session_next_addr(struct relay_session *s, const char *why)
{
	log_info("relay %s: %s", relay_dest_name(s->dest), why);
	session_drop_bev(s);
	s->tls_off = false;
	if (++s->ai < s->addrs->n) {
		session_connect(s);
		return;
	}
	s->ai--;	/* keep session_addr valid for logs */
	session_close(s, why);
}

/* session_lost - the connection died while a task was on it */
static void session_lost(struct relay_session *s, const char *why)
{
	log_info("relay %s: %s", relay_dest_name(s->dest), why);
	session_give_back(s, relay_tx_take(&s->tx), s->state == SESSION_DOT, why);
	session_give_back(s, relay_tx_take(&s->next), false, why);
	session_close(s, NULL);
}

/* session_tls_required - the policy forbids plain text */
static bool session_tls_required(const struct relay_session *s)
{
	return relay_dest_tls(s->dest) != RELAY_TLS_MAY;
}

/* session_fail_tls - required TLS did not happen: "ESC why", next address */
static void session_fail_tls(struct relay_session *s, const char *esc,
    const char *why)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s %s", esc, why);
	log_warnx("relay %s: %s (tls_policy %s)", relay_dest_name(s->dest), buf,
	    relay_tls_level_name(relay_dest_tls(s->dest)));
	session_next_addr(s, buf);
}

/* session_failed - connection trouble: next address, retry without TLS, or
 * give the task back */
static void session_failed(struct relay_session *s, const char *why)
{
	char buf[1024];

	if (s->state == SESSION_CLOSED)
		return;
	if (s->state == SESSION_TLS && session_tls_required(s)) {
		session_fail_tls(s, "4.7.5", why);
		return;
	}
	if (s->state == SESSION_TLS && !s->tls_off) {
		log_warnx("relay %s: %s; retrying without TLS",
		    relay_dest_name(s->dest), why);
		session_drop_bev(s);
		s->tls_off = true;
		session_connect(s);
		return;
	}
	snprintf(buf, sizeof(buf), "4.4.1 %s", why);
	if (!s->established)
		session_next_addr(s, buf);
	else if (s->tx.task)
		session_lost(s, buf);
	else
		session_close(s, NULL);
}

/* session_fail_state - "lost connection / timeout while STATE" */
static void session_fail_state(struct relay_session *s, const char *what)
{
	const struct relay_addr *a = session_addr(s);
	char buf[800];

	snprintf(buf, sizeof(buf), "%s with %s[%s] while in %s", what, a->host,
	    a->ip, session_state_name(s->state));
	session_failed(s, buf);
}

/* session_on_timer - a timeout of the current state */
static void session_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct relay_session *s = arg;

	switch (s->state) {
	case SESSION_CONNECT:
		if (s->conn_error[0])
			session_failed(s, s->conn_error);
		else
			session_fail_state(s, "connection timed out");
		break;
	case SESSION_IDLE:
		session_send(s, "QUIT");
		session_enter(s, SESSION_QUIT);
		break;
	case SESSION_QUIT:
		session_close(s, NULL);
		break;
	default:
		session_fail_state(s, "conversation timed out");
		break;
	}
}

/* ---- transactions (relay_tx.c) ---- */

/* session_tx_end - the transaction is over: report it; RSET after a
 * failure, close after 421 */
static void session_tx_end(struct relay_session *s, bool ok)
{
	int code = s->tx.code;

	relay_tx_finish(&s->tx, s->dest);
	s->messages++;
	if (code == 421) {
		session_close(s, NULL);
	} else if (s->next.task) {
		/* the final reply ended the transaction, good or bad: the
		 * pipelined one's MAIL reply comes next, no RSET needed */
		struct relay_tx done = s->tx;

		s->tx = s->next;
		s->next = done;
		session_enter(s, SESSION_MAIL);
	} else if (!ok) {
		session_send(s, "RSET");
		session_enter(s, SESSION_RSET);
	} else {
		session_ready(s);
	}
}

/* session_tx_step - what the transaction asked for */
static void session_tx_step(struct relay_session *s, enum relay_tx_step step)
{
	switch (step) {
	case RELAY_TX_MAIL:
		session_enter(s, SESSION_MAIL);
		break;
	case RELAY_TX_RCPT:
		session_enter(s, SESSION_RCPT);
		break;
	case RELAY_TX_DATA:
		session_enter(s, SESSION_DATA);
		break;
	case RELAY_TX_DOT:
		session_enter(s, SESSION_DOT);
		session_pipeline_next(s);
		break;
	case RELAY_TX_EMPTY:
		session_ready(s);
		break;
	case RELAY_TX_END_OK:
	case RELAY_TX_END_FAIL:
		session_tx_end(s, step == RELAY_TX_END_OK);
		break;
	case RELAY_TX_NOMEM:
		session_lost(s, "4.3.0 out of memory");
		break;
	}
}

/* session_stamp - T goes over this connection: its remote host and TLS */
static void session_stamp(const struct relay_session *s, struct relay_task *t)
{
	const struct relay_addr *a = session_addr(s);

	snprintf(t->remote_host, sizeof(t->remote_host), "%s (%s)", a->host, a->ip);
	snprintf(t->tls_version, sizeof(t->tls_version), "%s", s->tls_version);
	snprintf(t->tls_cipher, sizeof(t->tls_cipher), "%s", s->tls_cipher);
}

/* session_tx_start - begin a transaction for T on this idle connection */
static void session_tx_start(struct relay_session *s, struct relay_task *t)
{
	session_stamp(s, t);
	session_tx_step(s, relay_tx_start(&s->tx, t, s->caps,
	    bufferevent_get_output(s->bev)));
}

/* session_pipeline_next - with PIPELINING the next waiting message's MAIL,
 * RCPT and DATA follow the dot in the same write (RFC 2920 lets message
 * content start a group): one write and one round trip per message */
static void session_pipeline_next(struct relay_session *s)
{
	struct relay_task *t;

	if (!(s->caps & SMTPC_CAP_PIPELINING) || s->retired || s->next.task)
		return;
	while ((t = relay_dest_next(s->dest)) != NULL) {
		session_stamp(s, t);
		if (relay_tx_start(&s->next, t, s->caps, session_out(s)) != RELAY_TX_EMPTY)
			return;
	}
}

/* ---- connection set-up ---- */

/* session_up - greeting and EHLO done: the connection can carry mail */
static void session_up(struct relay_session *s)
{
	if (!s->established) {
		s->established = true;
		relay_dest_session_up(s->dest, s);
	}
	session_ready(s);
}

/* session_ready - idle: take the next waiting task or wait for one */
static void session_ready(struct relay_session *s)
{
	struct relay_task *t;

	if (s->retired) {
		session_send(s, "QUIT");
		session_enter(s, SESSION_QUIT);
		return;
	}
	session_enter(s, SESSION_IDLE);
	if ((t = relay_dest_next(s->dest)))
		session_tx_start(s, t);
}

/* session_tls_ctx - the context for this destination's policy */
static SSL_CTX *session_tls_ctx(const struct relay_session *s)
{
	enum relay_tls_level level = relay_dest_tls(s->dest);

	if (level == RELAY_TLS_VERIFY)
		return s->relay->tls_verify_ctx;
	if (level == RELAY_TLS_MAY && !s->relay->cfg.starttls)
		return NULL;
	return s->relay->tls_ctx;
}

/* session_after_ehlo - STARTTLS when offered, else ready (unless the
 * policy requires TLS) */
static void session_after_ehlo(struct relay_session *s)
{
	char buf[600];

	if (s->tls_active) {
		session_up(s);
		return;
	}
	if ((s->caps & SMTPC_CAP_STARTTLS) && session_tls_ctx(s) && !s->tls_off) {
		session_send(s, "STARTTLS");
		session_enter(s, SESSION_STARTTLS);
		return;
	}
	if (session_tls_required(s)) {
		snprintf(buf, sizeof(buf), "TLS is required, but was not offered "
		    "by host %s[%s]", session_addr(s)->host, session_addr(s)->ip);
		session_fail_tls(s, "4.7.4", buf);
		return;
	}
	session_up(s);
}

/* session_tls_begin - 220 to STARTTLS: handshake over the connection */
static void session_tls_begin(struct relay_session *s)
{
	struct bufferevent *tb;

	tb = tls_client_start(s->relay->base, s->bev, session_tls_ctx(s),
	    session_addr(s)->host, relay_dest_tls(s->dest) == RELAY_TLS_VERIFY);
	if (!tb) {
		session_failed(s, "cannot start TLS");
		return;
	}
	s->bev = tb;
	bufferevent_setcb(tb, session_on_read, NULL, session_on_event, s);
	bufferevent_enable(tb, EV_READ | EV_WRITE);
	session_enter(s, SESSION_TLS);
}

/* session_starttls_refused - go on without TLS (RFC 3207) unless the
 * policy requires it */
static void session_starttls_refused(struct relay_session *s, const char *text)
{
	char buf[900];

	if (!session_tls_required(s)) {
		session_up(s);
		return;
	}
	snprintf(buf, sizeof(buf), "TLS is required, but host %s[%s] refused to "
	    "start TLS: %s", session_addr(s)->host, session_addr(s)->ip, text);
	session_fail_tls(s, "4.7.5", buf);
}

/* session_refused - the server would not talk to us */
static void session_refused(struct relay_session *s, const char *text)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "host %s[%s] refused to talk to me: %s",
	    session_addr(s)->host, session_addr(s)->ip, text);
	session_failed(s, buf);
}

/* session_on_reply - one complete reply, dispatched by state */
static void session_on_reply(struct relay_session *s, const struct smtpc_reply *r)
{
	char text[600];

	smtpc_reply_summary(r, text, sizeof(text));
	switch (s->state) {
	case SESSION_GREETING:
		if (r->code / 100 != 2) {
			session_refused(s, text);
			break;
		}
		session_send(s, "EHLO %s", s->relay->cfg.hostname);
		session_enter(s, SESSION_EHLO);
		break;
	case SESSION_EHLO:
		if (r->code / 100 == 2) {
			s->caps = smtpc_ehlo_caps(r);
			session_after_ehlo(s);
		} else if (r->code / 100 == 5) {
			session_send(s, "HELO %s", s->relay->cfg.hostname);
			session_enter(s, SESSION_HELO);
		} else {
			session_refused(s, text);
		}
		break;
	case SESSION_HELO:
		if (r->code / 100 != 2) {
			session_refused(s, text);
			break;
		}
		s->caps = 0;
		session_after_ehlo(s);
		break;
	case SESSION_STARTTLS:
		if (r->code == 220)
			session_tls_begin(s);
		else
			session_starttls_refused(s, text);
		break;
	case SESSION_MAIL:
		session_tx_step(s, relay_tx_on_mail(&s->tx, r, text, session_out(s)));
		break;
	case SESSION_RCPT:
		session_tx_step(s, relay_tx_on_rcpt(&s->tx, r, text, session_out(s)));
		break;
	case SESSION_DATA:
		session_tx_step(s, relay_tx_on_data(&s->tx, r, text, session_out(s)));
		break;
	case SESSION_DOT:
		session_tx_step(s, relay_tx_on_dot(&s->tx, r, text));
		break;
	case SESSION_RSET:
		if (r->code / 100 == 2)
			session_ready(s);
		else
			session_close(s, NULL);
		break;
	default:	/* IDLE (e.g. 421 timeout notice), QUIT, CONNECT, TLS */
		session_close(s, NULL);
		break;
	}
}

/* session_on_read - split input into lines and lines into replies */
static void session_on_read(struct bufferevent *bev, void *arg)
{
	struct relay_session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct smtpc_reply r;
	size_t n;
	char *line;
	int rc;

	while (s->state != SESSION_CLOSED && s->bev == bev) {
		if (!(line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF))) {
			if (evbuffer_get_length(in) > SESSION_LINE_MAX)
				session_fail_state(s, "reply line too long");
			break;
		}
		rc = smtpc_reply_feed(&s->reply, line, n);
		free(line);
		if (rc < 0) {
			session_fail_state(s, "malformed reply");
			break;
		}
		if (rc == 1) {
			r = s->reply;
			smtpc_reply_reset(&s->reply);
			session_on_reply(s, &r);
		}
	}
}

/* session_on_event - connected, TLS up, or the connection failed */
static void session_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct relay_session *s = arg;
	const struct relay_addr *a = session_addr(s);
	char buf[800], err[200];

	if (what & BEV_EVENT_CONNECTED) {
		if (s->state == SESSION_TLS) {
			s->tls_active = true;
			tls_session_info(bev, s->tls_version, sizeof(s->tls_version),
			    s->tls_cipher, sizeof(s->tls_cipher));
			session_send(s, "EHLO %s", s->relay->cfg.hostname);
			session_enter(s, SESSION_EHLO);
		} else {
			session_enter(s, SESSION_GREETING);
		}
		return;
	}
	if (s->state == SESSION_CONNECT) {
		snprintf(buf, sizeof(buf), "connect to %s[%s]:%u: %s", a->host,
		    a->ip, ntohs(((const struct sockaddr_in *)&a->sa)->sin_port),
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		session_failed(s, buf);
	} else if (s->state == SESSION_TLS) {
		tls_handshake_error(bev, err, sizeof(err));
		snprintf(buf, sizeof(buf), "TLS handshake with %s[%s] failed: %s",
		    a->host, a->ip, err);
		session_failed(s, buf);
	} else if (s->state == SESSION_QUIT || s->state == SESSION_IDLE) {
		session_close(s, NULL);
	} else {
		session_fail_state(s, "lost connection");
	}
}

/* ---- public ---- */

/* relay_session_new - a connection to the first address of AS */
struct relay_session *relay_session_new(struct relay *r, struct relay_dest *d,
    struct relay_addrs *as)
{
	struct relay_session *s = calloc(1, sizeof(*s));

	if (!s || !(s->timer = evtimer_new(r->base, session_on_timer, s)))
		fatal_nomem("relay");
	s->relay = r;
	s->dest = d;
	s->addrs = relay_addrs_ref(as);
	smtpc_reply_reset(&s->reply);
	session_connect(s);
	return s;
}

/* relay_session_idle - can take a task now */
bool relay_session_idle(const struct relay_session *s)
{
	return s->state == SESSION_IDLE && !s->tx.task && !s->retired;
}

/* relay_session_retire_unless_in - S's address is not in AS (new DNS
 * answer): no further task, QUIT when idle */
void relay_session_retire_unless_in(struct relay_session *s,
    const struct relay_addrs *as)
{
	const struct relay_addr *a = session_addr(s);
	size_t i;

	for (i = 0; i < as->n; i++)
		if (as->a[i].salen == a->salen && !memcmp(&as->a[i].sa, &a->sa, a->salen))
			return;
	s->retired = true;
	if (s->state == SESSION_IDLE && !s->tx.task)
		session_ready(s);
}

/* relay_session_established - greeting and EHLO done, not closed */
bool relay_session_established(const struct relay_session *s)
{
	return s->established && s->state != SESSION_CLOSED;
}

/* relay_session_deliver - start task T on idle S */
void relay_session_deliver(struct relay_session *s, struct relay_task *t)
{
	session_tx_start(s, t);
}

/* relay_session_free - release S without telling anyone */
void relay_session_free(struct relay_session *s)
{
	session_drop_bev(s);
	relay_tx_free(&s->tx);
	relay_tx_free(&s->next);
	event_free(s->timer);
	relay_addrs_unref(s->addrs);
	free(s);
}
