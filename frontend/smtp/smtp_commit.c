/*
 * smtp_commit - end of DATA: the pipeline's outcome as an SMTP reply.
 *
 * Replies (seed table): the pipeline's SMTP form of each refusal
 * (submit_status: 552 Exceeds byte limit; 554 Message parse error; 535
 * Authorization failed: address <a> not authorized; 455 Maximum messages
 * sent per minute|day reached : limit is N; 451 Server error when the
 * ratelimiter is unavailable (our documented choice: refuse, temporarily)
 * or memory ran out; 451 Error in Processing when DKIM signing failed; 452
 * System storage error when no queue shard synced the message), and
 * "250 2.0.0 Ok: queued as <id>" when accepted (the submission id when
 * every recipient was suppressed: nothing was enqueued). A refused header
 * From is counted as an auth failure of the client IP first (smtp_authz):
 * over the limit the reply is "421 Too many auth failures, try again
 * later" and the session closes.
 *
 * DIAGNOSTICS: none of its own; the pipeline logs.
 */
#include <stdio.h>

#include "smtp_authz.h"
#include "smtp_commit.h"
#include "smtp_session.h"
#include "smtp_tx.h"
#include "smtpd.h"
#include "submit.h"

/* smtp_commit_on_done - the pipeline's outcome: the reply to DATA */
static void
smtp_commit_on_done(void *arg, const struct submit_result *r)
{
	struct smtp_session *s = arg;
	char reply[ADDR_MAX + 256];

	switch (r->outcome) {
	case SUBMIT_NOT_AUTHORIZED:
		smtp_authz_refuse_data(s, r->address);
		return;
	case SUBMIT_ACCEPTED:
	case SUBMIT_ALL_SUPPRESSED:
		snprintf(reply, sizeof(reply), "250 2.0.0 Ok: queued as %s", r->queue_id);
		break;
	default:
		submit_status(r, reply, sizeof(reply));
		break;
	}
	smtp_reply(s, "%s", reply);
	smtp_session_tx_done(s);
}

/* smtp_commit_start - the transaction and the message into the pipeline */
void
smtp_commit_start(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	struct submit_req r = {
		.channel = SUBMIT_SMTP, .id = tx->id, .who = smtp_tx_ident(s),
		.mail_from = tx->mail_from, .rcpts = tx->rcpts, .nrcpt = tx->nrcpt,
		.msg = &s->body, .msg_start = tx->trace_len,
		.msg_size = tx->trace_len + tx->data.total, .msg_nomem = tx->data.nomem,
		.client_ip = s->ip, .helo = s->helo, .received_ms = tx->received_ms,
	};

	submit_start(s->sd->submit, &r, smtp_commit_on_done, s);
}

/* smtp_commit_cancel - the session is freed while waiting */
void
smtp_commit_cancel(struct smtp_session *s)
{
	submit_cancel(s->sd->submit, s);
}
