/*
 * phctl_limits - "phctl limits usage TENANT": the tenant's usage of its
 * per-minute and per-day windows and when the next message may be sent.
 *
 * The limits come from the tenant object or the [ratelimit] defaults, keys
 * and shard exactly as the frontends compute them (ratelimit.h, rl_shard_index
 * over [endpoints] ratelimiter). Each window is asked separately with a dry
 * run of cost 1 (nothing is taken), so each gets its own "next free" time:
 * 0 while the window has room, else the ms until its oldest events leave it
 * (rl_window.h bounds the error: one sub-window bucket).
 *
 * DIAGNOSTICS: an unknown tenant, an unreachable shard or a refusal is an
 * error (exit 1) with a message on stderr.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "phctl.h"
#include "ratelimit.h"

/* limits_usage - one window's answer */
struct limits_usage {
	const char *name;		/* "minute", "day" */
	const Ph__RateLimit *lim;
	uint64_t used;
	uint64_t next_free_ms;		/* 0: a message may be sent now */
};

/* usage_find_tenant - the tenant named by ID or name in REP's objects */
static const Ph__Tenant *usage_find_tenant(const Ph__Envelope *rep, const char *arg)
{
	const Ph__PolicyReply *pr = rep->policy_reply;

	for (size_t i = 0; i < pr->n_objects; i++) {
		const Ph__Tenant *t = pr->objects[i]->tenant;
		if (t != NULL && (strcmp(t->id, arg) == 0 || strcmp(t->name, arg) == 0))
			return t;
	}
	return NULL;
}

/* usage_ask - a dry run of cost 1 for U's limit at ENDPOINT; 0 or -1 */
static int usage_ask(struct phctl *ph, const char *endpoint, struct limits_usage *u)
{
	Ph__Envelope env, *rep;
	Ph__RateCheckRequest req = PH__RATE_CHECK_REQUEST__INIT;
	Ph__RateLimit *lim = (Ph__RateLimit *)u->lim;
	const Ph__RateCheckReply *r;
	int rc = 0;

	req.n_limits = 1;
	req.limits = &lim;
	req.cost = 1;
	req.dry_run = true;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_RATE_CHECK_REQUEST;
	env.rate_check_request = &req;
	if (phctl_call(ph, endpoint, &env, &rep) == -1)
		return -1;
	r = rep->rate_check_reply;
	if (rep->body_case != PH__ENVELOPE__BODY_RATE_CHECK_REPLY || r->n_used != 1) {
		rc = phctl_err("%s refused the request: %s", endpoint,
		    rep->body_case == PH__ENVELOPE__BODY_STATUS ? rep->status->message : "bad reply");
	} else {
		u->used = r->used[0];
		u->next_free_ms = r->allowed ? 0 : r->retry_after_ms;
	}
	msg_free(rep);
	return rc;
}

/* usage_when - "now" or "in 12.345s" */
static void usage_when(uint64_t ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "now");
	else
		snprintf(buf, len, "in %" PRIu64 ".%03us", ms / 1000, (unsigned)(ms % 1000));
}

/* usage_print_text - one line per window */
static void usage_print_text(const Ph__Tenant *t, const char *shard,
    const struct limits_usage *u, size_t n)
{
	char when[64];

	printf("tenant  %s (%s)\nshard   %s\n", t->name, t->id, shard);
	printf("%-8s %12s %12s %12s  %s\n", "window", "used", "limit", "remaining",
	    "next free");
	for (size_t i = 0; i < n; i++) {
		uint64_t left = u[i].used < u[i].lim->limit ? u[i].lim->limit - u[i].used : 0;
		usage_when(u[i].next_free_ms, when, sizeof(when));
		printf("%-8s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "  %s\n", u[i].name,
		    u[i].used, u[i].lim->limit, left, when);
	}
}

/* usage_print_json - {"tenant_id", "tenant", "shard", "windows": [...],
 * "next_free_ms"} (the latest of the windows' times) */
static void usage_print_json(const Ph__Tenant *t, const char *shard,
    const struct limits_usage *u, size_t n)
{
	json_t *o = json_object(), *ws = json_array();
	uint64_t next = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t left = u[i].used < u[i].lim->limit ? u[i].lim->limit - u[i].used : 0;
		json_t *w = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}",
		    "window", u[i].name, "key", u[i].lim->key,
		    "window_s", (json_int_t)u[i].lim->window_s, "used", (json_int_t)u[i].used,
		    "limit", (json_int_t)u[i].lim->limit, "remaining", (json_int_t)left,
		    "next_free_ms", (json_int_t)u[i].next_free_ms);
		json_array_append_new(ws, w);
		if (u[i].next_free_ms > next)
			next = u[i].next_free_ms;
	}
	json_object_set_new(o, "tenant_id", json_string(t->id));
	json_object_set_new(o, "tenant", json_string(t->name));
	json_object_set_new(o, "shard", json_string(shard));
	json_object_set_new(o, "windows", ws);
	json_object_set_new(o, "next_free_ms", json_integer((json_int_t)next));
	phctl_json_dump(o);
}

/* usage_show - ask the owning shard about each window of T and print */
static int usage_show(struct phctl *ph, const Ph__Tenant *t)
{
	static const char *const names[RATELIMIT_SEND_N] = { "minute", "day" };
	struct limits_usage u[RATELIMIT_SEND_N];
	struct ratelimit_conf lc;
	struct ratelimit_send sl;
	const char *shard, *key;
	char *err = NULL;

	if (ratelimit_config(ph->cfg, &lc, &err) == -1)
		return phctl_err("config: %s", err ? err : "[ratelimit]");
	if (ph->ep.ratelimiter.n == 0)
		return phctl_err("config: [endpoints] ratelimiter is empty");
	key = ratelimit_tenant(&sl, t->id, t->per_minute, t->per_day,
	    (uint64_t)lc.default_per_minute, (uint64_t)lc.default_per_day);
	shard = ph->ep.ratelimiter.v[rl_shard_index(key, ph->ep.ratelimiter.n)];
	for (size_t i = 0; i < RATELIMIT_SEND_N; i++) {
		u[i] = (struct limits_usage){ names[i], sl.limitp[i], 0, 0 };
		if (usage_ask(ph, shard, &u[i]) == -1)
			return PHCTL_EXIT_ERR;
	}
	if (ph->json)
		usage_print_json(t, shard, u, RATELIMIT_SEND_N);
	else
		usage_print_text(t, shard, u, RATELIMIT_SEND_N);
	return PHCTL_EXIT_OK;
}

/* phctl_limits_usage - "limits usage TENANT" (id or name) */
int phctl_limits_usage(struct phctl *ph, const struct phctl_cmd *cmd,
    struct phctl_args *a)
{
	Ph__Envelope *rep;
	const Ph__Tenant *t;
	int rc;

	if (phctl_list_objects(ph, "tenant", "", &rep) == -1)
		return PHCTL_EXIT_ERR;
	if ((t = usage_find_tenant(rep, a->pos[0])) == NULL)
		rc = phctl_err("no such tenant: %s", a->pos[0]);
	else
		rc = usage_show(ph, t);
	msg_free(rep);
	return rc;
}
