/*
 * rl_client - typed client of ph-ratelimiter (see rl_client.h).
 *
 * One rpc_client (DEALER) per shard endpoint. A call picks its shard with
 * rl_shard_index(shard_key): FNV-1a 64 of the shard key modulo the number of
 * shards, the same in every process that has the same endpoint list.
 *
 * Batching: a call waits on its shard's unsent queue until the end of the
 * loop turn (c->flush, made active by the first call of the turn); then the
 * queue goes out as one RateCheckBatch (at most RL_BATCH_MAX checks each),
 * so a turn that ends twenty SMTP transactions costs one ZeroMQ round trip
 * per shard, not twenty. The shard decides each check on its own.
 *
 * Every call is an rl_call on the client's list until its callback ran or
 * it was cancelled. A batch that cannot be sent (no connection to the shard
 * yet, or the shard is restarting: DEALERs use ZMQ_IMMEDIATE) puts each of
 * its calls on a retry timer: every RL_RETRY_MS it goes back on the queue
 * until its timeout, then it is answered RL_UNAVAILABLE; so the callback
 * always runs later, from the loop, exactly once.
 *
 * DIAGNOSTICS: an error Status from a shard is logged (warn) and reported as
 * RL_UNAVAILABLE, as is a check the shard did not decide (debug: the shard
 * warns about those itself); out of memory is fatal.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "rl_client.h"
#include "rpc.h"
#include "rpc_batch.h"
#include "shard_probe.h"

#define RL_RETRY_MS 10		/* resend interval of a call that could not be sent */
#define RL_BATCH_MAX 256	/* checks per RateCheckBatch */

struct rl_call {
	struct rl_call *prev, *next;	/* the client's list of every call */
	TAILQ_ENTRY(rl_call) qentry;	/* on its shard's unsent queue */
	bool queued;
	struct rl_client *c;
	size_t shard;
	struct rpc_batch *batch;	/* in flight in it, at SLOT, or NULL */
	size_t slot;
	struct event *ev;		/* retry timer after a failed send, or NULL */
	uint64_t give_up_ms;		/* clock_mono_ms when it is answered unavailable */
	rl_cb cb;
	void *arg;
	Ph__RateCheckRequest req;	/* a deep copy, for retries */
	Ph__RateLimit **limp;
	Ph__RateLimit lim[];
};

TAILQ_HEAD(rl_callq, rl_call);

struct rl_client {
	struct event_base *base;
	struct rpc_client **rpc;
	struct rl_callq *unsent;	/* by shard */
	size_t n;
	unsigned timeout_ms;
	struct rl_call *calls;
	struct event *flush;		/* end of the loop turn: send the queues */
	struct shard_probe *probe;	/* NULL until rl_client_watch */
	Ph__RateLimit probe_limit;	/* the probe: a dry run of cost 0 */
	Ph__RateLimit *probe_limp;
	Ph__RateCheckRequest probe_req;
	Ph__Envelope probe_env;
};

/* rl_status_name - for logs */
const char *rl_status_name(enum rl_status s)
{
	switch (s) {
	case RL_ALLOWED:
		return "allowed";
	case RL_DENIED:
		return "denied";
	case RL_UNAVAILABLE:
		return "unavailable";
	}
	return "unknown";
}

/* rl_shard_index - FNV-1a 64 of SHARD_KEY modulo N */
size_t rl_shard_index(const char *shard_key, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	const unsigned char *s;

	if (n <= 1)
		return 0;
	for (s = (const unsigned char *)shard_key; *s; s++) {
		h ^= *s;
		h *= 1099511628211ULL;
	}
	return (size_t)(h % n);
}

static void rl_client_flush(evutil_socket_t fd, short what, void *arg);

