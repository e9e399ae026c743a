/*
 * relay_run - ph-relay's entry: the [relay] config, the queue shards and the
 * credit flow.
 *
 * Wire protocol (proto/queue.proto): the relay connects a DEALER with routing
 * id "relay-<instance>" to every shard of [endpoints] queue and sends
 * RelayHello{relay_id, incarnation, credits} at start and every
 * [relay] hello_interval; credits is what it can take from that shard now
 * ([relay] credits minus tasks in flight), so a shard that restarted learns of
 * us again and one that lost count is corrected. The incarnation is random per
 * process start: a shard re-queues at once what it leased to an older one.
 * The shard pushes DeliveryTasks (one per credit); each ends in one
 * TaskResult{task_id, queue_id, results, relay_id, credits: 1}.
 *
 * Until the policy replica has its first snapshot ([relay] use_policy) no
 * hello is sent: static routes live there, and a task routed without them
 * could be sent to the wrong place.
 *
 * DIAGNOSTICS: bad config, resolver or policy set-up failures are fatal;
 * unexpected or malformed messages from a shard are logged and dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <event2/event.h>
#include "log.h"
#include "msg.h"
#include "policy.h"
#include "proc.h"
#include "rpc.h"
#include "tls.h"
#include "relay.h"
#include "relay_dest.h"
#include "relay_dns.h"
#include "relay_throttle.h"
#include "relay_tls.h"

/* run_config - read [relay] into R->cfg */
static void run_config(struct relay *r)
{
	struct relay_config *c = &r->cfg;
	const struct config_row rows[] = {
		{ "credits", CFG_INT, 1, 100000, "200", &c->credits },
		{ "routes", CFG_LIST, 0, -1, NULL, &c->routes },
		{ "dns_servers", CFG_LIST, 0, -1, NULL, &c->dns_servers },
		{ "dns_timeout", CFG_MS, 100, 600000, "5s", &c->dns_timeout_ms },
		{ "dns_cache", CFG_MS, 1000, 86400000, "1h", &c->dns_cache_ms },
		{ "dns_negative_ttl", CFG_MS, 1000, 86400000, "60s",
		    &c->dns_negative_ms },
		{ "mx_port", CFG_INT, 1, 65535, "25", &c->mx_port },
		{ "idle_timeout", CFG_MS, 10, 3600000, "10s", &c->idle_timeout_ms },
		{ "max_connections_per_destination", CFG_INT, 1, 10000, "20",
		    &c->max_conns },
		{ "initial_connections_per_destination", CFG_INT, 1, 10000, "2",
		    &c->initial_conns },
		{ "destination_backoff_min", CFG_MS, 100, 86400000, "30s",
		    &c->backoff_min_ms },
		{ "destination_backoff_max", CFG_MS, 100, 86400000, "10m",
		    &c->backoff_max_ms },
		{ "connect_timeout", CFG_MS, 10, 3600000, "30s",
		    &c->connect_timeout_ms },
		{ "command_timeout", CFG_MS, 10, 3600000, "300s",
		    &c->command_timeout_ms },
		{ "data_timeout", CFG_MS, 10, 3600000, "600s", &c->data_timeout_ms },
		{ "hello_interval", CFG_MS, 100, 600000, "3s",
		    &c->hello_interval_ms },
		{ "hostname", CFG_STR, 0, -1, "posthaste.localdomain", &c->hostname },
		{ "starttls", CFG_BOOL, 0, -1, "yes", &c->starttls },
		{ "tls_policy", CFG_LIST, 0, -1, NULL, &c->tls_policy },
		{ "tls_ca_file", CFG_STR, 0, -1, "", &c->tls_ca_file },
		{ "use_policy", CFG_BOOL, 0, -1, "yes", &c->use_policy },
		{ "destination_rate", CFG_INT, 0, 1LL << 40, "0", &c->dest_rate },
		{ "destination_connections_rate", CFG_INT, 0, 1LL << 40, "0",
		    &c->dest_conn_rate },
		{ "destination_window", CFG_MS, 1000, 86400000, "60s", &c->dest_window_ms },
		{ "destination_hold_max", CFG_MS, 1000, 86400000, "120s", &c->dest_hold_ms },
		{ NULL, 0, 0, 0, NULL, NULL }
	};
	char *err = NULL;

	if (config_apply(r->proc->cfg, "relay", rows, &err) < 0)
		fatalx("%s", err ? err : "[relay]: bad config");
	if (relay_routes_parse(&r->routes, &c->routes, 25, &err) < 0)
		fatalx("%s", err ? err : "[relay] routes: bad entry");
	if (!(r->tls_policies = relay_tls_policies_parse(&c->tls_policy, &err)))
		fatalx("%s", err ? err : "[relay] tls_policy: bad entry");
}

#define RUN_HELLO_RETRY_MS 200	/* a shard not connected yet: try again soon */

