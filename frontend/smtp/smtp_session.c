/*
 * smtp_session - one SMTP connection: lifecycle, state machine transitions,
 * and the input loop.
 *
 * Input: every complete line in the input buffer is handled in order before
 * the replies go out together (PIPELINING: one write for a whole batch).
 * Command lines end in LF (a CR before it is dropped: bare LF is accepted in
 * commands); a command line longer than SMTP_LINE_MAX gets
 * "500 5.5.2 Line too long" once its LF arrived, and its bytes are discarded
 * as they come. In DATA, smtp_data reads; after the final dot the session
 * waits (STATE_WAIT, reading paused) for the commit, then goes on with what
 * the client had pipelined behind the message.
 *
 * Output: replies accumulate in the bufferevent's output buffer. On a plain
 * socket they are written straight to it once per loop turn (sd->flush_ev,
 * made active by the first reply): EV_WRITE is armed only when the kernel
 * did not take everything, which saves an epoll_ctl pair and a loop turn per
 * reply. Under TLS the bufferevent writes. Above SMTP_OUT_MAX the session
 * stops reading until the client took its replies.
 *
 * Close: a session is never freed inside its own processing; it is marked
 * closing, and freed once its output is flushed (write callback) or at the
 * end of the current callback. Under STARTTLS the TLS filter hands its
 * output to the socket's bufferevent: the session lingers (a short timer)
 * until that one is empty too, so the last reply is not lost.
 *
 * Not serving (smtpd_serving false: no policy replica, no queue shard): a
 * new connection gets "421 4.3.2 Service not available, try again later"
 * instead of the banner, a message at its final dot the same instead of the
 * commit; the session then closes.
 *
 * STARTTLS: the "220" goes out in plaintext through the socket bufferevent;
 * whatever the client pipelined behind STARTTLS is discarded (the STARTTLS
 * command injection of CVE-2011-0411 gets nothing), an OpenSSL filter
 * bufferevent is put on top, and HELO, transaction and AUTH are forgotten.
 *
 * DIAGNOSTICS: "smtp session <id> <event> ..." lines at debug level.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>

#include "log.h"
#include "smtp_auth.h"
#include "smtp_commands.h"
#include "smtp_commit.h"
#include "smtp_session.h"
#include "smtp_tx.h"
#include "smtpd.h"

#define SMTP_NOT_SERVING "421 4.3.2 Service not available, try again later"
#define SMTP_OUT_MAX (256 * 1024)
#define SMTP_LINGER_MS 20
#define SMTP_LINGER_MAX 250	/* 5 s for the socket to take the last bytes */

static uint64_t smtp_session_seq;

static void smtp_session_settle(struct smtp_session *s);

/* smtp_state_name - for logs */
const char *
smtp_state_name(enum smtp_state st)
{
	static const char *names[STATE_COUNT] = {
		"CONNECTED", "HELO", "MAIL", "RCPT", "DATA", "WAIT", "QUIT",
	};

	return (unsigned)st < STATE_COUNT ? names[st] : "?";
}

/* smtp_port_name - for logs */
const char *
smtp_port_name(enum smtp_port p)
{
	static const char *names[PORT_COUNT] = { "relay", "submission", "tls" };

	return (unsigned)p < PORT_COUNT ? names[p] : "?";
}

/* smtp_session_timeouts - the read timeout of the current state */
static void
smtp_session_timeouts(struct smtp_session *s)
{
	long long ms = s->state == STATE_DATA ? s->sd->conf.data_timeout :
	    s->sd->conf.command_timeout;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	if (s->bev)
		bufferevent_set_timeouts(s->bev, &tv, &tv);
}

/* smtp_enter_state - the one place the state changes */
void
smtp_enter_state(struct smtp_session *s, enum smtp_state st)
{
	bool data_changed = (s->state == STATE_DATA) != (st == STATE_DATA);

	log_debug("smtp session %016llx state %s -> %s", (unsigned long long)s->id,
	    smtp_state_name(s->state), smtp_state_name(st));
	s->state = st;
	if (data_changed)
		smtp_session_timeouts(s);
}

/* smtp_reply - one reply line into the output */
void
smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(s->out, fmt, ap);
	va_end(ap);
	evbuffer_add(s->out, "\r\n", 2);
	if (s->direct && !s->flush_queued) {
		s->flush_queued = true;
		LIST_INSERT_HEAD(&s->sd->flushq, s, flush_entry);
		event_active(s->sd->flush_ev, 0, 0);
	}
}

/* smtp_session_unqueue - S leaves sd->flushq */
static void
smtp_session_unqueue(struct smtp_session *s)
{
	if (s->flush_queued) {
		LIST_REMOVE(s, flush_entry);
		s->flush_queued = false;
	}
}

