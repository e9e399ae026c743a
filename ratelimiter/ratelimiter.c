/*
 * ratelimiter - ph-ratelimiter: config, store, service, loop.
 *
 * Config ([ratelimiter]):
 *   db_dir         = ${data_dir}/ratelimiter-${instance}   RocksDB directory
 *   flush_interval = 100ms    how often changed counters are written
 *   sync           = yes      fsync each flush, in a thread (no: OS cache only)
 *   max_keys       = 1000000  keys held at most (0: no cap); a check that needs
 *                             a new key beyond it is answered "unavailable",
 *                             and the client's fail-open/closed rule decides
 *
 * CRASH BOUND: counters are written in one batch every flush_interval and at
 * a clean stop, and loaded at start; a syncer thread fsyncs each batch. A
 * kill -9 forgets at most the decisions of the last flush_interval (default
 * 100 ms); power loss also the batch being synced; a restart never forgets
 * older ones, so a tenant
 * that used its daily limit cannot send again by restarting the process.
 * With sync = no, an OS crash may forget more (a process crash still not).
 *
 * DIAGNOSTICS: fatal for a bad config, an unopenable database or an endpoint
 * that cannot be bound; everything else only warns.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "config.h"
#include "log.h"
#include "proc.h"
#include "ratelimiter.h"
#include "rl_service.h"
#include "rl_store.h"
#include "rl_table.h"

struct rl_config {
	char *db_dir;
	long long flush_ms;
	bool sync;
	long long max_keys;
};

/* ratelimiter_config - read [ratelimiter]; fatal on error */
static void ratelimiter_config(struct proc *p, struct rl_config *rc)
{
	const struct config_row rows[] = {
		{ "db_dir", CFG_STR, 1, 0, "${data_dir}/ratelimiter-${instance}", &rc->db_dir },
		{ "flush_interval", CFG_MS, 1, 60000, "100ms", &rc->flush_ms },
		{ "sync", CFG_BOOL, 1, 0, "yes", &rc->sync },
		{ "max_keys", CFG_INT, 0, 1LL << 40, "1000000", &rc->max_keys },
		{ NULL, 0, 0, 0, NULL, NULL },
	};
	char *err = NULL;

	if (config_apply(p->cfg, "ratelimiter", rows, &err) < 0)
		fatalx("config [ratelimiter]: %s", err);
}

/* ratelimiter_config_free - what config_apply allocated */
static void ratelimiter_config_free(struct rl_config *rc, struct ph_endpoints *ep)
{
	free(rc->db_dir);
	free(ep->control);
	free(ep->control_pub);
	strvec_clear(&ep->ratelimiter);
	strvec_clear(&ep->queue);
}

/* ratelimiter_endpoint - this instance's endpoint; fatal when missing */
static const char *ratelimiter_endpoint(struct proc *p, struct ph_endpoints *ep)
{
	char *err = NULL;

	if (config_endpoints(p->cfg, ep, &err) < 0)
		fatalx("config [endpoints]: %s", err);
	return proc_endpoint(&ep->ratelimiter, p->instance, "ratelimiter");
}

/* ratelimiter_open - open the store and load every counter; fatal on error */
static struct rl_store *ratelimiter_open(const struct rl_config *rc, struct rl_table *t)
{
	struct rl_store *store;
	char *err = NULL;
	long n;

	if ((store = rl_store_open(rc->db_dir, rc->sync, &err)) == NULL)
		fatalx("ratelimiter store %s: %s", rc->db_dir, err ? err : "open failed");
	if ((n = rl_store_load(store, t)) < 0)
		fatalx("ratelimiter store %s: cannot load counters", rc->db_dir);
	log_info("ratelimiter: %ld counters loaded from %s", n, rc->db_dir);
	return store;
}

/* ratelimiter_run - set up, serve until stopped, clean up */
int ratelimiter_run(struct proc *p)
{
	struct rl_config rc = { 0 };
	struct ph_endpoints ep = { 0 };
	struct rl_table *t;
	struct rl_store *store;
	struct rl_service *svc;
	const char *endpoint;
	int code;

	ratelimiter_config(p, &rc);
	endpoint = ratelimiter_endpoint(p, &ep);
	if ((t = rl_table_new()) == NULL)
		fatal_nomem("ratelimiter");
	rl_table_set_max_keys(t, (size_t)rc.max_keys);
	store = ratelimiter_open(&rc, t);
	svc = rl_service_new(p->base, endpoint, t, store, (unsigned)rc.flush_ms);
	if (svc == NULL)
		fatalx("ratelimiter: cannot serve at %s", endpoint);
	proc_on_stop(p, rl_service_stop, svc);
	log_info("ratelimiter: serving at %s, flush every %lld ms", endpoint, rc.flush_ms);
	proc_ready(p);
	code = proc_run(p);
	rl_service_free(svc);
	rl_store_close(store);
	rl_table_free(t);
	ratelimiter_config_free(&rc, &ep);
	return code;
}
