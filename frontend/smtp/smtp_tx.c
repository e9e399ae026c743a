/*
 * smtp_tx - one mail transaction: envelope, recipients, the message being
 * read, the EnqueueRequest for the queue and the "accepted" event records.
 *
 * Accepted log: one JSON record per recipient (research 7.3 field names):
 * recipient, sender (header From, else envelope sender), action "accept",
 * errorType (absent on success), smtpStatus, messageId, plus sourceAddress.
 *
 * DIAGNOSTICS: out of memory is returned as -1 (the caller answers 451).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "clock.h"
#include "log.h"
#include "ratelimit.h"
#include "smtp_session.h"
#include "smtp_tx.h"
#include "smtpd.h"

/* smtp_tx_new - a transaction for MAIL FROM:<MAIL_FROM> */
struct smtp_tx *
smtp_tx_new(const char *mail_from)
{
	struct smtp_tx *tx = calloc(1, sizeof(*tx));

	if (tx == NULL)
		return NULL;
	id_new(tx->id);
	snprintf(tx->mail_from, sizeof(tx->mail_from), "%s", mail_from);
	smtp_header_init(&tx->hdr);
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
	free(tx->req_rcpts);
	free(tx);
}

/* smtp_tx_add_rcpt - remember ADDR with its RCPT outcome */
int
smtp_tx_add_rcpt(struct smtp_tx *tx, const char *addr, enum smtp_rcpt_status st)
{
	if (tx->nrcpt == tx->cap) {
		size_t cap = tx->cap ? tx->cap * 2 : 4;
		struct smtp_rcpt *r = realloc(tx->rcpts, cap * sizeof(*r));

		if (r == NULL)
			return -1;
		tx->rcpts = r;
		tx->cap = cap;
	}
	if ((tx->rcpts[tx->nrcpt].addr = strdup(addr)) == NULL)
		return -1;
	tx->rcpts[tx->nrcpt++].status = st;
	if (st == RCPT_ACCEPTED)
		tx->naccepted++;
	return 0;
}

/* smtp_tx_date - RFC 5322 date-time of MS */
static void
smtp_tx_date(uint64_t ms, char *buf, size_t len)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&secs, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

/* smtp_tx_data_start - Received: line, then the DATA reader */
int
smtp_tx_data_start(struct smtp_tx *tx, struct smtp_session *s)
{
	char line[1024], date[64];
	int n;

	tx->received_ms = clock_now_ms();
	smtp_tx_date(tx->received_ms, date, sizeof(date));
	n = snprintf(line, sizeof(line),
	    "Received: from %s (%s)\r\n\tby %s (posthaste) with %s id %.16s;\r\n\t%s\r\n",
	    s->helo, s->ip, s->sd->hostname, s->esmtp ? "ESMTP" : "SMTP", tx->id, date);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	s->body.len = 0;
	if (smtp_buf_append(&s->body, line, (size_t)n) < 0)
		return -1;
	smtp_data_start(&tx->data, &s->body, &tx->hdr,
	    (size_t)s->sd->conf.max_message_size);
	return 0;
}

/* smtp_tx_first_from - addr_list_parse callback: keep the first mailbox */
static void
smtp_tx_first_from(void *arg, const char *mailbox)
{
	struct smtp_tx *tx = arg;

	if (tx->header_from[0] == '\0')
		snprintf(tx->header_from, sizeof(tx->header_from), "%s", mailbox);
}

/* smtp_tx_data_end - header verdict; keeps the first address of From: */
int
smtp_tx_data_end(struct smtp_tx *tx)
{
	const char *from;

	if (smtp_header_finish(&tx->hdr) < 0)
		return -1;
	from = smtp_header_get(&tx->hdr, HF_FROM);
	tx->header_from[0] = '\0';
	if (addr_list_parse(from, strlen(from), smtp_tx_first_from, tx) <= 0)
		snprintf(tx->header_from, sizeof(tx->header_from), "%s", from);
	return 0;
}

