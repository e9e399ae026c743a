/*
 * queue_client - the frontends' client of the ph-queue shards.
 *
 * One rpc_client (DEALER) per shard endpoint. Each enqueue starts at the
 * next shard in round robin and tries every shard at most once: a shard
 * that cannot be reached (send fails), does not answer within timeout_ms,
 * or answers with an error passes the message to the next one. When all
 * failed the callback gets ok=0. The callback always runs from the loop,
 * never inside queue_client_enqueue.
 *
 * Batching: an enqueue waits on its shard's unsent queue until the end of
 * the loop turn (qc->flush, made active by the first one); then the queue
 * goes out as one EnqueueBatch (at most QC_BATCH_MAX messages and, past the
 * first, QC_BATCH_BYTES of bodies), so a turn that ends twenty SMTP
 * transactions costs one ZeroMQ round trip per shard. The shard stores and
 * answers each message on its own; a refused one alone moves on.
 *
 * DIAGNOSTICS: a shard failing is logged at debug (it is routine under
 * load or while a shard restarts); all shards failing is a warning.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "log.h"
#include "msg.h"
#include "queue_client.h"
#include "rpc.h"
#include "rpc_batch.h"
#include "shard_probe.h"

#define QC_BATCH_MAX 64			/* messages per EnqueueBatch */
#define QC_BATCH_BYTES (4u << 20)	/* bodies per batch, past the first */

struct qc_call {
	struct queue_client *qc;
	Ph__EnqueueRequest *req;
	queue_enqueue_cb cb;
	void *arg;
	size_t first;		/* shard tried first */
	size_t tried;		/* shards tried so far */
	size_t cur;		/* shard it is queued for or in flight to */
	bool queued;		/* on qc->unsent[cur] */
	TAILQ_ENTRY(qc_call) qentry;
	struct rpc_batch *batch;	/* in flight in it, at SLOT, or NULL */
	size_t slot;
	struct event *fail_ev;	/* pending "all failed" report */
	struct qc_call *prev, *next;
};

TAILQ_HEAD(qc_callq, qc_call);

struct queue_client {
	struct event_base *base;
	struct rpc_client **shards;
	struct qc_callq *unsent;	/* by shard */
	size_t nshards;
	size_t rr;
	unsigned timeout_ms;
	struct qc_call *calls;	/* every call, for cancel */
	struct event *flush;	/* end of the loop turn: send the queues */
	struct shard_probe *probe;	/* NULL until queue_client_watch */
	Ph__QueueStatsRequest probe_req;
	Ph__Envelope probe_env;
};

static void qc_try(struct qc_call *call);

/* qc_unqueue - take CALL off its shard's unsent queue */
static void
qc_unqueue(struct qc_call *call)
{
	if (call->queued)
		TAILQ_REMOVE(&call->qc->unsent[call->cur], call, qentry);
	call->queued = false;
}

/* qc_free - take CALL off every list and free it (no callback) */
static void
qc_free(struct qc_call *call)
{
	struct queue_client *qc = call->qc;

	qc_unqueue(call);
	if (call->batch != NULL)
		rpc_batch_forget(call->batch, call->slot);
	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		qc->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	if (call->fail_ev != NULL)
		event_free(call->fail_ev);
	free(call);
}

/* qc_finish - free CALL, then report to the caller */
static void
qc_finish(struct qc_call *call, int ok, const char *queue_id)
{
	queue_enqueue_cb cb = call->cb;
	void *arg = call->arg;

	qc_free(call);
	cb(arg, ok, queue_id);
}

/* qc_on_fail_ev - the deferred "no shard took it" report */
static void
qc_on_fail_ev(evutil_socket_t fd, short what, void *arg)
{
	struct qc_call *call = arg;

	log_warnx("queue: no shard accepted the message");
	qc_finish(call, 0, NULL);
}

