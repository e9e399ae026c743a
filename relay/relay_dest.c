/*
 * relay_dest - per-destination task queues and connection pools of ph-relay.
 *
 * A destination is the next hop: "example.com" (delivered by MX lookup) or
 * "[host]:port" (a static route from the policy store or [relay] routes; many
 * domains may share one), for one TLS policy level (domains of different
 * levels behind one route get separate pools). Its addresses are reused as
 * long as their DNS TTLs allow (relay_dns caches them). When nothing can be
 * reached, or the name does not resolve, every waiting task gets the reason:
 * deferred, or failed when the failure is permanent (NXDOMAIN, null MX).
 *
 * Concurrency, like Postfix's qmgr: the connection window starts at [relay]
 * initial_connections_per_destination and opens by one per successful
 * transaction up to max_connections_per_destination (slow start). An attempt
 * fails when it cannot be connected or set up, or when the server refuses
 * the transaction as a whole (421 anywhere, 4xx to MAIL FROM; a 4xx to RCPT
 * or to the data is about the message, e.g. greylisting, and counts neither
 * way): the window drops to 1, and from the second
 * failure in a row the destination is backed off for destination_backoff_min,
 * doubling per further failure up to destination_backoff_max. Tasks that
 * arrive meanwhile go straight back to their shard, deferred ("delivery
 * temporarily suspended: <last error>"), so the queue's retry schedule holds
 * them, not relay memory. The first success ends the back-off.
 *
 * DIAGNOSTICS: connection failures are logged once per failed destination
 * attempt (warn), back-off starts and ends too; everything else is a task
 * result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "clock.h"
#include "log.h"
#include "policy.h"
#include "strmap.h"
#include "relay_dest.h"
#include "relay_dns.h"
#include "relay_session.h"
#include "relay_throttle.h"
#include "relay_tls.h"

#define DEST_SWEEP_MS 60000	/* forget a destination unused this long */
#define DEST_BACKOFF_AFTER 2	/* failures in a row before a back-off */

struct relay_dest {
	struct relay_dests *owner;
	char *key;			/* name for logs and throttles */
	char *mapkey;			/* key + TLS level unless "may" */
	char host[RELAY_HOST_MAX];	/* domain (MX) or next-hop host */
	unsigned port;
	bool by_mx;
	enum relay_tls_level tls;
	size_t window;			/* connections allowed now (slow start) */
	unsigned fails;			/* failed attempts in a row */
	uint64_t backoff_until;		/* mono ms, 0 = not backed off */
	char last_error[600];
	struct relay_addrs *addrs;
	uint64_t addrs_until;		/* mono ms */
	bool resolving;
	TAILQ_HEAD(relay_task_queue, relay_task) queue;
	size_t nqueue;
	struct relay_session **sess;
	size_t nsess;
	size_t nconnecting;
	uint64_t last_used;		/* mono ms */
};

struct relay_dests {
	struct relay *relay;
	struct strmap *map;
};

/* relay_dests_new - an empty destination table */
struct relay_dests *relay_dests_new(struct relay *r)
{
	struct relay_dests *ds = calloc(1, sizeof(*ds));

	if (!ds || !(ds->map = strmap_new()))
		fatal_nomem("relay");
	ds->relay = r;
	return ds;
}

/* dest_free - close everything of D */
static void dest_free(void *arg)
{
	struct relay_dest *d = arg;
	struct relay_task *t;
	size_t i;

	relay_throttle_forget(d->owner->relay->throttle, d);
	for (i = 0; i < d->nsess; i++)
		relay_session_free(d->sess[i]);
	while ((t = TAILQ_FIRST(&d->queue))) {
		TAILQ_REMOVE(&d->queue, t, entry);
		relay_task_free(t);
	}
	relay_addrs_unref(d->addrs);
	free(d->sess);
	free(d->key);
	free(d->mapkey);
	free(d);
}

/* relay_dests_free - shutdown */
void relay_dests_free(struct relay_dests *ds)
{
	if (!ds)
		return;
	strmap_free(ds->map, dest_free);
	free(ds);
}

/* relay_dest_name - for logs */
const char *relay_dest_name(const struct relay_dest *d)
{
	return d->key;
}

