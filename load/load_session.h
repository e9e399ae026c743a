/*
 * load_session - one SMTP client connection of ph-load, carrying as many
 * messages as the run hands it:
 *
 *   CONNECT [-> TLS (--tls)] -> GREETING -> EHLO [-> STARTTLS -> TLS -> EHLO]
 *   [-> AUTH PLAIN] -> IDLE -> transaction (load_tx) [-> RSET] -> IDLE ...
 *   -> QUIT -> CLOSED
 *
 * The session asks its feed for the next message whenever it is idle, and
 * reports each message's verdict and each change of the connection. When
 * the server closes the connection (or a 421 says it will), the session
 * reports LOAD_SESSION_CLOSED and the run decides whether to reconnect
 * (load_session_connect). Every wait for the server is bounded by
 * --timeout.
 */
#ifndef PH_LOAD_SESSION_H
#define PH_LOAD_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include "load_msg.h"
#include "load_reply.h"

struct event_base;
struct load_session;

/* load_ticket - a message handed to a session */
struct load_ticket {
	uint64_t n;			/* message number, from 0 */
	uint64_t start_us;		/* when it was due (its latency starts here) */
};

/* load_result - the verdict of one message */
struct load_result {
	enum load_class cls;
	int code;			/* the deciding reply (0 when lost) */
	char text[256];			/* its summary line ("" when lost) */
	bool has_dot_reply;		/* dot_us..end_us is end of DATA -> reply */
	uint64_t dot_us;
	uint64_t end_us;
	unsigned rcpt_refused;
};

enum load_session_event {
	LOAD_SESSION_UP,	/* greeting, EHLO, TLS and AUTH done */
	LOAD_SESSION_FAILED,	/* could not be set up, timed out or broke: WHY */
	LOAD_SESSION_CLOSED,	/* closed by the server, or after QUIT */
};

/* load_feed - the run, as a session sees it */
struct load_feed {
	void *arg;
	/* take - the next message to start: 1 (*T filled), 0 none due yet
	 * (the run pokes the session later), -1 none will come */
	int (*take)(void *arg, struct load_ticket *t);
	/* done - message T ended with R */
	void (*done)(void *arg, const struct load_ticket *t, const struct load_result *r);
	/* event - the connection changed (WHY: NULL or a reason) */
	void (*event)(void *arg, struct load_session *s, enum load_session_event ev,
	    const char *why);
};

/* load_target - where and how the sessions connect (shared, outlives them) */
struct load_target {
	struct sockaddr_storage sa;	/* the server's address */
	socklen_t salen;
	const struct load_opts *opts;
	const struct load_msg *msg;
	SSL_CTX *tls;			/* NULL without --tls / --starttls */
	const char *auth_plain;		/* AUTH PLAIN response, NULL: no AUTH */
	const struct timeval *timeout;	/* --timeout, a libevent common timeout
					 * (one queue for every session's wait) */
};

/* load_session_new - a session that is not connected yet; fatal_nomem
 * when out of memory */
struct load_session *load_session_new(struct event_base *base,
    const struct load_target *target, const struct load_feed *feed);
/* load_session_connect - open a (new) connection; its outcome is reported
 * through the feed, never from inside this call */
void load_session_connect(struct load_session *s);
/* load_session_poke - when idle, take the next message */
void load_session_poke(struct load_session *s);
/* load_session_quit - QUIT when idle (at once), or after the current
 * message; a closed session stays closed */
void load_session_quit(struct load_session *s);
/* load_session_abort - drop the connection now; a message in flight is
 * reported lost */
void load_session_abort(struct load_session *s);
/* load_session_busy - a message is in flight */
bool load_session_busy(const struct load_session *s);
/* load_session_closed - no connection */
bool load_session_closed(const struct load_session *s);
/* load_session_free - release S (closing its connection, no reports) */
void load_session_free(struct load_session *s);

#endif