/* run_hello - RelayHello to SH with our free credits for it; 0 or -1 */
static int run_hello(struct relay_shard *sh, unsigned credits)
{
	Ph__RelayHello h = PH__RELAY_HELLO__INIT;
	Ph__Envelope env;

	h.relay_id = sh->relay->relay_id;
	h.incarnation = sh->relay->incarnation;
	h.credits = credits;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_RELAY_HELLO;
	env.relay_hello = &h;
	if (rpc_send(sh->rpc, &env) == 0)
		return 0;
	log_debug("relay: hello to %s not sent (shard not up?)", sh->endpoint);
	return -1;
}

/* run_free_credits - what SH may send us now */
static unsigned run_free_credits(const struct relay_shard *sh)
{
	long long free_credits = sh->relay->cfg.credits - (long long)sh->inflight;

	return free_credits > 0 ? (unsigned)free_credits : 0;
}

/* run_hello_all - hello to every shard, once the routes are known; a
 * shard that could not be reached gets another try shortly */
static void run_hello_all(struct relay *r)
{
	struct timeval tv = { 0, RUN_HELLO_RETRY_MS * 1000 };
	int failed = 0;
	size_t i;

	if (r->cfg.use_policy && !policy_ready(r->policy))
		return;
	if (!r->started)
		log_info("relay: %s taking tasks from %zu shard(s)", r->relay_id,
		    r->nshards);
	r->started = true;
	for (i = 0; i < r->nshards; i++)
		if (run_hello(&r->shards[i], run_free_credits(&r->shards[i])) < 0)
			failed = 1;
	if (failed && !evtimer_pending(r->hello_retry, NULL))
		evtimer_add(r->hello_retry, &tv);
}

/* run_on_hello_retry - the quick second try after a failed hello */
static void run_on_hello_retry(evutil_socket_t fd, short what, void *arg)
{
	run_hello_all(arg);
}

/* run_on_hello_timer - periodic hello and housekeeping */
static void run_on_hello_timer(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;

	if (r->cfg.use_policy && !policy_ready(r->policy))
		log_warnx("relay: waiting for the policy store (%s)",
		    "no snapshot yet");
	run_hello_all(r);
	relay_dests_sweep(r->dests);
}

/* run_on_policy - a snapshot was applied: start at once if waiting */
static void run_on_policy(void *arg)
{
	struct relay *r = arg;

	if (!r->started)
		run_hello_all(r);
}

/* run_on_task - a DeliveryTask pushed by a shard */
static void run_on_task(struct relay_shard *sh, Ph__Envelope *env)
{
	struct relay_task *t;

	sh->inflight++;
	if (!(t = relay_task_new(sh->relay, sh, env))) {
		log_warnx("relay: malformed DeliveryTask from %s dropped",
		    sh->endpoint);
		sh->inflight--;
		msg_free(env);
		return;
	}
	log_debug("relay: task %llu %s for %s (%zu rcpt) from %s",
	    (unsigned long long)t->t->task_id, t->t->queue_id, t->t->domain,
	    t->n, sh->endpoint);
	relay_dests_submit(sh->relay->dests, t);
}

/* run_on_task_batch - each task of a DeliveryTaskBatch, in an envelope of
 * its own as if pushed alone (a task owns its envelope); takes ENV */
static void run_on_task_batch(struct relay_shard *sh, Ph__Envelope *env)
{
	Ph__DeliveryTaskBatch *b = env->delivery_task_batch;

	for (size_t i = 0; i < b->n_tasks; i++) {
		Ph__Envelope *one = malloc(sizeof(*one));

		if (one == NULL)
			fatal_nomem("relay");
		msg_init(one);
		one->body_case = PH__ENVELOPE__BODY_DELIVERY_TASK;
		one->delivery_task = b->tasks[i];	/* freed with ONE now */
		b->tasks[i] = NULL;
		run_on_task(sh, one);
	}
	b->n_tasks = 0;
	msg_free(env);
}

/* run_on_push - thin dispatch of a shard's one-way messages */
static void run_on_push(void *arg, Ph__Envelope *env)
{
	struct relay_shard *sh = arg;

	switch (env->body_case) {
	case PH__ENVELOPE__BODY_DELIVERY_TASK:
		run_on_task(sh, env);
		break;
	case PH__ENVELOPE__BODY_DELIVERY_TASK_BATCH:
		run_on_task_batch(sh, env);
		break;
	default:
		log_warnx("relay: unexpected %s from %s",
		    msg_body_name(env->body_case), sh->endpoint);
		msg_free(env);
		break;
	}
}

/* run_shards - one DEALER per queue shard */
static void run_shards(struct relay *r, const struct ph_endpoints *ep)
{
	struct relay_shard *sh;
	size_t i;

	if (ep->queue.n == 0)
		fatalx("[endpoints] queue: no queue shard configured");
	if (!(r->shards = calloc(ep->queue.n, sizeof(*r->shards))))
		fatal_nomem("relay");
	r->nshards = ep->queue.n;
	for (i = 0; i < r->nshards; i++) {
		sh = &r->shards[i];
		sh->relay = r;
		sh->endpoint = ep->queue.v[i];
		sh->rpc = rpc_client_new(r->base, sh->endpoint, r->relay_id);
		if (!sh->rpc)
			fatalx("relay: cannot connect to queue shard %s", sh->endpoint);
		rpc_client_on_push(sh->rpc, run_on_push, sh);
	}
}