/* smtp_tx_request - the EnqueueRequest for this transaction */
int
smtp_tx_request(struct smtp_tx *tx, struct smtp_session *s)
{
	Ph__EnqueueRequest *r = &tx->req;
	size_t i, n = 0;

	free(tx->req_rcpts);
	if ((tx->req_rcpts = calloc(tx->naccepted ? tx->naccepted : 1, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < tx->nrcpt; i++)
		if (tx->rcpts[i].status == RCPT_ACCEPTED)
			tx->req_rcpts[n++] = tx->rcpts[i].addr;
	ph__enqueue_request__init(r);
	r->tenant_id = s->ident.tenant_id;
	r->user_id = s->ident.user_id;
	r->mail_from = tx->mail_from;
	r->n_rcpts = n;
	r->rcpts = tx->req_rcpts;
	r->body.data = (uint8_t *)s->body.p;
	r->body.len = s->body.len;
	r->client_ip = s->ip;
	r->helo = s->helo;
	r->received_ms = tx->received_ms;
	r->source = "smtp";
	r->message_id = (char *)smtp_header_get(&tx->hdr, HF_MESSAGE_ID);
	r->header_from = tx->header_from;
	r->subject = (char *)smtp_header_get(&tx->hdr, HF_SUBJECT);
	return 0;
}

/* smtp_tx_cost - recipients to deliver * ceil(size / 2 MB) */
uint64_t
smtp_tx_cost(const struct smtp_tx *tx)
{
	return ratelimit_cost(tx->naccepted, tx->data.body->len);
}

/* smtp_tx_rcpt_reply - the reply recipient I got at RCPT */
void
smtp_tx_rcpt_reply(const struct smtp_tx *tx, const struct smtp_session *s,
    size_t i, char *buf, size_t len)
{
	const struct smtp_rcpt *r = &tx->rcpts[i];

	if (r->status == RCPT_SUPPRESSED)
		snprintf(buf, len, "254 4.7.1 Suppression for user %s to %s",
		    s->ident.user_id[0] ? s->ident.user_id : s->ident.tenant_id, r->addr);
	else
		snprintf(buf, len, "250 2.1.5 %s and options Ok", r->addr);
}

/* smtp_log_rcpt - write one "accepted" record */
void
smtp_log_rcpt(const struct smtp_session *s, const char *rcpt, const char *sender,
    const char *message_id, const char *status, const char *error_type)
{
	json_t *d = json_object();

	if (d == NULL)
		return;
	if (rcpt && *rcpt)
		json_object_set_new(d, "recipient", json_string(rcpt));
	json_object_set_new(d, "sender", json_string(sender ? sender : ""));
	json_object_set_new(d, "action", json_string("accept"));
	if (error_type)
		json_object_set_new(d, "errorType", json_string(error_type));
	json_object_set_new(d, "smtpStatus", json_string(status));
	if (message_id && *message_id)
		json_object_set_new(d, "messageId", json_string(message_id));
	json_object_set_new(d, "sourceAddress", json_string(s->ip));
	eventlog_write("accepted", s->ident.tenant_id, d);
}

/* smtp_tx_log - one record per recipient at the end of the transaction */
void
smtp_tx_log(const struct smtp_tx *tx, const struct smtp_session *s,
    const char *reply, const char *error_type)
{
	const char *msgid = smtp_header_get(&tx->hdr, HF_MESSAGE_ID);
	const char *sender = tx->header_from[0] ? tx->header_from : tx->mail_from;
	char buf[512];
	size_t i;

	if (*msgid == '\0')
		msgid = tx->id;
	for (i = 0; i < tx->nrcpt; i++) {
		if (tx->rcpts[i].status == RCPT_SUPPRESSED) {
			smtp_tx_rcpt_reply(tx, s, i, buf, sizeof(buf));
			smtp_log_rcpt(s, tx->rcpts[i].addr, sender, msgid, buf,
			    "Recipient suppressed");
		} else if (error_type == NULL) {
			smtp_tx_rcpt_reply(tx, s, i, buf, sizeof(buf));
			smtp_log_rcpt(s, tx->rcpts[i].addr, sender, msgid, buf, NULL);
		} else {
			smtp_log_rcpt(s, tx->rcpts[i].addr, sender, msgid, reply, error_type);
		}
	}
}
