/*
 * rl_client - typed client of ph-ratelimiter (see rl_client.h).
 *
 * One rpc_client (DEALER) per shard endpoint. A call picks its shard with
 * rl_shard_index(shard_key): FNV-1a 64 of the shard key modulo the number of
 * shards, the same in every process that has the same endpoint list.
 * Every call is an rl_call on the client's list until its callback ran or
 * it was cancelled. A call that cannot be sent (no connection to the shard
 * yet, or the shard is restarting: DEALERs use ZMQ_IMMEDIATE) is resent every
 * RL_RETRY_MS from a timer until its timeout, then answered RL_UNAVAILABLE;
 * so the callback always runs later, from the loop, exactly once.
 *
 * DIAGNOSTICS: an error Status from a shard is logged (warn) and reported as
 * RL_UNAVAILABLE; out of memory is fatal.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "rl_client.h"
#include "rpc.h"

#define RL_RETRY_MS 10	/* resend interval of a call that could not be sent */

struct rl_call {
	struct rl_call *prev, *next;
	struct rl_client *c;
	struct rpc_client *rpc;		/* the shard it goes to */
	struct event *ev;		/* retry timer while unsent, or NULL */
	uint64_t give_up_ms;		/* clock_mono_ms when an unsent call fails */
	rl_cb cb;
	void *arg;
	Ph__RateCheckRequest req;	/* a deep copy, for retries */
	Ph__RateLimit **limp;
	Ph__RateLimit lim[];
};

struct rl_client {
	struct event_base *base;
	struct rpc_client **rpc;
	size_t n;
	unsigned timeout_ms;
	struct rl_call *calls;
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
	if ((c->rpc = calloc(endpoints->n, sizeof(*c->rpc))) == NULL)
		goto error;
	for (c->n = 0; c->n < endpoints->n; c->n++) {
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
	free(c->rpc);
	free(c);
	return NULL;
}

/* rl_call_unlink - take CALL off its client's list */
static void rl_call_unlink(struct rl_call *call)
{
	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		call->c->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
}

/* rl_call_free - unlink and free CALL */
static void rl_call_free(struct rl_call *call)
{
	size_t i;

	if (call->ev != NULL)
		event_free(call->ev);
	rl_call_unlink(call);
	for (i = 0; i < call->req.n_limits; i++)
		free(call->lim[i].key);
	free(call->limp);
	free(call);
}

/* rl_call_drop - forget CALL without running its callback */
static void rl_call_drop(struct rl_call *call)
{
	if (call->ev == NULL)
		rpc_cancel(call->rpc, call);
	rl_call_free(call);
}

/* rl_call_finish - unlink and free CALL, then run its callback with RES */
static void rl_call_finish(struct rl_call *call, const struct rl_result *res)
{
	rl_cb cb = call->cb;
	void *arg = call->arg;

	rl_call_free(call);
	cb(arg, res);
}

/* rl_client_map - the rl_result for REPLY (NULL: no answer in time) */
static void rl_client_map(const struct rl_call *call, const Ph__Envelope *reply,
    struct rl_result *res)
{
	const Ph__RateCheckReply *r;

