/*
 * relay_throttle - per-destination message and connection throttles of
 * ph-relay, taken from ph-ratelimiter (see relay_throttle.h).
 *
 * Each destination that met a throttle has a throttle_dest with one gate per
 * kind: a gate holds at most one token taken in advance ("permit"), at most
 * one request in flight, and a retry timer after a refusal. Tokens are taken
 * one at a time with cost 1, so a refusal never wastes a partial batch.
 *
 * Config [relay]: destination_rate = 0 (messages per window, 0 = off),
 * destination_connections_rate = 0 (new connections per window, 0 = off),
 * destination_window = 60s; destination_hold_max = 120s (keep it below the
 * queue's [queue] lease, 300s: a task held past its lease would be leased
 * again); [ratelimit] timeout for each request.
 *
 * DIAGNOSTICS: a refused token is logged (info) with its retry time; the
 * first unanswered request after an answered one warns (fail open).
 */
#include <stdlib.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "proc.h"
#include "ratelimit.h"
#include "rl_client.h"
#include "strmap.h"
#include "relay_dest.h"
#include "relay_throttle.h"

#define THROTTLE_RETRY_MIN_MS 10	/* shortest wait after a refusal */

struct throttle_dest;

/* throttle_gate - the token state of one kind at one destination */
struct throttle_gate {
	struct throttle_dest *td;
	enum relay_throttle_kind kind;
	bool permit;			/* a token taken, not used yet */
	bool pending;			/* a request in flight */
	struct event *retry;		/* armed after a refusal */
	uint64_t retry_at;		/* mono ms when it fires */
};

struct throttle_dest {
	struct relay_throttle *th;
	struct relay_dest *d;
	struct throttle_gate gate[2];
};

struct relay_throttle {
	struct event_base *base;
	struct rl_client *rl;
	struct ratelimit_conf lc;
	struct strmap *dests;		/* relay_dest_name -> throttle_dest */
	uint64_t rate[2];		/* by kind, 0 = off */
	uint32_t window_s;
	uint64_t hold_ms;
	bool unavailable;		/* the last request got no answer */
};

/* relay_throttle_new - the rl_client and config, or NULL when off */
struct relay_throttle *relay_throttle_new(struct relay *r)
{
	struct relay_throttle *th;
	char *err = NULL;

	if (r->cfg.dest_rate == 0 && r->cfg.dest_conn_rate == 0)
		return NULL;
	if ((th = calloc(1, sizeof(*th))) == NULL || (th->dests = strmap_new()) == NULL)
		fatal_nomem("relay");
	if (ratelimit_config(r->proc->cfg, &th->lc, &err) < 0)
		fatalx("%s", err ? err : "[ratelimit]: bad config");
	th->base = r->base;
	th->rl = rl_client_new(r->base, &r->ep.ratelimiter, (unsigned)th->lc.timeout_ms);
	if (th->rl == NULL)
		fatalx("relay: throttles need [endpoints] ratelimiter");
	th->rate[THROTTLE_MSG] = (uint64_t)r->cfg.dest_rate;
	th->rate[THROTTLE_CONN] = (uint64_t)r->cfg.dest_conn_rate;
	th->window_s = (uint32_t)(r->cfg.dest_window_ms / 1000);
	th->hold_ms = (uint64_t)r->cfg.dest_hold_ms;
	log_info("relay: destination throttles: %llu messages, %llu connections per %u s",
	    (unsigned long long)th->rate[THROTTLE_MSG],
	    (unsigned long long)th->rate[THROTTLE_CONN], th->window_s);
	return th;
}

/* throttle_dest_free - cancel TD's requests and timers, free it */
static void throttle_dest_free(void *arg)
{
	struct throttle_dest *td = arg;

	for (int k = 0; k < 2; k++) {
		rl_client_cancel(td->th->rl, &td->gate[k]);
		if (td->gate[k].retry != NULL)
			event_free(td->gate[k].retry);
	}
	free(td);
}

/* relay_throttle_free - shutdown */
void relay_throttle_free(struct relay_throttle *th)
{
	if (th == NULL)
		return;
	strmap_free(th->dests, throttle_dest_free);
	rl_client_free(th->rl);
	free(th);
}

/* relay_throttle_forget - D goes away */
void relay_throttle_forget(struct relay_throttle *th, const struct relay_dest *d)
{
	struct throttle_dest *td;

	if (th != NULL && (td = strmap_del(th->dests, relay_dest_name(d))) != NULL)
		throttle_dest_free(td);
}

/* throttle_on_retry - a refused token's wait is over: try again */
static void throttle_on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct throttle_gate *g = arg;

	relay_dest_pump(g->td->d);
}