/* smtp_session_out_empty - every reply reached the socket: free a closing
 * session, or read again after the output limit stopped reading */
static void
smtp_session_out_empty(struct smtp_session *s)
{
	if (s->closing) {
		smtp_session_settle(s);
		return;
	}
	if (s->state != STATE_WAIT && !s->paused && !(bufferevent_get_enabled(s->bev) & EV_READ)) {
		bufferevent_enable(s->bev, EV_READ);
		smtp_session_process(s);
	}
}

/* smtp_session_write_through - as much of the output as the socket takes;
 * the bufferevent writes the rest (and reports a write error). A
 * bufferevent keeps the front of its output frozen except while it writes
 * itself: thawed here the same way. */
static void
smtp_session_write_through(struct smtp_session *s)
{
	evutil_socket_t fd = bufferevent_getfd(s->bev);
	int n = 1;

	evbuffer_unfreeze(s->out, 1);
	while (n > 0 && evbuffer_get_length(s->out) > 0)
		n = evbuffer_write(s->out, fd);
	evbuffer_freeze(s->out, 1);
	if (n <= 0)
		bufferevent_enable(s->bev, EV_WRITE);
	else
		smtp_session_out_empty(s);
}

/* smtp_sessions_flush - the replies of this loop turn, one write each */
void
smtp_sessions_flush(struct smtpd *sd)
{
	struct smtp_session *s;

	while ((s = LIST_FIRST(&sd->flushq)) != NULL) {
		smtp_session_unqueue(s);
		if (s->direct)
			smtp_session_write_through(s);
	}
}

/* smtp_session_read_cb - bytes arrived */
static void
smtp_session_read_cb(struct bufferevent *bev, void *arg)
{
	smtp_session_process(arg);
}

/* smtp_session_write_cb - the output was flushed */
static void
smtp_session_write_cb(struct bufferevent *bev, void *arg)
{
	struct smtp_session *s = arg;

	if (s->direct)
		bufferevent_disable(bev, EV_WRITE);	/* back to writing through */
	smtp_session_out_empty(s);
}

/* smtp_session_event_cb - EOF, error or timeout */
static void
smtp_session_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct smtp_session *s = arg;

	if (events & BEV_EVENT_TIMEOUT) {
		smtp_session_timeout(s);
		return;
	}
	if (events == BEV_EVENT_CONNECTED)	/* the TLS handshake completed */
		return;
	if ((events & BEV_EVENT_ERROR) && bufferevent_get_underlying(bev) != NULL &&
	    !s->closing) {
		/* a TLS error under STARTTLS: let the alert reach the client */
		evbuffer_drain(s->out, evbuffer_get_length(s->out));
		smtp_session_close(s);
		if (!s->busy)
			smtp_session_settle(s);
		return;
	}
	log_debug("smtp session %016llx disconnected in %s", (unsigned long long)s->id,
	    smtp_state_name(s->state));
	smtp_session_free(s);
}

/* smtp_session_unavailable - the process cannot serve now (smtpd_serving):
 * the not-ready reply instead of the banner or of the commit (a transaction
 * in progress is logged with it), then close */
static void
smtp_session_unavailable(struct smtp_session *s)
{
	if (s->tx != NULL) {
		if (s->tx->nrcpt > 0)
			smtp_tx_log(s->tx, s, SMTP_NOT_SERVING, "Service not available");
		smtp_tx_free(s->tx);
		s->tx = NULL;
	}
	smtp_reply(s, "%s", SMTP_NOT_SERVING);
	smtp_session_close(s);
}

/* smtp_session_new - set up and send the banner (or the not-ready reply) */
struct smtp_session *
smtp_session_new(struct smtpd *sd, struct bufferevent *bev, const char *ip, bool trusted)
{
	struct smtp_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->sd = sd;
	s->bev = bev;
	s->id = ++smtp_session_seq;
	s->state = STATE_CONNECTED;
	s->ident.trusted = trusted;
	snprintf(s->ip, sizeof(s->ip), "%s", ip);
	if (bev) {
		s->in = bufferevent_get_input(bev);
		s->out = bufferevent_get_output(bev);
		bufferevent_setcb(bev, smtp_session_read_cb, smtp_session_write_cb,
		    smtp_session_event_cb, s);
		smtp_session_timeouts(s);
		s->direct = bufferevent_getfd(bev) >= 0 && bufferevent_get_underlying(bev) == NULL &&
		    bufferevent_openssl_get_ssl(bev) == NULL;
		bufferevent_enable(bev, EV_READ | EV_WRITE);
		if (s->direct)	/* a new bufferevent has EV_WRITE enabled */
			bufferevent_disable(bev, EV_WRITE);
	} else {
		s->in = evbuffer_new();
		s->out = evbuffer_new();
	}
	LIST_INSERT_HEAD(&sd->sessions, s, entry);
	sd->nsessions++;
	if (smtpd_serving(sd))
		smtp_reply(s, "220 %s ESMTP posthaste", sd->hostname);
	else
		smtp_session_unavailable(s);
	return s;
}

