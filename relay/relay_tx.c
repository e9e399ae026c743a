/*
 * relay_tx - the MAIL / RCPT... / DATA sequencing of ph-relay's SMTP client
 * (see relay_tx.h).
 *
 * With PIPELINING, MAIL, every RCPT and DATA go out in one write (RFC 2920
 * lets DATA end a group) and the replies are matched in order: one round
 * trip and one write fewer per message. When no recipient was accepted the
 * DATA reply is an error; a server that answers 354 anyway gets "." alone. Per recipient: a 2xx RCPT waits for the final reply
 * after the dot; 4xx -> deferred, 5xx -> failed. A 421 at any point defers
 * what is left and ends the transaction (the session then closes).
 *
 * DIAGNOSTICS: none; outcomes go into the task.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <event2/buffer.h>
#include "relay_dest.h"
#include "relay_tx.h"

/* relay_tx_vcmd - FMT and CRLF */
void relay_tx_vcmd(struct evbuffer *out, const char *fmt, va_list ap)
{
	evbuffer_add_vprintf(out, fmt, ap);
	evbuffer_add(out, "\r\n", 2);
}

/* relay_tx_cmd - FMT and CRLF */
void relay_tx_cmd(struct evbuffer *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	relay_tx_vcmd(out, fmt, ap);
	va_end(ap);
}

/* tx_send_rcpt - RCPT TO for list entry K */
static void tx_send_rcpt(struct relay_tx *tx, size_t k, struct evbuffer *out)
{
	relay_tx_cmd(out, "RCPT TO:<%s>", tx->task->rcpts[tx->list[k]].address);
}

/* tx_end - the transaction is over after reply CODE */
static enum relay_tx_step tx_end(struct relay_tx *tx, bool ok, int code)
{
	tx->code = code;
	return ok ? RELAY_TX_END_OK : RELAY_TX_END_FAIL;
}

/* relay_tx_start - the recipients without an outcome yet, then MAIL FROM */
enum relay_tx_step relay_tx_start(struct relay_tx *tx, struct relay_task *t,
    unsigned caps, struct evbuffer *out)
{
	size_t i, k;

	tx->task = t;
	tx->caps = caps;
	free(tx->list);
	tx->list = calloc(t->n, sizeof(*tx->list));
	tx->nlist = tx->rcpt_idx = tx->naccepted = 0;
	tx->mail_failed = tx->empty_dot = false;
	for (i = 0; tx->list && i < t->n; i++) {
		t->rcpts[i].accepted = false;
		if (t->rcpts[i].outcome == PH__OUTCOME__OUTCOME_UNSPECIFIED)
			tx->list[tx->nlist++] = i;
	}
	if (tx->nlist == 0) {
		tx->task = NULL;
		relay_task_done(t);
		return RELAY_TX_EMPTY;
	}
	relay_tx_cmd(out, "MAIL FROM:<%s>%s", t->t->mail_from,
	    (caps & SMTPC_CAP_8BITMIME) ? " BODY=8BITMIME" : "");
	if (caps & SMTPC_CAP_PIPELINING) {
		for (k = 0; k < tx->nlist; k++)
			tx_send_rcpt(tx, k, out);
		relay_tx_cmd(out, "DATA");
	}
	return RELAY_TX_MAIL;
}

/* tx_set_accepted - the final outcome of every accepted recipient */
static void tx_set_accepted(struct relay_tx *tx, int code, const char *text)
{
	size_t k;

	for (k = 0; k < tx->nlist; k++)
		if (tx->task->rcpts[tx->list[k]].accepted)
			relay_task_set(tx->task, tx->list[k], smtpc_reply_outcome(code),
			    text);
}

/* tx_feedback - tell the destination whether the server answered: some
 * recipient delivered or failed (a success), or MAIL FROM got 4xx or the
 * server said 421 (a failed attempt); a 4xx only to RCPT or the data is
 * about this message (greylisting, a full mailbox) and says nothing */
static void tx_feedback(const struct relay_tx *tx, struct relay_dest *dest)
{
	const struct relay_rcpt *rc;
	const char *why = NULL;
	size_t k;

	for (k = 0; k < tx->nlist; k++) {
		rc = &tx->task->rcpts[tx->list[k]];
		if (rc->outcome == PH__OUTCOME__OUTCOME_DELIVERED ||
		    rc->outcome == PH__OUTCOME__OUTCOME_FAILED) {
			relay_dest_feedback(dest, true, NULL);
			return;
		}
		if (!why)
			why = rc->reply;
	}
	if (tx->code == 421 || tx->mail_failed)
		relay_dest_feedback(dest, false, why);
}