/* relay_dest_tls - the TLS policy level of D's connections */
enum relay_tls_level relay_dest_tls(const struct relay_dest *d)
{
	return d->tls;
}

/* dest_route_static - the static next hop of DOMAIN, if any */
static bool dest_route_static(struct relay *r, const char *domain, char *host,
    size_t hostlen, unsigned *port)
{
	const struct relay_route *rt;
	const Ph__Route *pr;
	size_t n = strlen(domain);

	if (r->policy && (pr = policy_route(r->policy, domain)) && pr->host &&
	    pr->host[0]) {
		snprintf(host, hostlen, "%s", pr->host);
		*port = pr->port ? pr->port : 25;
		return true;
	}
	if ((rt = relay_routes_lookup(&r->routes, domain))) {
		snprintf(host, hostlen, "%s", rt->host);
		*port = rt->port;
		return true;
	}
	if (domain[0] == '[' && n > 2 && domain[n - 1] == ']') {
		snprintf(host, hostlen, "%.*s", (int)(n - 2), domain + 1);
		if (strncasecmp(host, "IPv6:", 5) == 0)
			memmove(host, host + 5, strlen(host + 5) + 1);
		*port = 25;
		return true;
	}
	return false;
}

/* dest_get - find or create the destination for DOMAIN */
static struct relay_dest *dest_get(struct relay_dests *ds, const char *domain)
{
	struct relay *r = ds->relay;
	char host[RELAY_HOST_MAX], key[RELAY_HOST_MAX + 16], mapkey[sizeof(key) + 16];
	enum relay_tls_level tls = relay_tls_policy(r->tls_policies, domain);
	struct relay_dest *d;
	unsigned port;
	bool by_mx;
	size_t i;

	by_mx = !dest_route_static(r, domain, host, sizeof(host), &port);
	if (by_mx) {
		snprintf(host, sizeof(host), "%s", domain);
		for (i = 0; host[i]; i++)
			host[i] = (char)tolower((unsigned char)host[i]);
		port = (unsigned)r->cfg.mx_port;
		snprintf(key, sizeof(key), "%s", host);
	} else {
		snprintf(key, sizeof(key), "[%s]:%u", host, port);
	}
	snprintf(mapkey, sizeof(mapkey), "%s%s%s", key, tls ? "/" : "",
	    tls ? relay_tls_level_name(tls) : "");
	if ((d = strmap_get(ds->map, mapkey)))
		return d;
	if (!(d = calloc(1, sizeof(*d))) || !(d->key = strdup(key)) ||
	    !(d->mapkey = strdup(mapkey)))
		fatal_nomem("relay");
	d->owner = ds;
	snprintf(d->host, sizeof(d->host), "%s", host);
	d->port = port;
	d->by_mx = by_mx;
	d->tls = tls;
	d->window = (size_t)r->cfg.initial_conns;
	TAILQ_INIT(&d->queue);
	strmap_put(ds->map, mapkey, d);
	return d;
}

/* dest_fail_all - every waiting task gets outcome O with REPLY */
static void dest_fail_all(struct relay_dest *d, Ph__Outcome o,
    const char *reply, const char *server)
{
	struct relay_task *t;

	while ((t = TAILQ_FIRST(&d->queue))) {
		TAILQ_REMOVE(&d->queue, t, entry);
		d->nqueue--;
		if (server)
			snprintf(t->remote_host, sizeof(t->remote_host), "%s", server);
		relay_task_set_rest(t, o, reply);
		relay_task_done(t);
	}
}

/* dest_on_resolved - addresses (or the reason there are none) are back */
static void dest_on_resolved(void *arg, struct relay_addrs *as, bool permanent,
    const char *error)
{
	struct relay_dest *d = arg;
	char reply[600];
	size_t i;

	d->resolving = false;
	if (!as) {
		log_warnx("relay: %s: %s", d->key, error);
		snprintf(reply, sizeof(reply), "%s %s", permanent ? "5.4.4" :
		    "4.4.3", error);
		dest_fail_all(d, permanent ? PH__OUTCOME__OUTCOME_FAILED :
		    PH__OUTCOME__OUTCOME_DEFERRED, reply, NULL);
		return;
	}
	if (as != d->addrs)
		for (i = 0; i < d->nsess; i++)
			relay_session_retire_unless_in(d->sess[i], as);
	relay_addrs_unref(d->addrs);
	d->addrs = as;
	d->addrs_until = as->until_mono;
	relay_dest_pump(d);
}

