/*
 * smtp_commit - end of DATA: checks, ratelimiter token, enqueue, reply.
 *
 * Replies (seed table): 552 Exceeds byte limit; 554 Message parse error;
 * 451 Error in Processing (DKIM signing failed, smtp_dkim);
 * 455 Maximum messages sent per minute/day reached : limit is N (ratelimiter
 * said no); 451 Server error (ratelimiter unavailable: our documented choice
 * is to refuse, temporarily); 452 System storage error (no queue shard synced
 * the message); 250 2.0.0 Ok: queued as <id>. When every recipient was
 * suppressed there is nothing to deliver: 250 without ratelimit or enqueue.
 *
 * DIAGNOSTICS: per-message failures are warnings.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "queue_client.h"
#include "ratelimit.h"
#include "rl_client.h"
#include "smtp_authz.h"
#include "smtp_commit.h"
#include "smtp_dkim.h"
#include "smtp_session.h"
#include "smtp_tx.h"
#include "smtpd.h"

/* smtp_commit_finish - log, reply, and hand the session back */
void
smtp_commit_finish(struct smtp_session *s, const char *reply, const char *error_type)
{
	smtp_tx_log(s->tx, s, reply, error_type);
	smtp_reply(s, "%s", reply);
	smtp_session_tx_done(s);
}

/* smtp_commit_on_enqueue - the queue's answer */
static void
smtp_commit_on_enqueue(void *arg, int ok, const char *queue_id)
{
	struct smtp_session *s = arg;
	char reply[256];

	if (!ok) {
		log_warnx("session %016llx: no queue shard stored the message",
		    (unsigned long long)s->id);
		smtp_commit_finish(s, "452 System storage error", "System storage error");
		return;
	}
	snprintf(reply, sizeof(reply), "250 2.0.0 Ok: queued as %s", queue_id);
	smtp_commit_finish(s, reply, NULL);
}

/* smtp_commit_on_signed - signed (or nothing to sign): to a queue shard */
static void
smtp_commit_on_signed(struct smtp_session *s, int rc)
{
	if (rc < 0) {
		smtp_commit_finish(s, "451 Error in Processing", "Error in Processing");
		return;
	}
	queue_client_enqueue(s->sd->queue, &s->tx->req, smtp_commit_on_enqueue, s);
}

/* smtp_commit_enqueue - the request, DKIM signing, then the queue */
static void
smtp_commit_enqueue(struct smtp_session *s)
{
	if (smtp_tx_request(s->tx, s) < 0) {
		smtp_commit_finish(s, "451 Server error", "Server error");
		return;
	}
	smtp_dkim_sign(s, smtp_commit_on_signed);
}

/* smtp_commit_on_rate - the ratelimiter's answer */
static void
smtp_commit_on_rate(void *arg, const struct rl_result *res)
{
	struct smtp_session *s = arg;
	char reply[256];

	switch (res->status) {
	case RL_ALLOWED:
		smtp_commit_enqueue(s);
		return;
	case RL_DENIED:
		memcpy(reply, "455 ", 4);
		ratelimit_message(res, reply + 4, sizeof(reply) - 4);
		smtp_commit_finish(s, reply, ratelimit_error_type(res));
		return;
	case RL_UNAVAILABLE:
	default:
		log_warnx("session %016llx: ratelimiter unavailable", (unsigned long long)s->id);
		smtp_commit_finish(s, "451 Server error", "Server error");
		return;
	}
}

/* smtp_commit_rate - take the tenant's tokens (keys and limits: ratelimit.h;
 * rl_client copies them, so they may live on the stack) */
static void
smtp_commit_rate(struct smtp_session *s)
{
	const struct smtpd_conf *c = &s->sd->conf;
	struct ratelimit_send sl;
	const char *shard_key;

	shard_key = ratelimit_tenant(&sl, s->ident.tenant_id, s->ident.per_minute,
	    s->ident.per_day, (uint64_t)c->default_per_minute, (uint64_t)c->default_per_day);
	rl_client_take(s->sd->rl, shard_key, sl.limitp, RATELIMIT_SEND_N,
	    smtp_tx_cost(s->tx), smtp_commit_on_rate, s);
}

/* smtp_commit_start - verdicts that need no peer, then the ratelimiter */
void
smtp_commit_start(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	char reply[256];

	if (tx->data.overflow) {
		smtp_commit_finish(s, "552 Exceeds byte limit", "Byte limit exceeded");
		return;
	}
	if (tx->data.nomem) {
		smtp_commit_finish(s, "451 Server error", "Server error");
		return;
	}
	if (smtp_tx_data_end(tx) < 0) {
		log_debug("session %016llx: message parse error: %s",
		    (unsigned long long)s->id, tx->hdr.error);
		smtp_commit_finish(s, "554 Message parse error", "Message parse error");
		return;
	}
	if (smtp_authz_header_from(s) < 0)
		return;		/* 535 Authorization failed, once counted */
	if (tx->naccepted == 0) {
		snprintf(reply, sizeof(reply), "250 2.0.0 Ok: queued as %s", tx->id);
		smtp_commit_finish(s, reply, NULL);
		return;
	}
	smtp_commit_rate(s);
}

/* smtp_commit_cancel - the session is freed while waiting */
void
smtp_commit_cancel(struct smtp_session *s)
{
	if (s->sd->rl)
		rl_client_cancel(s->sd->rl, s);
	if (s->sd->queue)
		queue_client_cancel(s->sd->queue, s);
	smtp_dkim_cancel(s);
}