/* throttle_refused - wait RETRY_MS before G asks again */
static void throttle_refused(struct throttle_gate *g, uint64_t retry_ms)
{
	struct timeval tv;

	if (retry_ms < THROTTLE_RETRY_MIN_MS)
		retry_ms = THROTTLE_RETRY_MIN_MS;
	tv.tv_sec = (time_t)(retry_ms / 1000);
	tv.tv_usec = (suseconds_t)(retry_ms % 1000) * 1000;
	log_info("relay %s: %s throttled, next token in %llu ms", relay_dest_name(g->td->d),
	    g->kind == THROTTLE_MSG ? "messages" : "connections",
	    (unsigned long long)retry_ms);
	evtimer_add(g->retry, &tv);
	g->retry_at = clock_mono_ms() + retry_ms;
	if (g->kind == THROTTLE_MSG)
		relay_throttle_hold(g->td->th, g->td->d);
}

/* throttle_on_token - the ratelimiter's answer for gate G */
static void throttle_on_token(void *arg, const struct rl_result *res)
{
	struct throttle_gate *g = arg;
	struct relay_throttle *th = g->td->th;

	g->pending = false;
	if (res->status == RL_UNAVAILABLE && !th->unavailable)
		log_warnx("relay: ratelimiter unavailable: destination throttles fail open");
	th->unavailable = res->status == RL_UNAVAILABLE;
	if (!ratelimit_pass(&th->lc, RATELIMIT_DEST, res)) {
		throttle_refused(g, res->retry_after_ms);
		return;
	}
	g->permit = true;
	relay_dest_pump(g->td->d);
}

/* throttle_ask - request one token for G */
static void throttle_ask(struct throttle_gate *g)
{
	struct relay_throttle *th = g->td->th;
	char key[RELAY_HOST_MAX + 32];
	Ph__RateLimit lim = PH__RATE_LIMIT__INIT;
	const Ph__RateLimit *limp = &lim;

	ratelimit_dest_key(key, sizeof(key), relay_dest_name(g->td->d), g->kind == THROTTLE_CONN);
	lim.key = key;
	lim.limit = th->rate[g->kind];
	lim.window_s = th->window_s;
	g->pending = true;
	rl_client_take(th->rl, key, &limp, 1, 1, throttle_on_token, g);
}

/* throttle_dest_get - D's gates, created on first use */
static struct throttle_dest *throttle_dest_get(struct relay_throttle *th, struct relay_dest *d)
{
	struct throttle_dest *td = strmap_get(th->dests, relay_dest_name(d));

	if (td != NULL)
		return td;
	if ((td = calloc(1, sizeof(*td))) == NULL)
		fatal_nomem("relay");
	td->th = th;
	td->d = d;
	for (int k = 0; k < 2; k++) {
		td->gate[k] = (struct throttle_gate){ td, (enum relay_throttle_kind)k,
		    false, false, evtimer_new(th->base, throttle_on_retry, &td->gate[k]), 0 };
		if (td->gate[k].retry == NULL)
			fatal_nomem("relay");
	}
	strmap_put(th->dests, relay_dest_name(d), td);
	return td;
}

/* relay_throttle_permit - use a token of KIND for D, or ask for one */
bool relay_throttle_permit(struct relay_throttle *th, struct relay_dest *d,
    enum relay_throttle_kind kind)
{
	struct throttle_gate *g;

	if (th == NULL || th->rate[kind] == 0)
		return true;
	g = &throttle_dest_get(th, d)->gate[kind];
	if (g->permit) {
		g->permit = false;
		return true;
	}
	if (!g->pending && !evtimer_pending(g->retry, NULL))
		throttle_ask(g);
	return false;
}

/* relay_throttle_hold - tasks of D that would wait past the hold bound for
 * the refused message token go back to their shard */
void relay_throttle_hold(struct relay_throttle *th, struct relay_dest *d)
{
	struct throttle_dest *td;

	if (relay_throttle_waiting(th, d) &&
	    (td = strmap_get(th->dests, relay_dest_name(d))) != NULL)
		relay_dest_defer_stale(d, td->gate[THROTTLE_MSG].retry_at, th->hold_ms,
		    "4.7.0 destination rate limit reached, retry later");
}

/* relay_throttle_waiting - a refused message token is still waiting */
bool relay_throttle_waiting(struct relay_throttle *th, const struct relay_dest *d)
{
	struct throttle_dest *td;

	if (th == NULL || th->rate[THROTTLE_MSG] == 0 ||
	    (td = strmap_get(th->dests, relay_dest_name(d))) == NULL)
		return false;
	return evtimer_pending(td->gate[THROTTLE_MSG].retry, NULL) != 0;
}