/* qc_fail_later - report ok=0 from the loop */
static void
qc_fail_later(struct qc_call *call)
{
	struct timeval tv = { 0, 0 };

	call->fail_ev = evtimer_new(call->qc->base, qc_on_fail_ev, call);
	if (call->fail_ev == NULL || evtimer_add(call->fail_ev, &tv) < 0)
		fatal_nomem(__func__);
}

/* qc_reply_ok - the queue id when R is a successful EnqueueReply */
static const char *
qc_reply_ok(const Ph__EnqueueReply *r)
{
	if (r == NULL || r->status == NULL || !r->status->ok || r->queue_id == NULL)
		return NULL;
	return r->queue_id;
}

/* qc_on_batch_reply - a shard answered a batch (or timed out: REP NULL):
 * each message is done or moves on to the next shard */
static void
qc_on_batch_reply(void *arg, Ph__Envelope *rep)
{
	struct rpc_batch *b = arg;
	const Ph__EnqueueBatchReply *br = NULL;

	if (rep != NULL && rep->body_case == PH__ENVELOPE__BODY_ENQUEUE_BATCH_REPLY)
		br = rep->enqueue_batch_reply;
	log_debug("queue: shard %s %s", rpc_client_endpoint(b->rpc),
	    rep == NULL ? "did not answer in time" : br == NULL ? "refused the batch" :
	    "answered");
	rpc_batch_replying(b);
	for (size_t i = 0; i < b->n; i++) {
		struct qc_call *call = rpc_batch_take(b, i);
		const char *qid;

		if (call == NULL)
			continue;	/* cancelled, maybe by an earlier callback */
		if (rep != NULL)	/* whatever it said, the shard answers */
			shard_probe_answered(call->qc->probe, b->shard);
		qid = qc_reply_ok(br != NULL && i < br->n_replies ? br->replies[i] : NULL);
		call->batch = NULL;
		if (qid != NULL)
			qc_finish(call, 1, qid);
		else
			qc_try(call);
	}
	free(b);
}

/* qc_unsent - CALL's batch could not be sent: the next shard */
static void
qc_unsent(void *call)
{
	qc_try(call);
}

/* qc_batch_send - up to QC_BATCH_MAX calls from the head of SHARD's queue
 * as one EnqueueBatch; when it cannot be sent they move on */
static void
qc_batch_send(struct queue_client *qc, size_t shard)
{
	Ph__EnqueueRequest *reqs[QC_BATCH_MAX];
	Ph__EnqueueBatch batch = PH__ENQUEUE_BATCH__INIT;
	Ph__Envelope env;
	struct rpc_batch *b = rpc_batch_new(qc->shards[shard], shard, QC_BATCH_MAX);
	struct qc_call *call;
	size_t bytes = 0;

	while (b->n < QC_BATCH_MAX && (call = TAILQ_FIRST(&qc->unsent[shard])) != NULL &&
	    (b->n == 0 || bytes + call->req->body.len <= QC_BATCH_BYTES)) {
		qc_unqueue(call);
		bytes += call->req->body.len;
		reqs[b->n] = call->req;
		rpc_batch_add(b, call);
	}
	batch.n_requests = b->n;
	batch.requests = reqs;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_ENQUEUE_BATCH;
	env.enqueue_batch = &batch;
	if (rpc_batch_call(b, &env, qc->timeout_ms, qc_on_batch_reply, qc_unsent) < 0) {
		log_debug("queue: shard %s unreachable", rpc_client_endpoint(qc->shards[shard]));
		return;
	}
	for (size_t i = 0; i < b->n; i++) {
		call = b->calls[i];
		call->batch = b;
		call->slot = i;
	}
}

/* qc_on_flush - end of the loop turn: every shard's queue goes out */
static void
qc_on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct queue_client *qc = arg;

	for (size_t i = 0; i < qc->nshards; i++)
		while (!TAILQ_EMPTY(&qc->unsent[i]))
			qc_batch_send(qc, i);
}