/* run_on_stop - tell the shards to stop sending; in-flight tasks are
 * re-leased by them when our next incarnation says hello */
static int run_on_stop(void *arg)
{
	struct relay *r = arg;
	size_t i;

	for (i = 0; i < r->nshards; i++)
		(void)run_hello(&r->shards[i], 0);
	return 0;
}

/* run_tls_setup - the opportunistic and the verifying client contexts */
static void run_tls_setup(struct relay *r)
{
	if (!(r->tls_ctx = tls_client_ctx(NULL)))
		log_warnx("relay: no TLS client context, STARTTLS disabled");
	if (relay_tls_policies_need_verify(r->tls_policies) &&
	    !(r->tls_verify_ctx = tls_verify_ctx(r->cfg.tls_ca_file)))
		fatalx("relay: [relay] tls_ca_file %s cannot be loaded",
		    r->cfg.tls_ca_file);
}

/* run_on_results - end of a loop turn with task results to send */
static void run_on_results(evutil_socket_t fd, short what, void *arg)
{
	relay_results_flush(arg);
}

/* run_setup - resolver, TLS, policy, destinations, shards, timers */
static void run_setup(struct relay *r, const struct ph_endpoints *ep)
{
	struct timeval tv = { r->cfg.hello_interval_ms / 1000,
	    (r->cfg.hello_interval_ms % 1000) * 1000 };
	struct relay_dns_conf dc = { &r->cfg.dns_servers, r->cfg.dns_timeout_ms,
	    r->cfg.dns_cache_ms, r->cfg.dns_negative_ms };
	char *err = NULL;

	if (!(r->dns = relay_dns_new(r->base, &dc, &err)))
		fatalx("%s", err ? err : "relay: resolver set-up failed");
	run_tls_setup(r);
	if (r->cfg.use_policy) {
		r->policy = policy_new(r->base, ep->control, ep->control_pub);
		if (!r->policy)
			fatalx("relay: cannot start the policy replica");
		policy_on_change(r->policy, run_on_policy, r);
	}
	r->dests = relay_dests_new(r);
	r->throttle = relay_throttle_new(r);
	run_shards(r, ep);
	r->hello_timer = event_new(r->base, -1, EV_PERSIST, run_on_hello_timer, r);
	event_add(r->hello_timer, &tv);
	r->hello_retry = evtimer_new(r->base, run_on_hello_retry, r);
	if (!(r->results_ev = event_new(r->base, -1, 0, run_on_results, r)))
		fatal_nomem("relay");
	proc_on_stop(r->proc, run_on_stop, r);
}

/* run_free - release everything (after the loop) */
static void run_free(struct relay *r)
{
	size_t i;

	event_free(r->hello_timer);
	event_free(r->hello_retry);
	relay_dns_free(r->dns);
	relay_dests_free(r->dests);
	relay_throttle_free(r->throttle);
	relay_results_flush(r);
	event_free(r->results_ev);
	for (i = 0; i < r->nshards; i++) {
		rpc_client_free(r->shards[i].rpc);
		free(r->shards[i].results);
	}
	free(r->shards);
	if (r->policy)
		policy_free(r->policy);
	if (r->tls_ctx)
		SSL_CTX_free(r->tls_ctx);
	if (r->tls_verify_ctx)
		SSL_CTX_free(r->tls_verify_ctx);
	relay_tls_policies_free(r->tls_policies);
	strvec_clear(&r->cfg.tls_policy);
	free(r->cfg.tls_ca_file);
	relay_routes_free(&r->routes);
	strvec_clear(&r->cfg.routes);
	strvec_clear(&r->cfg.dns_servers);
	free(r->cfg.hostname);
	free(r->ep.control);
	free(r->ep.control_pub);
	strvec_clear(&r->ep.ratelimiter);
	strvec_clear(&r->ep.queue);
}

/* relay_run - ph-relay's one entry function */
int relay_run(struct proc *p)
{
	struct relay r;
	char *err = NULL;
	int rc;

	memset(&r, 0, sizeof(r));
	r.proc = p;
	r.base = p->base;
	run_config(&r);
	if (config_endpoints(p->cfg, &r.ep, &err) < 0)
		fatalx("%s", err ? err : "[endpoints]: bad config");
	snprintf(r.relay_id, sizeof(r.relay_id), "relay-%d", p->instance);
	if (getrandom(&r.incarnation, sizeof(r.incarnation), 0) !=
	    sizeof(r.incarnation))
		fatal("getrandom");
	srandom((unsigned)r.incarnation);
	run_setup(&r, &r.ep);
	proc_ready(p);
	run_hello_all(&r);
	rc = proc_run(p);
	run_free(&r);
	return rc;
}
