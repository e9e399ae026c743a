/*
 * relay_tx - one SMTP transaction on an established relay session: MAIL
 * FROM, the RCPTs (all in one write with PIPELINING, else one by one), DATA
 * and the dot-stuffed body; each recipient's outcome from its RCPT reply or
 * the final reply after the dot; and the verdict for the destination
 * (relay_dest_feedback). The session (relay_session.c) owns the connection
 * and its states: it hands each reply of the transaction to relay_tx_on_*,
 * which writes the next commands and says what to wait for.
 */
#ifndef PH_RELAY_TX_H
#define PH_RELAY_TX_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include "relay.h"
#include "smtpc.h"

struct evbuffer;
struct relay_dest;

/* relay_tx - the transaction in progress on a session (task NULL: none) */
struct relay_tx {
	struct relay_task *task;
	unsigned caps;			/* the server's SMTPC_CAP_* */
	size_t *list;			/* task recipients sent in RCPT */
	size_t nlist;
	size_t rcpt_idx;		/* next RCPT reply expected */
	size_t naccepted;
	bool mail_failed;
	bool empty_dot;			/* 354 with nobody accepted: "." alone was sent */
	int code;			/* the reply that ended it (RELAY_TX_END_*) */
};

/* relay_tx_step - what the session does next */
enum relay_tx_step {
	RELAY_TX_MAIL,		/* wait for the MAIL FROM reply */
	RELAY_TX_RCPT,		/* wait for the next RCPT TO reply */
	RELAY_TX_DATA,		/* wait for the DATA reply */
	RELAY_TX_DOT,		/* the body is out: wait for the final reply */
	RELAY_TX_EMPTY,		/* no recipient left to try: the task is done */
	RELAY_TX_END_OK,	/* over (relay_tx_finish), delivered */
	RELAY_TX_END_FAIL,	/* over (relay_tx_finish), RSET or 421 next */
	RELAY_TX_NOMEM,		/* the body could not be prepared */
};

/* relay_tx_cmd / relay_tx_vcmd - one command line (CRLF added) into OUT */
void relay_tx_cmd(struct evbuffer *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void relay_tx_vcmd(struct evbuffer *out, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* relay_tx_start - a transaction for T (taken) to a server with CAPS: MAIL
 * FROM (and the RCPTs when pipelining) into OUT */
enum relay_tx_step relay_tx_start(struct relay_tx *tx, struct relay_task *t,
    unsigned caps, struct evbuffer *out);
/* relay_tx_on_mail / _rcpt / _data / _dot - the reply R (TEXT: its summary)
 * to MAIL FROM, one RCPT TO, DATA and the dot */
enum relay_tx_step relay_tx_on_mail(struct relay_tx *tx, const struct smtpc_reply *r,
    const char *text, struct evbuffer *out);
enum relay_tx_step relay_tx_on_rcpt(struct relay_tx *tx, const struct smtpc_reply *r,
    const char *text, struct evbuffer *out);
enum relay_tx_step relay_tx_on_data(struct relay_tx *tx, const struct smtpc_reply *r,
    const char *text, struct evbuffer *out);
enum relay_tx_step relay_tx_on_dot(struct relay_tx *tx, const struct smtpc_reply *r,
    const char *text);
/* relay_tx_finish - after RELAY_TX_END_*: tell DEST whether the server
 * answered, report the task; TX is free for the next one */
void relay_tx_finish(struct relay_tx *tx, struct relay_dest *dest);
/* relay_tx_take - the task, no longer this transaction's (NULL if none) */
struct relay_task *relay_tx_take(struct relay_tx *tx);
/* relay_tx_free - drop the task unreported (shutdown) and the lists */
void relay_tx_free(struct relay_tx *tx);

#endif
