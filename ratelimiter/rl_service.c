/*
 * rl_service - ph-ratelimiter's wire protocol and its periodic flush.
 *
 * WIRE PROTOCOL (one rpc_server ROUTER socket at endpoints.ratelimiter[N]):
 *   RateCheckRequest{limits[1..16] {key, limit, window_s}, cost, dry_run}
 *     -> RateCheckReply{allowed, denied_index, retry_after_ms, used[]}
 *   Every limit is measured; when each one admits COST more events in its
 *   sliding window, COST is added to every key (unless dry_run), otherwise
 *   to none. denied_index is the first refusing limit (-1 when allowed),
 *   retry_after_ms is when that limit frees enough (rl_window.h has the error
 *   bound), used[i] is limit i's usage after the decision. A dry run answers
 *   the same question and takes nothing (introspection: phctl limits usage).
 *   A key is "<window_s>:<key>" internally: the limit value itself is not
 *   stored, the caller sends it with each request, so a changed limit applies
 *   at once.
 *   RateCheckBatch{checks[1..4096]} -> RateCheckBatchReply{replies[]}: the
 *   same for each check, in order, each atomic on its own (what a client
 *   gathered in one loop turn: one round trip for many messages). A check
 *   not decided gets its reply's error and error_message set.
 *   A malformed request -> Status ERR_BAD_REQUEST (in a batch: that check's
 *   error); no room for a new key ([ratelimiter] max_keys) or out of memory
 *   -> ERR_UNAVAILABLE, so the client's fail-open/closed rule applies.
 *   Anything else -> Status ERR_BAD_REQUEST.
 *
 * Sharding is the clients' business (rl_client.c hashes a shard key over the
 * configured endpoint list); a shard answers for whatever keys it is sent.
 *
 * DIAGNOSTICS: bad requests are logged at debug level and answered; a failed
 * flush is logged by the store and retried at the next tick.
 */
#include <errno.h>
#include <stdlib.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "rpc.h"
#include "rl_service.h"

#define RL_SWEEP_MIN_CHAINS 1024	/* hash chains swept per flush tick */
#define RL_BATCH_CHECKS_MAX 4096	/* checks in one RateCheckBatch */

struct rl_service {
	struct rl_table *table;
	struct rl_store *store;
	struct rpc_server *srv;
	struct event *tick;
	uint64_t decisions, denied, bad;
	uint64_t unserved;		/* checks refused for the key cap / memory */
	uint64_t full_warned_ms;	/* mono ms of the last warning about it */
};

/* rl_service_decide - apply REQ to T at NOW_MS and fill REP */
int rl_service_decide(struct rl_table *t, const Ph__RateCheckRequest *req,
    uint64_t now_ms, Ph__RateCheckReply *rep, uint64_t *used, const char **why)
{
	struct rl_limit limits[RL_MAX_LIMITS];
	struct rl_decision d;
	size_t i, n = req->n_limits;

	if (n == 0 || n > RL_MAX_LIMITS) {
		*why = "between 1 and 16 limits per request";
		return -1;
	}
	for (i = 0; i < n; i++) {
		limits[i].key = req->limits[i]->key;
		limits[i].limit = req->limits[i]->limit;
		limits[i].window_s = req->limits[i]->window_s;
	}
	if (rl_limits_valid(limits, n, why) < 0)
		return -1;
	if (rl_table_check(t, limits, n, req->cost, req->dry_run, now_ms, &d) < 0) {
		*why = errno == ENOSPC ? "key limit reached" : "out of memory";
		return -1;
	}
	for (i = 0; i < n; i++)
		used[i] = d.used[i];
	rep->allowed = d.allowed;
	rep->denied_index = d.denied_index;
	rep->retry_after_ms = d.retry_after_ms;
	rep->n_used = n;
	rep->used = used;
	return 0;
}

/* rl_service_full - a check could not create its keys: warn once a minute */
static void rl_service_full(struct rl_service *svc, const char *why)
{
	uint64_t now = clock_mono_ms();

	svc->unserved++;
	if (svc->full_warned_ms == 0 || now - svc->full_warned_ms >= 60000) {
		log_warnx("ratelimiter: %s (%zu keys): %llu checks unanswered so far",
		    why, rl_table_count(svc->table), (unsigned long long)svc->unserved);
		svc->full_warned_ms = now;
	}
}

/* rl_service_one - decide check Q at NOW_MS into REP (REP->used points into
 * USED): ERR_NONE, or the reason it was not decided (also in REP->error) */
static Ph__ErrorCode rl_service_one(struct rl_service *svc, const Ph__RateCheckRequest *q,
    uint64_t now_ms, Ph__RateCheckReply *rep, uint64_t *used)
{
	const char *why;

	*rep = (Ph__RateCheckReply)PH__RATE_CHECK_REPLY__INIT;
	errno = 0;
	if (rl_service_decide(svc->table, q, now_ms, rep, used, &why) == 0) {
		svc->decisions++;
		svc->denied += !rep->allowed;
		return PH__ERROR_CODE__ERR_NONE;
	}
	rep->error_message = (char *)why;
	if (errno == ENOSPC || errno == ENOMEM) {
		/* the client applies its fail-open/closed rule */
		rl_service_full(svc, why);
		rep->error = PH__ERROR_CODE__ERR_UNAVAILABLE;
	} else {
		svc->bad++;
		log_debug("ratelimiter: bad RateCheckRequest: %s", why);
		rep->error = PH__ERROR_CODE__ERR_BAD_REQUEST;
	}
	return rep->error;
}