	memset(res, 0, sizeof(*res));
	res->status = RL_UNAVAILABLE;
	res->denied_index = -1;
	if (reply == NULL)
		return;
	if (reply->body_case != PH__ENVELOPE__BODY_RATE_CHECK_REPLY) {
		log_warnx("rl_client: %s answered %s%s%s", rpc_client_endpoint(call->rpc),
		    msg_body_name(reply->body_case),
		    reply->body_case == PH__ENVELOPE__BODY_STATUS ? ": " : "",
		    reply->body_case == PH__ENVELOPE__BODY_STATUS ? reply->status->message : "");
		return;
	}
	r = reply->rate_check_reply;
	if (r->allowed) {
		res->status = RL_ALLOWED;
		return;
	}
	if (r->denied_index < 0 || (size_t)r->denied_index >= call->req.n_limits) {
		log_warnx("rl_client: %s: denied_index %d out of range",
		    rpc_client_endpoint(call->rpc), r->denied_index);
		return;
	}
	res->status = RL_DENIED;
	res->denied_index = r->denied_index;
	res->limit = call->lim[r->denied_index].limit;
	res->retry_after_ms = r->retry_after_ms;
}

/* rl_client_reply - the rpc callback */
static void rl_client_reply(void *arg, Ph__Envelope *reply)
{
	struct rl_call *call = arg;
	struct rl_result res;

	rl_client_map(call, reply, &res);
	rl_call_finish(call, &res);
}

/* rl_call_new - a call on C's list with a copy of the request; fatal when
 * out of memory */
static struct rl_call *rl_call_new(struct rl_client *c, const Ph__RateLimit *const *limits,
    size_t n, uint64_t cost, rl_cb cb, void *arg)
{
	struct rl_call *call = calloc(1, sizeof(*call) + n * sizeof(call->lim[0]));
	size_t i;

	if (call == NULL || (call->limp = calloc(n ? n : 1, sizeof(*call->limp))) == NULL)
		fatal("rl_client: out of memory");
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
			fatal("rl_client: out of memory");
		call->limp[i] = &call->lim[i];
	}
	call->next = c->calls;
	if (c->calls != NULL)
		c->calls->prev = call;
	c->calls = call;
	return call;
}

/* rl_call_send - hand CALL to its shard; 0 when sent */
static int rl_call_send(struct rl_call *call, unsigned timeout_ms)
{
	Ph__Envelope env;

	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_RATE_CHECK_REQUEST;
	env.rate_check_request = &call->req;
	return rpc_call(call->rpc, &env, timeout_ms, rl_client_reply, call);
}

/* rl_client_retry - the retry timer of an unsent call: send again while
 * time is left (the shard may be restarting or not connected yet), else
 * answer RL_UNAVAILABLE */
static void rl_client_retry(evutil_socket_t fd, short what, void *arg)
{
	struct rl_call *call = arg;
	struct timeval tv = { 0, RL_RETRY_MS * 1000 };
	uint64_t now = clock_mono_ms();
	struct rl_result res;

	if (now < call->give_up_ms &&
	    rl_call_send(call, (unsigned)(call->give_up_ms - now)) == 0) {
		event_free(call->ev);
		call->ev = NULL;
		return;
	}
	if (now + RL_RETRY_MS < call->give_up_ms) {
		evtimer_add(call->ev, &tv);
		return;
	}
	rl_client_map(call, NULL, &res);
	rl_call_finish(call, &res);
}

/* rl_client_take - take COST from every limit in LIMITS[0..n) or from none */
void rl_client_take(struct rl_client *c, const char *shard_key,
    const Ph__RateLimit *const *limits, size_t n, uint64_t cost, rl_cb cb, void *arg)
{
	struct rl_call *call = rl_call_new(c, limits, n, cost, cb, arg);
	struct timeval tv = { 0, RL_RETRY_MS * 1000 };

	call->rpc = c->rpc[rl_shard_index(shard_key, c->n)];
	if (rl_call_send(call, c->timeout_ms) == 0)
		return;
	call->give_up_ms = clock_mono_ms() + c->timeout_ms;
	call->ev = evtimer_new(c->base, rl_client_retry, call);
	if (call->ev == NULL)
		fatal("rl_client: out of memory");
	if (c->timeout_ms < RL_RETRY_MS)
		event_active(call->ev, EV_TIMEOUT, 1);
	else
		evtimer_add(call->ev, &tv);
}

/* rl_client_cancel - the callbacks of pending calls made with ARG never run */
void rl_client_cancel(struct rl_client *c, void *arg)
{
	struct rl_call *call = c->calls, *next;

	for (; call != NULL; call = next) {
		next = call->next;
		if (call->arg == arg)
			rl_call_drop(call);
	}
}

/* rl_client_free - drop every pending call (no callbacks), close the shards */
void rl_client_free(struct rl_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	while (c->calls != NULL)
		rl_call_drop(c->calls);
	for (i = 0; i < c->n; i++)
		rpc_client_free(c->rpc[i]);
	free(c->rpc);
	free(c);
}
