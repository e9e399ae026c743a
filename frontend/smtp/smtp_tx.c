/*
 * smtp_tx - one mail transaction: envelope, recipients, the message being
 * read, and the "accepted" records of a transaction that did not reach the
 * end of DATA (the pipeline writes those of a message: frontend/submit).
 *
 * DIAGNOSTICS: out of memory is returned as -1 (the caller answers 451).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "smtp_session.h"
#include "smtp_tx.h"
#include "smtpd.h"
#include "submit_log.h"

/* smtp_tx_new - a transaction for MAIL FROM:<MAIL_FROM> */
struct smtp_tx *
smtp_tx_new(const char *mail_from)
{
	struct smtp_tx *tx = calloc(1, sizeof(*tx));

	if (tx == NULL)
		return NULL;
	id_new(tx->id);
	snprintf(tx->mail_from, sizeof(tx->mail_from), "%s", mail_from);
	return tx;
}

/* smtp_tx_free - the transaction and its recipients */
void
smtp_tx_free(struct smtp_tx *tx)
{
	size_t i;

	if (tx == NULL)
		return;
	for (i = 0; i < tx->nrcpt; i++)
		free(tx->rcpts[i].addr);
	free(tx->rcpts);
	free(tx);
}

/* smtp_tx_add_rcpt - remember ADDR with its RCPT outcome */
int
smtp_tx_add_rcpt(struct smtp_tx *tx, const char *addr, enum submit_rcpt_state st)
{
	if (tx->nrcpt == tx->cap) {
		size_t cap = tx->cap ? tx->cap * 2 : 4;
		struct submit_rcpt *r = realloc(tx->rcpts, cap * sizeof(*r));

		if (r == NULL)
			return -1;
		tx->rcpts = r;
		tx->cap = cap;
	}
	if ((tx->rcpts[tx->nrcpt].addr = strdup(addr)) == NULL)
		return -1;
	tx->rcpts[tx->nrcpt++].state = st;
	return 0;
}

/* smtp_tx_data_start - Received: line, then the DATA reader */
int
smtp_tx_data_start(struct smtp_tx *tx, struct smtp_session *s)
{
	tx->received_ms = clock_now_ms();
	if (submit_received(s->sd->submit, &s->body, s->esmtp ? "ESMTP" : "SMTP", s->helo,
	    s->ip, tx->id, tx->received_ms) < 0)
		return -1;
	tx->trace_len = s->body.len;
	smtp_data_start(&tx->data, &s->body, (size_t)s->sd->conf.max_message_size);
	return 0;
}

/* smtp_tx_ident - trusted clients send as the tenant, in any compartment */
struct submit_ident
smtp_tx_ident(const struct smtp_session *s)
{
	struct submit_ident who = { s->ident.tenant_id, s->ident.user_id, "" };

	return who;
}

/* smtp_log_rcpt - one "accepted" record */
void
smtp_log_rcpt(const struct smtp_session *s, const char *rcpt, const char *sender,
    const char *status, const char *error_type)
{
	struct submit_record r = { s->ident.tenant_id, rcpt, sender, error_type, status,
	    NULL, s->ip, NULL };

	submit_log_record(&r);
}

/* smtp_tx_log - one record per recipient of a transaction given up */
void
smtp_tx_log(const struct smtp_tx *tx, const struct smtp_session *s,
    const char *status, const char *error_type)
{
	struct submit_record base = { s->ident.tenant_id, NULL, tx->mail_from, error_type,
	    status, tx->id, s->ip, NULL };
	struct submit_ident who = smtp_tx_ident(s);

	submit_log_rcpts(&base, tx->rcpts, tx->nrcpt, &who);
}