/* rl_service_send - REPLY (a body set by the caller) to PEER's request */
static void rl_service_send(struct rpc_server *srv, const struct zpeer *peer,
    uint64_t request_id, Ph__Envelope *reply)
{
	if (rpc_reply(srv, peer, request_id, reply) < 0)
		log_debug("ratelimiter: reply to request %llu not sent",
		    (unsigned long long)request_id);
}

/* rl_service_check - answer one RateCheckRequest (an undecided one with a
 * Status) */
static void rl_service_check(struct rl_service *svc, struct rpc_server *srv,
    const struct zpeer *peer, const Ph__Envelope *req)
{
	Ph__RateCheckReply rep;
	uint64_t used[RL_MAX_LIMITS];
	Ph__Envelope env;

	if (rl_service_one(svc, req->rate_check_request, clock_now_ms(), &rep, used) !=
	    PH__ERROR_CODE__ERR_NONE) {
		rpc_reply_status(srv, peer, req->request_id, rep.error, rep.error_message);
		return;
	}
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_RATE_CHECK_REPLY;
	env.rate_check_reply = &rep;
	rl_service_send(srv, peer, req->request_id, &env);
}

/* rl_service_batch - answer a RateCheckBatch: each check decided in order */
static void rl_service_batch(struct rl_service *svc, struct rpc_server *srv,
    const struct zpeer *peer, const Ph__Envelope *req)
{
	const Ph__RateCheckBatch *b = req->rate_check_batch;
	Ph__RateCheckBatchReply br = PH__RATE_CHECK_BATCH_REPLY__INIT;
	Ph__RateCheckReply *reps, **repp;
	uint64_t (*used)[RL_MAX_LIMITS], now = clock_now_ms();
	Ph__Envelope env;

	if (b->n_checks == 0 || b->n_checks > RL_BATCH_CHECKS_MAX) {
		svc->bad++;
		rpc_reply_status(srv, peer, req->request_id, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "between 1 and 4096 checks per batch");
		return;
	}
	reps = calloc(b->n_checks, sizeof(*reps));
	repp = calloc(b->n_checks, sizeof(*repp));
	used = calloc(b->n_checks, sizeof(*used));
	if (reps == NULL || repp == NULL || used == NULL)
		fatal_nomem("ratelimiter");
	for (size_t i = 0; i < b->n_checks; i++) {
		rl_service_one(svc, b->checks[i], now, &reps[i], used[i]);
		repp[i] = &reps[i];
	}
	br.n_replies = b->n_checks;
	br.replies = repp;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_RATE_CHECK_BATCH_REPLY;
	env.rate_check_batch_reply = &br;
	rl_service_send(srv, peer, req->request_id, &env);
	free(used);
	free(repp);
	free(reps);
}

/* rl_service_handle - the rpc_server handler */
static void rl_service_handle(void *arg, struct rpc_server *srv,
    const struct zpeer *peer, Ph__Envelope *req)
{
	struct rl_service *svc = arg;

	if (req->body_case == PH__ENVELOPE__BODY_RATE_CHECK_BATCH) {
		rl_service_batch(svc, srv, peer, req);
	} else if (req->body_case == PH__ENVELOPE__BODY_RATE_CHECK_REQUEST) {
		rl_service_check(svc, srv, peer, req);
	} else {
		svc->bad++;
		log_debug("ratelimiter: unexpected %s", msg_body_name(req->body_case));
		rpc_reply_status(srv, peer, req->request_id, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "ratelimiter serves RateCheckRequest and RateCheckBatch only");
	}
	msg_free(req);
}

/* rl_service_flush - expire idle keys, then write what changed */
static void rl_service_flush(struct rl_service *svc)
{
	size_t chains = rl_table_count(svc->table) / 50;

	rl_table_sweep(svc->table, clock_now_ms(),
	    chains > RL_SWEEP_MIN_CHAINS ? chains : RL_SWEEP_MIN_CHAINS);
	if (svc->store != NULL)
		rl_store_flush(svc->store, svc->table);
}

/* rl_service_tick - the flush timer */
static void rl_service_tick(evutil_socket_t fd, short what, void *arg)
{
	rl_service_flush(arg);
}

/* rl_service_new - serve T at ENDPOINT, flush every FLUSH_MS */
struct rl_service *rl_service_new(struct event_base *base, const char *endpoint,
    struct rl_table *t, struct rl_store *store, unsigned flush_ms)
{
	struct rl_service *svc = calloc(1, sizeof(*svc));
	struct timeval tv = { flush_ms / 1000, (flush_ms % 1000) * 1000 };

	if (svc == NULL)
		return NULL;
	svc->table = t;
	svc->store = store;
	svc->tick = event_new(base, -1, EV_PERSIST, rl_service_tick, svc);
	svc->srv = rpc_server_new(base, endpoint, rl_service_handle, svc);
	if (svc->tick == NULL || svc->srv == NULL || event_add(svc->tick, &tv) < 0) {
		rl_service_free(svc);
		return NULL;
	}
	return svc;
}

/* rl_service_stop - final flush before the loop ends */
int rl_service_stop(void *arg)
{
	struct rl_service *svc = arg;

	rl_service_flush(svc);
	log_info("ratelimiter: stopping: %llu decisions (%llu denied, %llu bad), %zu keys",
	    (unsigned long long)svc->decisions, (unsigned long long)svc->denied,
	    (unsigned long long)svc->bad, rl_table_count(svc->table));
	return 0;
}

/* rl_service_free - stop serving (the table and store stay the caller's) */
void rl_service_free(struct rl_service *svc)
{
	if (svc == NULL)
		return;
	if (svc->srv != NULL)
		rpc_server_free(svc->srv);
	if (svc->tick != NULL)
		event_free(svc->tick);
	free(svc);
}