/* rl_client_new - one rpc_client per endpoint; NULL when none or on error */
struct rl_client *rl_client_new(struct event_base *base, const struct strvec *endpoints,
    unsigned timeout_ms)
{
	struct rl_client *c;
	size_t i;

	if (endpoints == NULL || endpoints->n == 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->base = base;
	c->timeout_ms = timeout_ms;
	if ((c->rpc = calloc(endpoints->n, sizeof(*c->rpc))) == NULL ||
	    (c->unsent = calloc(endpoints->n, sizeof(*c->unsent))) == NULL ||
	    (c->flush = event_new(base, -1, 0, rl_client_flush, c)) == NULL)
		goto error;
	for (c->n = 0; c->n < endpoints->n; c->n++) {
		TAILQ_INIT(&c->unsent[c->n]);
		c->rpc[c->n] = rpc_client_new(base, endpoints->v[c->n], NULL);
		if (c->rpc[c->n] == NULL) {
			log_warnx("rl_client: cannot connect to %s", endpoints->v[c->n]);
			goto error;
		}
	}
	return c;
error:
	for (i = 0; i < c->n; i++)
		rpc_client_free(c->rpc[i]);
	if (c->flush != NULL)
		event_free(c->flush);
	free(c->unsent);
	free(c->rpc);
	free(c);
	return NULL;
}

/* rl_call_unlink - take CALL off its client's list and its shard's queue */
static void rl_call_unlink(struct rl_call *call)
{
	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		call->c->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	if (call->queued)
		TAILQ_REMOVE(&call->c->unsent[call->shard], call, qentry);
	call->queued = false;
}

/* rl_call_free - unlink and free CALL */
static void rl_call_free(struct rl_call *call)
{
	size_t i;

	if (call->ev != NULL)
		event_free(call->ev);
	if (call->batch != NULL)
		rpc_batch_forget(call->batch, call->slot);
	rl_call_unlink(call);
	for (i = 0; i < call->req.n_limits; i++)
		free(call->lim[i].key);
	free(call->limp);
	free(call);
}

/* rl_call_finish - free CALL, then run its callback with RES */
static void rl_call_finish(struct rl_call *call, const struct rl_result *res)
{
	rl_cb cb = call->cb;
	void *arg = call->arg;

	rl_call_free(call);
	cb(arg, res);
}

/* rl_client_map - the rl_result of reply R to CALL (NULL: no answer) */
static void rl_client_map(const struct rl_call *call, const Ph__RateCheckReply *r,
    struct rl_result *res)
{
	memset(res, 0, sizeof(*res));
	res->status = RL_UNAVAILABLE;
	res->denied_index = -1;
	if (r == NULL)
		return;
	if (r->error != PH__ERROR_CODE__ERR_NONE) {
		log_debug("rl_client: %s did not decide a check: %s",
		    rpc_client_endpoint(call->c->rpc[call->shard]), r->error_message);
		return;
	}
	if (r->allowed) {
		res->status = RL_ALLOWED;
		return;
	}
	if (r->denied_index < 0 || (size_t)r->denied_index >= call->req.n_limits) {
		log_warnx("rl_client: %s: denied_index %d out of range",
		    rpc_client_endpoint(call->c->rpc[call->shard]), r->denied_index);
		return;
	}
	res->status = RL_DENIED;
	res->denied_index = r->denied_index;
	res->limit = call->lim[r->denied_index].limit;
	res->retry_after_ms = r->retry_after_ms;
}

/* rl_batch_reply - the rpc callback of a batch (REPLY NULL: no answer in
 * time): each waiting call gets its own reply */
static void rl_batch_reply(void *arg, Ph__Envelope *reply)
{
	struct rpc_batch *b = arg;
	const Ph__RateCheckBatchReply *br = NULL;
	struct rl_result res;
	size_t i;

	if (reply != NULL && reply->body_case == PH__ENVELOPE__BODY_RATE_CHECK_BATCH_REPLY)
		br = reply->rate_check_batch_reply;
	else if (reply != NULL)
		log_warnx("rl_client: %s answered %s%s%s", rpc_client_endpoint(b->rpc),
		    msg_body_name(reply->body_case),
		    reply->body_case == PH__ENVELOPE__BODY_STATUS ? ": " : "",
		    reply->body_case == PH__ENVELOPE__BODY_STATUS ? reply->status->message : "");
	rpc_batch_replying(b);
	for (i = 0; i < b->n; i++) {
		struct rl_call *call = rpc_batch_take(b, i);

		if (call == NULL)
			continue;	/* cancelled, maybe by an earlier callback */
		if (reply != NULL)	/* whatever it said, the shard answers */
			shard_probe_answered(call->c->probe, b->shard);
		call->batch = NULL;
		rl_client_map(call, br != NULL && i < br->n_replies ? br->replies[i] : NULL, &res);
		rl_call_finish(call, &res);
	}
	free(b);
}

/* rl_call_new - a call on C's list with a copy of the request; fatal when
 * out of memory */
static struct rl_call *rl_call_new(struct rl_client *c, const Ph__RateLimit *const *limits,
    size_t n, uint64_t cost, rl_cb cb, void *arg)
{
	struct rl_call *call = calloc(1, sizeof(*call) + n * sizeof(call->lim[0]));
	size_t i;

	if (call == NULL || (call->limp = calloc(n ? n : 1, sizeof(*call->limp))) == NULL)
		fatal_nomem("rl_client");
	call->c = c;
	call->cb = cb;
	call->arg = arg;
	call->req = (Ph__RateCheckRequest)PH__RATE_CHECK_REQUEST__INIT;
	call->req.n_limits = n;
	call->req.limits = call->limp;
	call->req.cost = cost;
	for (i = 0; i < n; i++) {
		call->lim[i] = *limits[i];
		if ((call->lim[i].key = strdup(limits[i]->key ? limits[i]->key : "")) == NULL)
			fatal_nomem("rl_client");
		call->limp[i] = &call->lim[i];
	}
	call->next = c->calls;
	if (c->calls != NULL)
		c->calls->prev = call;
	c->calls = call;
	return call;
}

/* rl_call_queue - CALL goes out with its shard's batch at the end of this turn */
static void rl_call_queue(struct rl_call *call)
{
	TAILQ_INSERT_TAIL(&call->c->unsent[call->shard], call, qentry);
	call->queued = true;
	event_active(call->c->flush, 0, 0);
}

/* rl_client_retry - the retry timer of a call whose batch could not be
 * sent: queue it again while time is left, else answer RL_UNAVAILABLE */
static void rl_client_retry(evutil_socket_t fd, short what, void *arg)
{
	struct rl_call *call = arg;
	struct rl_result res;

	if (clock_mono_ms() < call->give_up_ms) {
		rl_call_queue(call);
		return;
	}
	rl_client_map(call, NULL, &res);
	rl_call_finish(call, &res);
}

/* rl_call_unsent - CALL's batch could not be sent: try again in RL_RETRY_MS */
static void rl_call_unsent(void *arg)
{
	struct rl_call *call = arg;
	struct timeval tv = { 0, RL_RETRY_MS * 1000 };

	if (call->ev == NULL &&
	    (call->ev = evtimer_new(call->c->base, rl_client_retry, call)) == NULL)
		fatal_nomem("rl_client");
	evtimer_add(call->ev, &tv);
}

/* rl_batch_send - up to RL_BATCH_MAX calls from the head of Q to SHARD as
 * one RateCheckBatch, answered within the earliest call's time left */
static void rl_batch_send(struct rl_client *c, size_t shard, struct rl_callq *q)
{
	Ph__RateCheckRequest *checks[RL_BATCH_MAX];
	Ph__RateCheckBatch batch = PH__RATE_CHECK_BATCH__INIT;
	Ph__Envelope env;
	struct rpc_batch *b = rpc_batch_new(c->rpc[shard], shard, RL_BATCH_MAX);
	struct rl_call *call;
	uint64_t now = clock_mono_ms(), first = UINT64_MAX;

	while (b->n < RL_BATCH_MAX && (call = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, call, qentry);
		call->queued = false;
		if (call->give_up_ms < first)
			first = call->give_up_ms;
		checks[b->n] = &call->req;
		rpc_batch_add(b, call);
	}
	batch.n_checks = b->n;
	batch.checks = checks;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_RATE_CHECK_BATCH;
	env.rate_check_batch = &batch;
	if (rpc_batch_call(b, &env, first > now ? (unsigned)(first - now) : 1,
	    rl_batch_reply, rl_call_unsent) < 0)
		return;
	for (size_t i = 0; i < b->n; i++) {
		call = b->calls[i];
		call->batch = b;
		call->slot = i;
	}
}

/* rl_client_flush - end of the loop turn: every shard's queue goes out */
static void rl_client_flush(evutil_socket_t fd, short what, void *arg)
{
	struct rl_client *c = arg;

	for (size_t i = 0; i < c->n; i++)
		while (!TAILQ_EMPTY(&c->unsent[i]))
			rl_batch_send(c, i, &c->unsent[i]);
}

/* rl_client_take - take COST from every limit in LIMITS[0..n) or from none */
void rl_client_take(struct rl_client *c, const char *shard_key,
    const Ph__RateLimit *const *limits, size_t n, uint64_t cost, rl_cb cb, void *arg)
{
	struct rl_call *call = rl_call_new(c, limits, n, cost, cb, arg);

	call->shard = rl_shard_index(shard_key, c->n);
	call->give_up_ms = clock_mono_ms() + c->timeout_ms;
	rl_call_queue(call);
}

/* rl_client_cancel - the callbacks of pending calls made with ARG never run */
void rl_client_cancel(struct rl_client *c, void *arg)
{
	struct rl_call *call = c->calls, *next;

	for (; call != NULL; call = next) {
		next = call->next;
		if (call->arg == arg)
			rl_call_free(call);
	}
}

/* rl_client_free - drop every pending call (no callbacks), close the shards */
void rl_client_free(struct rl_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	shard_probe_free(c->probe);
	while (c->calls != NULL)
		rl_call_free(c->calls);
	for (i = 0; i < c->n; i++)
		rpc_client_free(c->rpc[i]);
	event_free(c->flush);
	free(c->unsent);
	free(c->rpc);
	free(c);
}

/* rl_client_watch - dry-run probes (cost 0: nothing taken, no key made) */
void rl_client_watch(struct rl_client *c, void (*cb)(void *arg), void *arg)
{
	c->probe_limit = (Ph__RateLimit)PH__RATE_LIMIT__INIT;
	c->probe_limit.key = "probe";
	c->probe_limit.limit = 1;
	c->probe_limit.window_s = 1;
	c->probe_limp = &c->probe_limit;
	c->probe_req = (Ph__RateCheckRequest)PH__RATE_CHECK_REQUEST__INIT;
	c->probe_req.n_limits = 1;
	c->probe_req.limits = &c->probe_limp;
	c->probe_req.dry_run = true;
	msg_init(&c->probe_env);
	c->probe_env.body_case = PH__ENVELOPE__BODY_RATE_CHECK_REQUEST;
	c->probe_env.rate_check_request = &c->probe_req;
	c->probe = shard_probe_new(c->base, c->rpc, c->n, &c->probe_env, c->timeout_ms, cb, arg);
}

/* rl_client_reached - each shard answered once */
bool rl_client_reached(const struct rl_client *c)
{
	return c->probe != NULL && shard_probe_all_seen(c->probe);
}
