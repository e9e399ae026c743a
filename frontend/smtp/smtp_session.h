/*
 * smtp_session - one SMTP connection: the state machine, the input loop
 * (every complete command in the input buffer, in order, replies batched in
 * the output buffer), timeouts, pausing while a message is being committed,
 * and closing after the output was flushed.
 *
 * A session without a bufferevent (bev == NULL) is driven by unit tests:
 * they put bytes in with smtp_session_input() and read replies from s->out.
 *
 * Ports: PORT_RELAY ([smtpd] listen) gives clients in trusted_networks the
 * trusted tenant's identity and offers STARTTLS, then AUTH; PORT_SUBMISSION
 * ([smtpd] submission_listen) offers STARTTLS, then AUTH, and every client
 * must authenticate; PORT_TLS ([smtpd] tls_listen) is PORT_SUBMISSION with
 * TLS from the first byte.
 */
#ifndef SMTP_SESSION_H
#define SMTP_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <netinet/in.h>

#include "addr.h"
#include "submit_buf.h"

struct bufferevent;
struct evbuffer;
struct event;
struct smtp_auth;
struct smtpd;
struct smtp_tx;

#define SMTP_LINE_MAX 1000	/* a command line, CRLF included (RFC 5321 4.5.3.1.4) */
#define SMTP_ID_MAX 128

enum smtp_state {
	STATE_CONNECTED,	/* banner sent, no HELO yet */
	STATE_HELO,		/* greeted, no transaction */
	STATE_MAIL,		/* MAIL accepted */
	STATE_RCPT,		/* at least one RCPT accepted (or suppressed) */
	STATE_DATA,		/* reading the message */
	STATE_WAIT,		/* message complete, waiting for ratelimiter/queue */
	STATE_QUIT,		/* closing once the output is flushed */
	STATE_COUNT
};
const char *smtp_state_name(enum smtp_state st);

enum smtp_port { PORT_RELAY, PORT_SUBMISSION, PORT_TLS, PORT_COUNT };
const char *smtp_port_name(enum smtp_port p);

/* smtp_ident - who the client sends as: set by trusted network or AUTH */
struct smtp_ident {
	bool trusted;			/* client in trusted_networks on the relay port */
	bool authed;			/* AUTH succeeded: tenant_id and user_id set */
	bool resolved;			/* tenant looked up */
	char tenant_id[SMTP_ID_MAX];
	char user_id[SMTP_ID_MAX];	/* "" for trusted clients */
};

struct smtp_session {
	struct smtpd *sd;
	struct bufferevent *bev;	/* NULL in unit tests */
	struct evbuffer *in, *out;
	enum smtp_state state;
	uint64_t id;			/* for logs */
	char ip[INET6_ADDRSTRLEN];
	char helo[256];
	bool esmtp;
	bool discarding;		/* skipping the rest of an overlong command line */
	bool closing;			/* free once the output is flushed */
	bool busy;			/* inside smtp_session_process: no free */
	bool paused;			/* waiting for a check (AUTH, sender): no input */
	bool tls;			/* TLS is active */
	bool direct;			/* plain socket: replies written through */
	bool flush_queued;		/* on sd->flushq */
	enum smtp_port port;
	struct smtp_auth *auth;		/* an AUTH exchange in progress */
	char authz_addr[ADDR_MAX + 1];	/* the sender address being refused */
	struct smtp_auth *authfail;	/* a failure being counted ... */
	void (*authfail_done)(struct smtp_session *, bool over);	/* ... then this */
	struct event *linger;		/* closing: waits for the socket to take the output */
	int lingered;			/* linger rounds so far */
	struct smtp_ident ident;
	struct smtp_tx *tx;
	struct submit_buf body;		/* reused from message to message */
	LIST_ENTRY(smtp_session) entry;
	LIST_ENTRY(smtp_session) flush_entry;
};

/* smtp_session_new - a session for a connection from IP (BEV may be NULL);
 * sends the banner */
struct smtp_session *smtp_session_new(struct smtpd *sd, struct bufferevent *bev,
    const char *ip, bool trusted);
void smtp_session_free(struct smtp_session *s);

/* smtp_session_input - unit tests: append bytes to the input and process them */
void smtp_session_input(struct smtp_session *s, const char *data, size_t len);
/* smtp_session_process - handle every complete command (or DATA) in the input */
void smtp_session_process(struct smtp_session *s);

void smtp_enter_state(struct smtp_session *s, enum smtp_state st);
/* smtp_sessions_flush - write the replies of this loop turn (sd->flush_ev) */
void smtp_sessions_flush(struct smtpd *sd);
/* smtp_reply - add one reply line (CRLF appended) to the output */
void smtp_reply(struct smtp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* smtp_session_close - stop reading; free once the output is flushed */
void smtp_session_close(struct smtp_session *s);
/* smtp_session_tx_done - the commit of the message finished: reply and resume */
void smtp_session_tx_done(struct smtp_session *s);
/* smtp_session_pause - stop handling input until smtp_session_resume */
void smtp_session_pause(struct smtp_session *s);
void smtp_session_resume(struct smtp_session *s);
/* smtp_session_starttls - after "220 Ready to start TLS": drop the pipelined
 * plaintext, put TLS under the session, forget the session state (RFC 3207
 * 4.2). 0, or -1 (logged) when TLS cannot be set up: the session closes. */
int smtp_session_starttls(struct smtp_session *s);
/* smtp_session_set_tls - the listener's port, and TLS already active (implicit TLS) */
void smtp_session_set_tls(struct smtp_session *s, enum smtp_port port, bool tls);
/* smtp_session_shutdown - the process is stopping: 421 to idle sessions */
void smtp_session_shutdown(struct smtp_session *s);
/* smtp_session_timeout - idle past the command or DATA timeout */
void smtp_session_timeout(struct smtp_session *s);

#endif