/* qc_try - queue CALL for its next untried shard, or report the failure */
static void
qc_try(struct qc_call *call)
{
	struct queue_client *qc = call->qc;

	if (call->tried >= qc->nshards) {
		qc_fail_later(call);
		return;
	}
	call->cur = (call->first + call->tried++) % qc->nshards;
	TAILQ_INSERT_TAIL(&qc->unsent[call->cur], call, qentry);
	call->queued = true;
	event_active(qc->flush, 0, 0);
}

/* queue_client_new - one DEALER per shard endpoint */
struct queue_client *
queue_client_new(struct event_base *base, const struct strvec *endpoints,
    unsigned timeout_ms)
{
	struct queue_client *qc = calloc(1, sizeof(*qc));

	if (qc == NULL || endpoints->n == 0)
		goto error;
	qc->base = base;
	qc->timeout_ms = timeout_ms;
	qc->shards = calloc(endpoints->n, sizeof(*qc->shards));
	qc->unsent = calloc(endpoints->n, sizeof(*qc->unsent));
	qc->flush = event_new(base, -1, 0, qc_on_flush, qc);
	if (qc->shards == NULL || qc->unsent == NULL || qc->flush == NULL)
		goto error;
	for (size_t i = 0; i < endpoints->n; i++) {
		TAILQ_INIT(&qc->unsent[i]);
		qc->shards[i] = rpc_client_new(base, endpoints->v[i], NULL);
		if (qc->shards[i] == NULL)
			goto error;
		qc->nshards++;
	}
	return qc;
error:
	queue_client_free(qc);
	return NULL;
}

/* queue_client_free - close every shard; pending callbacks never run */
void
queue_client_free(struct queue_client *qc)
{
	if (qc == NULL)
		return;
	shard_probe_free(qc->probe);
	while (qc->calls != NULL)
		qc_free(qc->calls);
	for (size_t i = 0; i < qc->nshards; i++)
		rpc_client_free(qc->shards[i]);
	if (qc->flush != NULL)
		event_free(qc->flush);
	free(qc->unsent);
	free(qc->shards);
	free(qc);
}

/* queue_client_enqueue - start an enqueue; CB runs once, later */
void
queue_client_enqueue(struct queue_client *qc, Ph__EnqueueRequest *req,
    queue_enqueue_cb cb, void *arg)
{
	struct qc_call *call = calloc(1, sizeof(*call));

	if (call == NULL)
		fatal_nomem(__func__);
	call->qc = qc;
	call->req = req;
	call->cb = cb;
	call->arg = arg;
	call->first = qc->rr++ % qc->nshards;
	call->next = qc->calls;
	if (qc->calls != NULL)
		qc->calls->prev = call;
	qc->calls = call;
	qc_try(call);
}

/* queue_client_cancel - forget every enqueue made with ARG */
void
queue_client_cancel(struct queue_client *qc, void *arg)
{
	struct qc_call *call = qc->calls, *next;

	for (; call != NULL; call = next) {
		next = call->next;
		if (call->arg == arg)
			qc_free(call);
	}
}

/* queue_client_watch - QueueStatsRequest probes to every shard */
void
queue_client_watch(struct queue_client *qc, void (*cb)(void *arg), void *arg)
{
	qc->probe_req = (Ph__QueueStatsRequest)PH__QUEUE_STATS_REQUEST__INIT;
	msg_init(&qc->probe_env);
	qc->probe_env.body_case = PH__ENVELOPE__BODY_QUEUE_STATS_REQUEST;
	qc->probe_env.queue_stats_request = &qc->probe_req;
	qc->probe = shard_probe_new(qc->base, qc->shards, qc->nshards, &qc->probe_env,
	    qc->timeout_ms, cb, arg);
}

/* queue_client_shards_up - shards that answer */
size_t
queue_client_shards_up(const struct queue_client *qc)
{
	return qc->probe != NULL ? shard_probe_up(qc->probe) : 0;
}
