/*
 * smtp_tx - one mail transaction (MAIL .. end of DATA): the envelope, the
 * recipients with the state the pipeline's suppression check gave them at
 * RCPT, the DATA reader, and the "accepted" records of a transaction that
 * ends before the pipeline does (RSET, a lost connection). RSET or the end
 * of the transaction frees it; the session stays.
 */
#ifndef SMTP_TX_H
#define SMTP_TX_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "smtp_data.h"
#include "submit.h"

struct smtp_session;

struct smtp_tx {
	char id[33];			/* transaction id, also in the Received: line */
	char mail_from[ADDR_MAX + 1];
	struct submit_rcpt *rcpts;
	size_t nrcpt, cap;
	struct smtp_data data;
	uint64_t received_ms;
	size_t trace_len;		/* the Received: line at the start of the body */
};

struct smtp_tx *smtp_tx_new(const char *mail_from);
void smtp_tx_free(struct smtp_tx *tx);
/* smtp_tx_add_rcpt - 0 or -1 (out of memory) */
int smtp_tx_add_rcpt(struct smtp_tx *tx, const char *addr, enum submit_rcpt_state st);
/* smtp_tx_data_start - write the Received: line into S's body buffer and
 * start the DATA reader with the size limit */
int smtp_tx_data_start(struct smtp_tx *tx, struct smtp_session *s);
/* smtp_tx_ident - the session's identity as the pipeline's */
struct submit_ident smtp_tx_ident(const struct smtp_session *s);
/* smtp_tx_log - one "accepted" record per recipient of a transaction that
 * ended outside the pipeline with STATUS / ERROR_TYPE ("Reset",
 * "Disconnected"); suppressed ones carry their 254 */
void smtp_tx_log(const struct smtp_tx *tx, const struct smtp_session *s,
    const char *status, const char *error_type);
/* smtp_log_rcpt - one "accepted" record outside a transaction's end (an
 * invalid recipient at RCPT, a refused MAIL FROM) */
void smtp_log_rcpt(const struct smtp_session *s, const char *rcpt,
    const char *sender, const char *status, const char *error_type);

#endif