/* dest_resolve - start the address lookup of D */
static void dest_resolve(struct relay_dest *d)
{
	struct relay *r = d->owner->relay;

	d->resolving = true;
	if (d->by_mx)
		relay_dns_mx(r->dns, d->host, d->port, dest_on_resolved, d);
	else
		relay_dns_host(r->dns, d->host, d->port, dest_on_resolved, d);
}

/* dest_open - one more connection */
static void dest_open(struct relay_dest *d)
{
	struct relay_session **v;
	struct relay_session *s;

	v = realloc(d->sess, (d->nsess + 1) * sizeof(*v));
	if (!v)
		return;
	d->sess = v;
	d->nconnecting++;
	s = relay_session_new(d->owner->relay, d, d->addrs);
	d->sess[d->nsess++] = s;
}

/* dest_window - connections D may have now */
static size_t dest_window(const struct relay_dest *d)
{
	size_t max = (size_t)d->owner->relay->cfg.max_conns;

	return d->window < max ? d->window : max;
}

/* relay_dest_pump - match waiting tasks with idle connections, open more
 * (within the window and the destination throttles); while backed off,
 * waiting tasks go back to their shard */
void relay_dest_pump(struct relay_dest *d)
{
	struct relay *r = d->owner->relay;
	struct relay_task *t;
	char reply[700];
	size_t i;

	d->last_used = clock_mono_ms();
	relay_throttle_hold(r->throttle, d);
	if (d->nqueue == 0 || d->resolving)
		return;
	if (d->backoff_until > d->last_used) {
		snprintf(reply, sizeof(reply), "4.4.1 delivery temporarily "
		    "suspended: %s", d->last_error);
		dest_fail_all(d, PH__OUTCOME__OUTCOME_DEFERRED, reply, NULL);
		return;
	}
	if (!d->addrs || d->addrs_until <= d->last_used) {
		dest_resolve(d);
		return;
	}
	for (i = 0; i < d->nsess && d->nqueue > 0; i++)
		if (relay_session_idle(d->sess[i]) && (t = relay_dest_next(d)))
			relay_session_deliver(d->sess[i], t);
	while (d->nqueue > d->nconnecting && d->nsess < dest_window(d) &&
	    !relay_throttle_waiting(r->throttle, d) &&
	    relay_throttle_permit(r->throttle, d, THROTTLE_CONN))
		dest_open(d);
}

/* relay_dests_submit - queue T at the destination of its domain */
void relay_dests_submit(struct relay_dests *ds, struct relay_task *t)
{
	struct relay_dest *d = dest_get(ds, t->t->domain);

	TAILQ_INSERT_TAIL(&d->queue, t, entry);
	d->nqueue++;
	relay_dest_pump(d);
}

/* relay_dest_defer_stale - waiting tasks that arrived more than MAX_MS
 * before UNTIL_MONO go back to their shard, deferred with REPLY */
void relay_dest_defer_stale(struct relay_dest *d, uint64_t until_mono, uint64_t max_ms,
    const char *reply)
{
	struct relay_task *t, *next;

	for (t = TAILQ_FIRST(&d->queue); t; t = next) {
		next = TAILQ_NEXT(t, entry);
		if (until_mono - t->start_mono <= max_ms)
			continue;
		TAILQ_REMOVE(&d->queue, t, entry);
		d->nqueue--;
		relay_task_set_rest(t, PH__OUTCOME__OUTCOME_DEFERRED, reply);
		relay_task_done(t);
	}
}