/* smtp_session_free - close the connection and forget the session */
void
smtp_session_free(struct smtp_session *s)
{
	struct smtpd *sd = s->sd;

	if (s->tx) {
		smtp_commit_cancel(s);
		if (s->tx->nrcpt > 0)
			smtp_tx_log(s->tx, s, "421 Disconnected", "Disconnected");
	}
	smtp_session_unqueue(s);
	smtp_tx_free(s->tx);
	submit_buf_free(&s->body);
	smtp_auth_cancel(s);
	if (s->linger)
		event_free(s->linger);
	if (s->bev) {
		bufferevent_free(s->bev);
	} else {
		evbuffer_free(s->in);
		evbuffer_free(s->out);
	}
	LIST_REMOVE(s, entry);
	sd->nsessions--;
	smtpd_session_gone(sd, s->ip);
	free(s);
}

/* smtp_session_close - no more input; free after the output is flushed */
void
smtp_session_close(struct smtp_session *s)
{
	s->closing = true;
	if (s->state != STATE_QUIT)
		smtp_enter_state(s, STATE_QUIT);
	if (s->bev)
		bufferevent_disable(s->bev, EV_READ);
}

/* smtp_session_flushed - the output, and under a TLS filter the socket's, is empty */
static bool
smtp_session_flushed(struct smtp_session *s)
{
	struct bufferevent *under = bufferevent_get_underlying(s->bev);

	return evbuffer_get_length(s->out) == 0 &&
	    (under == NULL || evbuffer_get_length(bufferevent_get_output(under)) == 0);
}

/* smtp_session_linger_cb - check again whether a closing session flushed */
static void
smtp_session_linger_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_session *s = arg;

	if (smtp_session_flushed(s) || ++s->lingered > SMTP_LINGER_MAX)
		smtp_session_free(s);
	else
		smtp_session_settle(s);
}

/* smtp_session_settle - end of a callback: free a closed, flushed session */
static void
smtp_session_settle(struct smtp_session *s)
{
	struct timeval tv = { 0, SMTP_LINGER_MS * 1000 };

	if (!s->closing || s->bev == NULL || evbuffer_get_length(s->out) != 0)
		return;
	if (smtp_session_flushed(s)) {
		smtp_session_free(s);
		return;
	}
	if (s->linger == NULL &&
	    (s->linger = evtimer_new(s->sd->base, smtp_session_linger_cb, s)) == NULL) {
		smtp_session_free(s);
		return;
	}
	evtimer_add(s->linger, &tv);
}

/* smtp_session_line - the next command line, or -1 when none is complete */
static int
smtp_session_line(struct smtp_session *s, char *line, size_t *len)
{
	struct evbuffer_ptr eol = evbuffer_search_eol(s->in, NULL, NULL, EVBUFFER_EOL_LF);
	size_t n;

	if (eol.pos < 0) {
		if (evbuffer_get_length(s->in) >= SMTP_LINE_MAX) {
			evbuffer_drain(s->in, evbuffer_get_length(s->in));
			s->discarding = true;
		}
		return -1;
	}
	n = (size_t)eol.pos + 1;
	if (s->discarding || n > SMTP_LINE_MAX) {
		evbuffer_drain(s->in, n);
		s->discarding = false;
		*len = SIZE_MAX;
		return 0;
	}
	evbuffer_remove(s->in, line, n);
	n--;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	*len = n;
	return 0;
}

/* smtp_session_step - handle one unit of input; -1 when nothing more to do now */
static int
smtp_session_step(struct smtp_session *s)
{
	char line[SMTP_LINE_MAX + 1];
	size_t len;

	if (s->state == STATE_DATA) {
		if (smtp_data_feed(&s->tx->data, s->in) == DATA_MORE)
			return -1;
		if (!smtpd_serving(s->sd)) {
			smtp_session_unavailable(s);
			return 0;
		}
		smtp_enter_state(s, STATE_WAIT);
		smtp_commit_start(s);
		return 0;
	}
	if (smtp_session_line(s, line, &len) < 0)
		return -1;
	if (s->auth != NULL)
		smtp_auth_line(s, line, len);
	else if (len == SIZE_MAX)
		smtp_reply(s, "500 5.5.2 Line too long");
	else
		smtp_command(s, line, len);
	return 0;
}

