/*
 * queue_client - the frontends' client of the ph-queue shards.
 *
 * One rpc_client (DEALER) per shard endpoint. Each enqueue starts at the
 * next shard in round robin and tries every shard at most once: a shard
 * that cannot be reached (send fails), does not answer within timeout_ms,
 * or answers with an error passes the message to the next one. When all
 * failed the callback gets ok=0. The callback always runs from the loop,
 * never inside queue_client_enqueue (a failure found at once is reported
 * through a zero-delay timer).
 *
 * DIAGNOSTICS: a shard failing is logged at debug (it is routine under
 * load or while a shard restarts); all shards failing is a warning.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "msg.h"
#include "queue_client.h"
#include "rpc.h"

struct qc_call {
	struct queue_client *qc;
	Ph__EnqueueRequest *req;
	queue_enqueue_cb cb;
	void *arg;
	size_t first;		/* shard tried first */
	size_t tried;		/* shards tried so far */
	size_t cur;		/* shard of the pending rpc */
	struct event *fail_ev;	/* pending "all failed" report */
	struct qc_call *prev, *next;
};

struct queue_client {
	struct event_base *base;
	struct rpc_client **shards;
	size_t nshards;
	size_t rr;
	unsigned timeout_ms;
	struct qc_call *calls;	/* in flight, for cancel */
};

static void qc_try(struct qc_call *call);

/* qc_unlink - take CALL off the in-flight list */
static void
qc_unlink(struct qc_call *call)
{
	struct queue_client *qc = call->qc;

	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		qc->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
}

/* qc_finish - report to the caller and free CALL */
static void
qc_finish(struct qc_call *call, int ok, const char *queue_id)
{
	qc_unlink(call);
	if (call->fail_ev != NULL)
		event_free(call->fail_ev);
	call->cb(call->arg, ok, queue_id);
	free(call);
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
		abort();
}

/* qc_reply_ok - the queue id when REP is a successful EnqueueReply */
static const char *
qc_reply_ok(const Ph__Envelope *rep)
{
	const Ph__EnqueueReply *er;

	if (rep == NULL || rep->body_case != PH__ENVELOPE__BODY_ENQUEUE_REPLY)
		return NULL;
	er = rep->enqueue_reply;
	if (er->status == NULL || !er->status->ok || er->queue_id == NULL)
		return NULL;
	return er->queue_id;
}

/* qc_on_reply - a shard answered (or timed out: REP NULL) */
static void
qc_on_reply(void *arg, Ph__Envelope *rep)
{
	struct qc_call *call = arg;
	const char *qid = qc_reply_ok(rep);

	if (qid != NULL) {
		qc_finish(call, 1, qid);
		return;
	}
	log_debug("queue: shard %s %s", rpc_client_endpoint(
	    call->qc->shards[call->cur]), rep == NULL ? "did not answer" :
	    "refused the message");
	qc_try(call);
}

/* qc_try - send to the next untried shard, or report the failure */
static void
qc_try(struct qc_call *call)
{
	struct queue_client *qc = call->qc;
	Ph__Envelope env;

	while (call->tried < qc->nshards) {
		call->cur = (call->first + call->tried++) % qc->nshards;
		msg_init(&env);
		env.body_case = PH__ENVELOPE__BODY_ENQUEUE_REQUEST;
		env.enqueue_request = call->req;
		if (rpc_call(qc->shards[call->cur], &env, qc->timeout_ms,
		    qc_on_reply, call) == 0)
			return;
		log_debug("queue: shard %s unreachable",
		    rpc_client_endpoint(qc->shards[call->cur]));
	}
	qc_fail_later(call);
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
	if (qc->shards == NULL)
		goto error;
	for (size_t i = 0; i < endpoints->n; i++) {
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
	while (qc->calls != NULL) {
		struct qc_call *call = qc->calls;
		qc_unlink(call);
		if (call->fail_ev != NULL)
			event_free(call->fail_ev);
		free(call);
	}
	for (size_t i = 0; i < qc->nshards; i++)
		rpc_client_free(qc->shards[i]);
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
		abort();
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
		if (call->arg != arg)
			continue;
		qc_unlink(call);
		if (call->fail_ev != NULL)
			event_free(call->fail_ev);
		else
			rpc_cancel(qc->shards[call->cur], call);
		free(call);
	}
}
