/*
 * smtp_tx - one mail transaction (MAIL .. end of DATA): the envelope, the
 * recipients with their RCPT outcome, the DATA reader and header scan, the
 * EnqueueRequest built from it, and the per-recipient "accepted" log records.
 * RSET or the end of the transaction frees it; the session stays.
 */
#ifndef SMTP_TX_H
#define SMTP_TX_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "queue.pb-c.h"
#include "smtp_data.h"
#include "smtp_header.h"

struct smtp_session;

enum smtp_rcpt_status { RCPT_ACCEPTED, RCPT_SUPPRESSED };

struct smtp_rcpt {
	char *addr;
	enum smtp_rcpt_status status;
};

struct smtp_tx {
	char id[33];			/* transaction id, also in the Received: line */
	char mail_from[ADDR_MAX + 1];
	struct smtp_rcpt *rcpts;
	size_t nrcpt, cap, naccepted;	/* naccepted: not suppressed */
	struct smtp_data data;
	struct smtp_header hdr;
	uint64_t received_ms;
	char header_from[ADDR_MAX + 1];	/* first address of the From: field */
	/* commit */
	Ph__EnqueueRequest req;
	char **req_rcpts;
};

struct smtp_tx *smtp_tx_new(const char *mail_from);
void smtp_tx_free(struct smtp_tx *tx);
/* smtp_tx_add_rcpt - 0 or -1 (out of memory) */
int smtp_tx_add_rcpt(struct smtp_tx *tx, const char *addr, enum smtp_rcpt_status st);
/* smtp_tx_data_start - write the Received: line into S's body buffer and
 * start the DATA reader with the size limit */
int smtp_tx_data_start(struct smtp_tx *tx, struct smtp_session *s);
/* smtp_tx_data_end - the final dot arrived: 0 when the header is valid
 * (554 Message parse error otherwise) */
int smtp_tx_data_end(struct smtp_tx *tx);
/* smtp_tx_request - fill tx->req for the queue (pointers into tx and S) */
int smtp_tx_request(struct smtp_tx *tx, struct smtp_session *s);
/* smtp_tx_cost - ratelimit cost: recipients to deliver * ceil(size / 2 MB) */
uint64_t smtp_tx_cost(const struct smtp_tx *tx);
/* smtp_tx_rcpt_reply - the RCPT reply that recipient I got */
void smtp_tx_rcpt_reply(const struct smtp_tx *tx, const struct smtp_session *s,
    size_t i, char *buf, size_t len);
/* smtp_tx_log - one "accepted" record per recipient. REPLY/ERROR_TYPE: the
 * outcome of the transaction for the recipients that were not suppressed
 * (ERROR_TYPE NULL when accepted); suppressed ones carry their 254. */
void smtp_tx_log(const struct smtp_tx *tx, const struct smtp_session *s,
    const char *reply, const char *error_type);
/* smtp_log_rcpt - one "accepted" record outside a finished transaction
 * (e.g. an invalid recipient at RCPT) */
void smtp_log_rcpt(const struct smtp_session *s, const char *rcpt,
    const char *sender, const char *message_id, const char *status,
    const char *error_type);

#endif
