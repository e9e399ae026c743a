/*
 * load_tx - the transaction of one ph-load message (see load_tx.h for the
 * rules); the session feeds it the replies and sends what it wrote.
 *
 * DIAGNOSTICS: none; a reply out of place is LOAD_TX_BROKEN for the session.
 */
#include <stdio.h>
#include <string.h>
#include <event2/buffer.h>
#include "load_tx.h"

/* load_tx_phase_name - for diagnostics */
const char *load_tx_phase_name(enum load_tx_phase p)
{
	static const char *const names[] = { "MAIL", "RCPT", "DATA", "DOT", "OVER" };

	return names[p];
}

/* tx_rcpt - write RCPT TO for recipient I */
static int tx_rcpt(const struct load_tx *tx, const struct load_msg *m, unsigned i,
    struct evbuffer *out)
{
	char to[LOAD_ADDR_MAX];

	load_msg_recipient(m, tx->n, i, to, sizeof(to));
	return evbuffer_add_printf(out, "RCPT TO:<%s>\r\n", to) < 0 ? -1 : 0;
}

/* tx_data - write DATA */
static int tx_data(struct evbuffer *out)
{
	return evbuffer_add(out, "DATA\r\n", 6);
}

/* tx_pipeline_rest - every RCPT and DATA after MAIL, in the same write */
static int tx_pipeline_rest(const struct load_tx *tx, const struct load_msg *m,
    struct evbuffer *out)
{
	unsigned i;

	for (i = 0; i < tx->nrcpt; i++)
		if (tx_rcpt(tx, m, i, out) < 0)
			return -1;
	return tx_data(out);
}

/* load_tx_start - MAIL FROM (and with PIPELINING the rest of the envelope) */
int load_tx_start(struct load_tx *tx, const struct load_msg *m, uint64_t n,
    bool pipelined, struct evbuffer *out)
{
	memset(tx, 0, sizeof(*tx));
	tx->phase = LOAD_TX_MAIL;
	tx->n = n;
	tx->nrcpt = m->opts->recipients;
	tx->pipelined = pipelined;
	if (evbuffer_add_printf(out, "MAIL FROM:<%s>\r\n", m->opts->from) < 0)
		return -1;
	return pipelined ? tx_pipeline_rest(tx, m, out) : 0;
}

/* tx_over - the message is decided by CODE */
static enum load_tx_result tx_over(struct load_tx *tx, int code)
{
	bool rset = tx->mail_accepted && tx->phase != LOAD_TX_DOT;

	if (tx->code == 0)
		tx->code = code;
	tx->phase = LOAD_TX_OVER;
	return rset ? LOAD_TX_DONE_RSET : LOAD_TX_DONE;
}

/* tx_refused - remember the first refusal: it decides a message that never
 * reaches the dot */
static void tx_refused(struct load_tx *tx, int code)
{
	if (tx->code == 0)
		tx->code = code;
}

/* tx_on_mail - the MAIL FROM reply */
static enum load_tx_result tx_on_mail(struct load_tx *tx, const struct load_msg *m,
    int code, struct evbuffer *out)
{
	if (code / 100 == 2) {
		tx->mail_accepted = true;
	} else {
		tx_refused(tx, code);
		if (!tx->pipelined)
			return tx_over(tx, code);
	}
	tx->phase = LOAD_TX_RCPT;
	if (!tx->pipelined && tx_rcpt(tx, m, 0, out) < 0)
		return LOAD_TX_BROKEN;
	return LOAD_TX_MORE;
}

/* tx_on_rcpt - one RCPT TO reply */
static enum load_tx_result tx_on_rcpt(struct load_tx *tx, const struct load_msg *m,
    int code, struct evbuffer *out)
{
	if (code / 100 == 2) {
		tx->accepted++;
	} else {
		tx->refused++;
		tx_refused(tx, code);
	}
	if (++tx->rcpt_replies < tx->nrcpt) {
		if (!tx->pipelined && tx_rcpt(tx, m, tx->rcpt_replies, out) < 0)
			return LOAD_TX_BROKEN;
		return LOAD_TX_MORE;
	}
	if (!tx->pipelined && tx->accepted == 0)
		return tx_over(tx, tx->code);
	tx->phase = LOAD_TX_DATA;
	if (!tx->pipelined && tx_data(out) < 0)
		return LOAD_TX_BROKEN;
	return LOAD_TX_MORE;
}

/* tx_on_data - the DATA reply: the payload, or the dot alone when nobody
 * is left to receive it */
static enum load_tx_result tx_on_data(struct load_tx *tx, const struct load_msg *m,
    int code, uint64_t now_us, struct evbuffer *out)
{
	int rc;

	if (code / 100 == 2)
		return LOAD_TX_BROKEN;		/* DATA never succeeds with 2xx */
	if (code != 354)
		return tx_over(tx, code);
	tx->phase = LOAD_TX_DOT;
	tx->empty_dot = !tx->mail_accepted || tx->accepted == 0;
	tx->dot_us = now_us;
	rc = tx->empty_dot ? evbuffer_add(out, ".\r\n", 3) :
	    load_msg_write(m, tx->n, out);
	return rc < 0 ? LOAD_TX_BROKEN : LOAD_TX_MORE;
}

/* tx_on_dot - the final reply */
static enum load_tx_result tx_on_dot(struct load_tx *tx, int code, uint64_t now_us)
{
	if (!tx->empty_dot) {
		tx->code = code;	/* the dot's reply decides, whatever came before */
		tx->reply_us = now_us;
	}
	return tx_over(tx, code);
}

/* load_tx_on_reply - dispatch by phase; 1xx and 3xx (except 354 to DATA)
 * are never valid here */
enum load_tx_result load_tx_on_reply(struct load_tx *tx, const struct load_msg *m,
    int code, uint64_t now_us, struct evbuffer *out)
{
	if (code / 100 != 2 && code / 100 != 4 && code / 100 != 5 &&
	    !(code == 354 && tx->phase == LOAD_TX_DATA))
		return LOAD_TX_BROKEN;
	if (code == 421 && tx->phase != LOAD_TX_DOT)
		return tx_over(tx, code);	/* the server closes: nothing more comes */
	switch (tx->phase) {
	case LOAD_TX_MAIL:
		return tx_on_mail(tx, m, code, out);
	case LOAD_TX_RCPT:
		return tx_on_rcpt(tx, m, code, out);
	case LOAD_TX_DATA:
		return tx_on_data(tx, m, code, now_us, out);
	case LOAD_TX_DOT:
		return tx_on_dot(tx, code, now_us);
	default:
		return LOAD_TX_BROKEN;
	}
}
