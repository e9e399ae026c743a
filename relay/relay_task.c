/*
 * relay_task - one DeliveryTask in ph-relay: per-recipient outcomes of this
 * attempt, the TaskResult back to the shard (with one credit returned) and one
 * "relayed" event-log record per recipient (research notes 7.4: action relay /
 * bounce / defer, messageId, sender, recipient, receivingDomain, smtpStatus,
 * recipientMailServer, tlsCipher, tlsVersion, dkimSelector,
 * internalProcessingDurationInMs, ...; a bounce adds errorType hard|soft,
 * bounceCategory and bounceCode from common/bounce_class.h).
 *
 * DIAGNOSTICS: a result that cannot be sent is logged (the shard re-leases the
 * task later: delivery is at-least-once); a malformed task is logged and
 * dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include <jansson.h>
#include "bounce_class.h"
#include "clock.h"
#include "log.h"
#include "msg.h"
#include "rpc.h"
#include "relay.h"
#include "smtpc.h"

/* relay_task_new - wrap a received DeliveryTask */
struct relay_task *relay_task_new(struct relay *r, struct relay_shard *shard,
    Ph__Envelope *env)
{
	const Ph__DeliveryTask *dt = env->delivery_task;
	struct relay_task *t;
	size_t i;

	if (!dt || dt->n_rcpts == 0 || !dt->domain || !dt->domain[0])
		return NULL;
	if (!(t = calloc(1, sizeof(*t))) ||
	    !(t->rcpts = calloc(dt->n_rcpts, sizeof(*t->rcpts)))) {
		free(t);
		return NULL;
	}
	t->relay = r;
	t->shard = shard;
	t->env = env;
	t->t = dt;
	t->n = dt->n_rcpts;
	for (i = 0; i < t->n; i++) {
		t->rcpts[i].index = dt->rcpts[i]->index;
		t->rcpts[i].address = dt->rcpts[i]->address;
	}
	t->start_mono = clock_mono_ms();
	return t;
}

/* relay_task_set - first outcome of recipient I wins */
void relay_task_set(struct relay_task *t, size_t i, Ph__Outcome o,
    const char *reply)
{
	struct relay_rcpt *rc = &t->rcpts[i];

	if (rc->outcome != PH__OUTCOME__OUTCOME_UNSPECIFIED)
		return;
	rc->outcome = o;
	rc->accepted = false;
	free(rc->reply);
	rc->reply = strdup(reply ? reply : "");
}

/* relay_task_set_rest - every recipient without an outcome gets O */
void relay_task_set_rest(struct relay_task *t, Ph__Outcome o, const char *reply)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		relay_task_set(t, i, o, reply);
}

/* task_action - the log's action word */
static const char *task_action(Ph__Outcome o)
{
	switch (o) {
	case PH__OUTCOME__OUTCOME_DELIVERED:
		return "relay";
	case PH__OUTCOME__OUTCOME_FAILED:
		return "bounce";
	default:
		return "defer";
	}
}

/* task_bounce_fields - errorType, bounceCategory, bounceCode of a failure */
static void task_bounce_fields(json_t *d, const char *reply)
{
	struct bounce_result b;

	bounce_classify(reply ? reply : "", &b);
	json_object_set_new(d, "errorType", json_string(bounce_kind_name(b.kind)));
	json_object_set_new(d, "bounceCategory",
	    json_string(bounce_category_name(b.category)));
	json_object_set_new(d, "bounceCode", json_string(b.status));
}

/* task_log - one relayed record for recipient I */
static void task_log(const struct relay_task *t, size_t i)
{
	const struct relay_rcpt *rc = &t->rcpts[i];
	const Ph__DeliveryTask *dt = t->t;
	uint64_t now = clock_now_ms();
	json_t *d;

	d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
	    " s:s, s:I, s:I, s:I, s:s, s:s, s:s}",
	    "action", task_action(rc->outcome),
	    "messageId", dt->queue_id,
	    "sender", dt->mail_from,
	    "recipient", rc->address,
	    "receivingDomain", dt->domain,
	    "smtpStatus", rc->reply ? rc->reply : "",
	    "recipientMailServer", t->remote_host,
	    "tlsCipher", t->tls_cipher,
	    "tlsVersion", t->tls_version,
	    "tenantId", dt->tenant_id,
	    "dkimSelector", dt->dkim_selector,
	    "internalProcessingDurationInMs",
	    (json_int_t)(dt->received_ms && now > dt->received_ms ?
	    now - dt->received_ms : 0),
	    "attemptDurationInMs",
	    (json_int_t)(clock_mono_ms() - t->start_mono),
	    "attempt", (json_int_t)dt->attempt,
	    "queueShard", dt->shard,
	    "relayId", t->relay->relay_id,
	    "message", msg_outcome_name(rc->outcome));
	if (d && rc->outcome == PH__OUTCOME__OUTCOME_FAILED)
		task_bounce_fields(d, rc->reply);
	if (d)
		eventlog_write("relayed", t->relay->relay_id, d);
	log_debug("relay %s to=<%s> %s: %s", dt->queue_id, rc->address,
	    msg_outcome_name(rc->outcome), rc->reply ? rc->reply : "");
}