/* smtp_session_process - everything the input buffer holds, in order */
void
smtp_session_process(struct smtp_session *s)
{
	s->busy = true;
	while (!s->closing && s->state != STATE_WAIT && !s->paused) {
		if (evbuffer_get_length(s->out) > SMTP_OUT_MAX && s->bev) {
			bufferevent_disable(s->bev, EV_READ);
			break;
		}
		if (smtp_session_step(s) < 0)
			break;
	}
	if ((s->state == STATE_WAIT || s->paused) && s->bev)
		bufferevent_disable(s->bev, EV_READ);
	s->busy = false;
	smtp_session_settle(s);
}

/* smtp_session_input - unit tests: feed bytes */
void
smtp_session_input(struct smtp_session *s, const char *data, size_t len)
{
	evbuffer_add(s->in, data, len);
	smtp_session_process(s);
}

/* smtp_session_tx_done - the transaction ended with a reply: go on */
void
smtp_session_tx_done(struct smtp_session *s)
{
	smtp_tx_free(s->tx);
	s->tx = NULL;
	smtp_enter_state(s, STATE_HELO);
	if (s->sd->stopping) {
		smtp_session_shutdown(s);
		return;
	}
	smtp_session_resume(s);
}

/* smtp_session_pause - a check is pending: no input until it answered */
void
smtp_session_pause(struct smtp_session *s)
{
	s->paused = true;
	if (s->bev)
		bufferevent_disable(s->bev, EV_READ);
}

/* smtp_session_resume - go on with the input (and what was pipelined) */
void
smtp_session_resume(struct smtp_session *s)
{
	s->paused = false;
	if (s->busy)
		return;		/* the input loop that started the wait goes on */
	if (s->closing) {
		smtp_session_settle(s);
		return;
	}
	if (s->bev)
		bufferevent_enable(s->bev, EV_READ);
	smtp_session_process(s);
}

/* smtp_session_set_tls - the listener's port; TLS from the start on PORT_TLS */
void
smtp_session_set_tls(struct smtp_session *s, enum smtp_port port, bool tls)
{
	s->port = port;
	s->tls = tls;
	if (s->bev && tls)
		bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
}

/* smtp_session_reset - RFC 3207 4.2: forget what the client said before TLS */
static void
smtp_session_reset(struct smtp_session *s)
{
	smtp_tx_free(s->tx);
	s->tx = NULL;
	s->helo[0] = '\0';
	s->esmtp = false;
	s->ident.authed = s->ident.resolved = false;
	s->ident.tenant_id[0] = s->ident.user_id[0] = '\0';
	smtp_enter_state(s, STATE_CONNECTED);
}

/* smtp_session_starttls - TLS filter on top of the socket bufferevent */
int
smtp_session_starttls(struct smtp_session *s)
{
	struct bufferevent *tls;
	SSL *ssl;

	evbuffer_drain(s->in, evbuffer_get_length(s->in));
	smtp_session_reset(s);
	if (s->bev == NULL)
		return -1;
	if (s->direct) {
		/* the plaintext "220" still waits in the socket's output: the
		 * bufferevent writes it, and the TLS filter owns the socket after */
		s->direct = false;
		smtp_session_unqueue(s);
		bufferevent_enable(s->bev, EV_WRITE);
	}
	if ((ssl = SSL_new(s->sd->tls)) == NULL) {
		log_warnx("smtp session %016llx: SSL_new failed", (unsigned long long)s->id);
		return -1;
	}
	bufferevent_set_timeouts(s->bev, NULL, NULL);	/* the filter's count */
	tls = bufferevent_openssl_filter_new(s->sd->base, s->bev, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL) {
		log_warnx("smtp session %016llx: no TLS bufferevent", (unsigned long long)s->id);
		return -1;
	}
	s->bev = tls;
	s->in = bufferevent_get_input(tls);
	s->out = bufferevent_get_output(tls);
	bufferevent_setcb(tls, smtp_session_read_cb, smtp_session_write_cb,
	    smtp_session_event_cb, s);
	smtp_session_set_tls(s, s->port, true);
	smtp_session_timeouts(s);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
	return 0;
}

/* smtp_session_shutdown - 421 to a session at a prompt or in DATA */
void
smtp_session_shutdown(struct smtp_session *s)
{
	if (s->state == STATE_WAIT || s->closing)
		return;
	smtp_reply(s, "421 4.3.0 Mail system failure, closing transmission channel");
	smtp_session_close(s);
	if (!s->busy)
		smtp_session_settle(s);
}

/* smtp_session_timeout - idle too long */
void
smtp_session_timeout(struct smtp_session *s)
{
	log_debug("smtp session %016llx timeout in %s", (unsigned long long)s->id,
	    smtp_state_name(s->state));
	if (s->closing) {
		smtp_session_free(s);	/* the client does not even take our output */
		return;
	}
	if (s->state == STATE_WAIT)
		smtp_commit_cancel(s);
	smtp_reply(s, "421 Timeout waiting for data from client");
	smtp_session_close(s);
	if (s->bev)
		bufferevent_enable(s->bev, EV_WRITE);
}