/* relay_tx_finish - feedback, then the task's report */
void relay_tx_finish(struct relay_tx *tx, struct relay_dest *dest)
{
	tx_feedback(tx, dest);
	relay_task_done(relay_tx_take(tx));
}

/* relay_tx_on_mail - the MAIL FROM reply */
enum relay_tx_step relay_tx_on_mail(struct relay_tx *tx, const struct smtpc_reply *r,
    const char *text, struct evbuffer *out)
{
	if (r->code / 100 != 2) {
		tx->mail_failed = true;
		relay_task_set_rest(tx->task, smtpc_reply_outcome(r->code), text);
	}
	if (tx->caps & SMTPC_CAP_PIPELINING && r->code != 421)
		return RELAY_TX_RCPT;
	if (tx->mail_failed)
		return tx_end(tx, false, r->code);
	tx_send_rcpt(tx, 0, out);
	return RELAY_TX_RCPT;
}

/* relay_tx_on_rcpt - one RCPT TO reply, in order */
enum relay_tx_step relay_tx_on_rcpt(struct relay_tx *tx, const struct smtpc_reply *r,
    const char *text, struct evbuffer *out)
{
	size_t i = tx->list[tx->rcpt_idx++];

	if (!tx->mail_failed && r->code / 100 == 2) {
		tx->task->rcpts[i].accepted = true;
		tx->naccepted++;
	} else if (!tx->mail_failed) {
		relay_task_set(tx->task, i, smtpc_reply_outcome(r->code), text);
	}
	if (r->code == 421) {
		relay_task_set_rest(tx->task, PH__OUTCOME__OUTCOME_DEFERRED, text);
		return tx_end(tx, false, 421);
	}
	if (tx->rcpt_idx < tx->nlist) {
		if (!(tx->caps & SMTPC_CAP_PIPELINING))
			tx_send_rcpt(tx, tx->rcpt_idx, out);
		return RELAY_TX_RCPT;
	}
	if (tx->caps & SMTPC_CAP_PIPELINING)
		return RELAY_TX_DATA;	/* DATA went out with the group */
	if (tx->mail_failed || tx->naccepted == 0)
		return tx_end(tx, false, r->code);
	relay_tx_cmd(out, "DATA");
	return RELAY_TX_DATA;
}

/* body_free - evbuffer cleanup for the stuffed body */
static void body_free(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

/* relay_tx_on_data - the DATA reply: 354 sends the body */
enum relay_tx_step relay_tx_on_data(struct relay_tx *tx, const struct smtpc_reply *r,
    const char *text, struct evbuffer *out)
{
	const ProtobufCBinaryData *b = &tx->task->t->body;
	size_t len;
	char *stuffed;

	if (r->code != 354) {
		tx_set_accepted(tx, r->code == 250 ? 451 : r->code, text);
		return tx_end(tx, false, r->code);
	}
	if (tx->mail_failed || tx->naccepted == 0) {
		evbuffer_add(out, ".\r\n", 3);	/* nothing to send: end it empty */
		tx->empty_dot = true;
		return RELAY_TX_DOT;
	}
	if (!(stuffed = smtpc_dot_stuff(b->data, b->len, &len)))
		return RELAY_TX_NOMEM;
	evbuffer_add_reference(out, stuffed, len, body_free, NULL);
	return RELAY_TX_DOT;
}

/* relay_tx_on_dot - the final reply decides for every accepted recipient */
enum relay_tx_step relay_tx_on_dot(struct relay_tx *tx, const struct smtpc_reply *r,
    const char *text)
{
	if (tx->empty_dot)
		return tx_end(tx, false, r->code);
	tx_set_accepted(tx, r->code, text);
	return tx_end(tx, r->code / 100 == 2, r->code);
}

/* relay_tx_take - hand the task over */
struct relay_task *relay_tx_take(struct relay_tx *tx)
{
	struct relay_task *t = tx->task;

	tx->task = NULL;
	return t;
}

/* relay_tx_free - shutdown */
void relay_tx_free(struct relay_tx *tx)
{
	if (tx->task)
		relay_task_free(relay_tx_take(tx));
	free(tx->list);
	tx->list = NULL;
}