/* task_queue_result - a copy of TR waits for the end of the loop turn */
static void task_queue_result(struct relay_shard *sh, const Ph__TaskResult *tr)
{
	Ph__TaskResult *copy = msg_copy(&tr->base);

	if (sh->nresults == sh->capresults) {
		size_t cap = sh->capresults ? 2 * sh->capresults : 16;
		Ph__TaskResult **v = realloc(sh->results, cap * sizeof(*v));

		if (v == NULL)
			fatal_nomem("relay");
		sh->results = v;
		sh->capresults = cap;
	}
	sh->results[sh->nresults++] = copy;
	event_active(sh->relay->results_ev, 0, 0);
}

/* relay_results_flush - each shard's results in one TaskResultBatch */
void relay_results_flush(struct relay *r)
{
	for (size_t i = 0; i < r->nshards; i++) {
		struct relay_shard *sh = &r->shards[i];
		Ph__TaskResultBatch b = PH__TASK_RESULT_BATCH__INIT;
		Ph__Envelope env;

		if (sh->nresults == 0)
			continue;
		b.n_results = sh->nresults;
		b.results = sh->results;
		msg_init(&env);
		env.body_case = PH__ENVELOPE__BODY_TASK_RESULT_BATCH;
		env.task_result_batch = &b;
		if (rpc_send(sh->rpc, &env) < 0)
			log_warn("relay: %zu task results to %s not sent (the shard "
			    "leases those tasks again)", sh->nresults, sh->endpoint);
		for (size_t k = 0; k < sh->nresults; k++)
			ph__task_result__free_unpacked(sh->results[k], NULL);
		sh->nresults = 0;
	}
}

/* task_send_result - the TaskResult, returning one credit */
static void task_send_result(struct relay_task *t)
{
	Ph__RecipientResult *res = calloc(t->n, sizeof(*res));
	Ph__RecipientResult **vec = calloc(t->n, sizeof(*vec));
	Ph__TaskResult tr = PH__TASK_RESULT__INIT;
	size_t i;

	if (!res || !vec)
		goto done;
	for (i = 0; i < t->n; i++) {
		ph__recipient_result__init(&res[i]);
		res[i].index = t->rcpts[i].index;
		res[i].outcome = t->rcpts[i].outcome;
		res[i].reply = t->rcpts[i].reply ? t->rcpts[i].reply : "";
		res[i].remote_host = t->remote_host;
		res[i].tls_version = t->tls_version;
		res[i].tls_cipher = t->tls_cipher;
		vec[i] = &res[i];
	}
	tr.task_id = t->t->task_id;
	tr.queue_id = t->t->queue_id;
	tr.results = vec;
	tr.n_results = t->n;
	tr.relay_id = t->relay->relay_id;
	tr.credits = 1;
	task_queue_result(t->shard, &tr);
done:
	free(vec);
	free(res);
}

/* relay_task_done - report, log every recipient, free */
void relay_task_done(struct relay_task *t)
{
	size_t i;

	relay_task_set_rest(t, PH__OUTCOME__OUTCOME_DEFERRED,
	    "4.4.0 delivery attempt ended without a result");
	task_send_result(t);
	for (i = 0; i < t->n; i++)
		task_log(t, i);
	relay_task_free(t);
}

/* relay_task_free - release the task and give its credit back */
void relay_task_free(struct relay_task *t)
{
	size_t i;

	if (t->shard->inflight > 0)
		t->shard->inflight--;
	for (i = 0; i < t->n; i++)
		free(t->rcpts[i].reply);
	free(t->rcpts);
	msg_free(t->env);
	free(t);
}