/* dest_failure - an attempt failed with ERROR: shrink, maybe back off */
static void dest_failure(struct relay_dest *d, const char *error)
{
	const struct relay_config *c = &d->owner->relay->cfg;
	long long delay = c->backoff_min_ms;
	unsigned k;

	snprintf(d->last_error, sizeof(d->last_error), "%s", error ? error : "");
	d->window = 1;
	if (++d->fails < DEST_BACKOFF_AFTER)
		return;
	for (k = DEST_BACKOFF_AFTER; k < d->fails && delay < c->backoff_max_ms; k++)
		delay *= 2;
	if (delay > c->backoff_max_ms)
		delay = c->backoff_max_ms;
	d->backoff_until = clock_mono_ms() + (uint64_t)delay;
	log_warnx("relay: %s: %u failed attempts in a row, backing off for %lldms: %s",
	    d->key, d->fails, delay, d->last_error);
}

/* dest_success - an attempt got a definitive answer: open the window */
static void dest_success(struct relay_dest *d)
{
	if (d->backoff_until)
		log_info("relay: %s: answering again after %u failed attempts",
		    d->key, d->fails);
	d->fails = 0;
	d->backoff_until = 0;
	if (d->window < (size_t)d->owner->relay->cfg.max_conns)
		d->window++;
}

/* relay_dest_feedback - a transaction ended: OK when the server gave a
 * definitive answer, else it refused the transaction (REPLY: why) */
void relay_dest_feedback(struct relay_dest *d, bool ok, const char *reply)
{
	if (ok)
		dest_success(d);
	else
		dest_failure(d, reply);
}

/* relay_dest_session_up - S is established */
void relay_dest_session_up(struct relay_dest *d, struct relay_session *s)
{
	if (d->nconnecting > 0)
		d->nconnecting--;
}

/* relay_dest_next - pop the next waiting task (none while throttled) */
struct relay_task *relay_dest_next(struct relay_dest *d)
{
	struct relay_task *t = TAILQ_FIRST(&d->queue);

	if (!t || !relay_throttle_permit(d->owner->relay->throttle, d, THROTTLE_MSG))
		return NULL;
	TAILQ_REMOVE(&d->queue, t, entry);
	d->nqueue--;
	return t;
}

/* relay_dest_requeue - T goes first again */
void relay_dest_requeue(struct relay_dest *d, struct relay_task *t)
{
	t->requeues++;
	TAILQ_INSERT_HEAD(&d->queue, t, entry);
	d->nqueue++;
}

/* dest_established - connections of D that are up */
static size_t dest_established(const struct relay_dest *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->nsess; i++)
		if (relay_session_established(d->sess[i]))
			n++;
	return n;
}

/* relay_dest_session_gone - forget S; when it never came up and nothing else
 * is up, the waiting tasks are deferred with ERROR */
void relay_dest_session_gone(struct relay_dest *d, struct relay_session *s,
    const char *error)
{
	size_t i;

	for (i = 0; i < d->nsess; i++) {
		if (d->sess[i] == s) {
			d->sess[i] = d->sess[--d->nsess];
			break;
		}
	}
	if (!error) {
		relay_dest_pump(d);
		return;
	}
	if (d->nconnecting > 0)
		d->nconnecting--;
	d->addrs_until = 0;	/* look the addresses up again next time */
	dest_failure(d, error);
	if (dest_established(d) == 0 && d->nconnecting == 0) {
		log_warnx("relay: %s: %s", d->key, error);
		dest_fail_all(d, PH__OUTCOME__OUTCOME_DEFERRED, error, NULL);
	}
}

/* sweep_collect - destinations idle long enough */
static void sweep_collect(void *arg, const char *key, void *val)
{
	struct relay_dest *d = val;
	struct strvec *dead = arg;
	char **v;

	if (d->nqueue || d->nsess || d->resolving ||
	    clock_mono_ms() - d->last_used < DEST_SWEEP_MS ||
	    d->backoff_until > clock_mono_ms())
		return;
	if (!(v = realloc(dead->v, (dead->n + 1) * sizeof(*v))))
		return;
	dead->v = v;
	dead->v[dead->n++] = d->mapkey;
}

/* relay_dests_sweep - free destinations nobody used for a minute */
void relay_dests_sweep(struct relay_dests *ds)
{
	struct strvec dead = { NULL, 0 };
	size_t i;

	strmap_each(ds->map, sweep_collect, &dead);
	for (i = 0; i < dead.n; i++)
		dest_free(strmap_del(ds->map, dead.v[i]));
	free(dead.v);
	relay_dns_sweep(ds->relay->dns);
}
