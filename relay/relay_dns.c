/*
 * relay_dns - MX and address resolution for ph-relay with c-ares, driven by
 * the libevent loop (common/ares_ev), with a cache that honours TTLs.
 *
 * A lookup of a domain: MX query; no MX records (NODATA) -> the domain's own
 * A/AAAA (RFC 5321 5.1); a null MX (RFC 7505) or NXDOMAIN -> permanent error;
 * any other failure (SERVFAIL, timeout, refused) -> temporary error. The MX
 * hosts' addresses are looked up in parallel and flattened in MX order. A
 * request keeps the smallest TTL it met; the result (or a permanent error)
 * is cached under "mx:<domain>:<port>" / "host:<name>:<port>".
 *
 * DIAGNOSTICS: a resolver that cannot be set up is fatal for the caller;
 * lookup failures are results, not log lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ares.h>
#include <arpa/nameser.h>
#include "ares_ev.h"
#include "clock.h"
#include "strmap.h"
#include "relay_dns.h"

#define DNS_TTL_MIN_MS 1000	/* even a TTL of 0 is reused this long */
#define DNS_KEY_MAX (RELAY_HOST_MAX + 16)

struct relay_dns {
	struct ares_ev *ev;
	struct strmap *cache;		/* key -> struct dns_entry */
	long long max_ttl_ms;
	long long negative_ttl_ms;
};

/* dns_entry - a cached answer: addresses, or a permanent error */
struct dns_entry {
	uint64_t until_mono;
	struct relay_addrs *addrs;	/* NULL for an error */
	char *error;
};

struct dns_req;

/* dns_sub - the address lookup of one MX host */
struct dns_sub {
	struct dns_req *req;
	struct ares_addrinfo *ai;
	int status;
};

/* dns_req - one relay_dns_mx / relay_dns_host call */
struct dns_req {
	struct relay_dns *dns;
	char *name;
	char key[DNS_KEY_MAX];
	unsigned port;
	long long ttl_ms;	/* smallest TTL seen */
	bool mx_fallback;	/* addresses of the domain itself (no MX) */
	relay_dns_cb cb;
	void *arg;
	struct relay_mx *mx;
	size_t nmx;
	struct dns_sub *subs;
	size_t pending;
};

/* ---- address lists ---- */

/* relay_addrs_ref - one more holder */
struct relay_addrs *relay_addrs_ref(struct relay_addrs *as)
{
	as->refs++;
	return as;
}

/* relay_addrs_unref - drop one holder, free with the last */
void relay_addrs_unref(struct relay_addrs *as)
{
	if (as && --as->refs == 0)
		free(as);
}

/* ---- MX ordering (pure) ---- */

/* mx_cmp - by preference */
static int mx_cmp(const void *a, const void *b)
{
	const struct relay_mx *x = a, *y = b;

	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

/* relay_mx_sort - preference order, Fisher-Yates within equal preferences */
void relay_mx_sort(struct relay_mx *mx, size_t n, unsigned (*rnd)(void *),
    void *arg)
{
	size_t lo = 0, hi, i, j;
	struct relay_mx t;

	qsort(mx, n, sizeof(*mx), mx_cmp);
	while (lo < n) {
		for (hi = lo + 1; hi < n && mx[hi].pref == mx[lo].pref; hi++)
			;
		for (i = hi - 1; i > lo; i--) {
			j = lo + rnd(arg) % (i - lo + 1);
			t = mx[i];
			mx[i] = mx[j];
			mx[j] = t;
		}
		lo = hi;
	}
}

/* relay_mx_is_null - RFC 7505: a single MX whose exchange is the root */
bool relay_mx_is_null(const struct relay_mx *mx, size_t n)
{
	return n == 1 && (mx[0].host[0] == '\0' || strcmp(mx[0].host, ".") == 0);
}

/* ---- resolver and cache ---- */

/* relay_dns_new - a channel in BASE's loop and an empty cache */
struct relay_dns *relay_dns_new(struct event_base *base,
    const struct relay_dns_conf *conf, char **err)
{
	struct relay_dns *dns = calloc(1, sizeof(*dns));

	*err = NULL;
	if (!dns || !(dns->cache = strmap_new())) {
		free(dns);
		return NULL;
	}
	dns->max_ttl_ms = conf->max_ttl_ms;
	dns->negative_ttl_ms = conf->negative_ttl_ms;
	if (!(dns->ev = ares_ev_new(base, conf->servers, conf->timeout_ms, err))) {
		strmap_free(dns->cache, NULL);
		free(dns);
		return NULL;
	}
	return dns;
}

/* entry_free - strmap value destructor */
static void entry_free(void *arg)
{
	struct dns_entry *e = arg;

	relay_addrs_unref(e->addrs);
	free(e->error);
	free(e);
}

/* relay_dns_free - cancel everything (callbacks see ARES_EDESTRUCTION) */
void relay_dns_free(struct relay_dns *dns)
{
	if (!dns)
		return;
	ares_ev_free(dns->ev);
	strmap_free(dns->cache, entry_free);
	free(dns);
}

/* dns_until - when an answer valid for MS expires (capped, floored) */
static uint64_t dns_until(const struct relay_dns *dns, long long ms)
{
	if (ms > dns->max_ttl_ms)
		ms = dns->max_ttl_ms;
	if (ms < DNS_TTL_MIN_MS)
		ms = DNS_TTL_MIN_MS;
	return clock_mono_ms() + (uint64_t)ms;
}

/* cache_put - remember AS (a reference is taken) or a permanent ERROR */
static void cache_put(struct relay_dns *dns, const char *key, uint64_t until,
    struct relay_addrs *as, const char *error)
{
	struct dns_entry *e = calloc(1, sizeof(*e)), *old;

	if (!e || (error && !(e->error = strdup(error)))) {
		free(e);
		return;
	}
	e->until_mono = until;
	e->addrs = as ? relay_addrs_ref(as) : NULL;
	if ((old = strmap_put(dns->cache, key, e)))
		entry_free(old);
}

/* cache_get - a live entry for KEY or NULL (an expired one is dropped) */
static struct dns_entry *cache_get(struct relay_dns *dns, const char *key)
{
	struct dns_entry *e = strmap_get(dns->cache, key);

	if (e && e->until_mono <= clock_mono_ms()) {
		entry_free(strmap_del(dns->cache, key));
		e = NULL;
	}
	return e;
}

/* sweep_collect - keys of expired entries */
static void sweep_collect(void *arg, const char *key, void *val)
{
	struct dns_entry *e = val;
	struct strvec *dead = arg;
	char **v;

	if (e->until_mono > clock_mono_ms())
		return;
	if (!(v = realloc(dead->v, (dead->n + 1) * sizeof(*v))))
		return;
	dead->v = v;
	dead->v[dead->n++] = (char *)key;
}

/* relay_dns_sweep - free what expired */
void relay_dns_sweep(struct relay_dns *dns)
{
	struct strvec dead = { NULL, 0 };
	size_t i;

	strmap_each(dns->cache, sweep_collect, &dead);
	for (i = 0; i < dead.n; i++)
		entry_free(strmap_del(dns->cache, dead.v[i]));
	free(dead.v);
}

/* cache_answer - call CB from the cache when KEY is there; true if so */
static bool cache_answer(struct relay_dns *dns, const char *key,
    relay_dns_cb cb, void *arg)
{
	struct dns_entry *e = cache_get(dns, key);

	if (!e)
		return false;
	if (e->addrs)
		cb(arg, relay_addrs_ref(e->addrs), false, NULL);
	else
		cb(arg, NULL, true, e->error);
	return true;
}

/* ---- lookups ---- */

/* req_free - release a finished request */
static void req_free(struct dns_req *req)
{
	size_t i;

	for (i = 0; i < req->nmx; i++) {
		free(req->mx[i].host);
		if (req->subs && req->subs[i].ai)
			ares_freeaddrinfo(req->subs[i].ai);
	}
	free(req->mx);
	free(req->subs);
	free(req->name);
	free(req);
}

/* req_ttl - the answer in hand is valid for TTL_MS at most */
static void req_ttl(struct dns_req *req, long long ttl_ms)
{
	if (ttl_ms < req->ttl_ms)
		req->ttl_ms = ttl_ms;
}

/* req_negative_ttl - RFC 2308 TTL of the negative answer ABUF */
static void req_negative_ttl(struct dns_req *req, const unsigned char *abuf,
    int alen)
{
	uint32_t ttl;

	if (abuf && alen > 0 && relay_dns_negative_ttl(abuf, (size_t)alen, &ttl) == 0)
		req_ttl(req, (long long)ttl * 1000);
	else
		req_ttl(req, req->dns->negative_ttl_ms);
}

/* req_fail - report ERROR and finish; a permanent error is cached */
static void req_fail(struct dns_req *req, bool permanent, const char *error)
{
	if (permanent)
		cache_put(req->dns, req->key, dns_until(req->dns, req->ttl_ms),
		    NULL, error);
	req->cb(req->arg, NULL, permanent, error);
	req_free(req);
}

/* req_fail_ns - a name service error in Postfix's words */
static void req_fail_ns(struct dns_req *req, bool permanent, const char *type,
    const char *why)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "Host or domain name not found. Name service "
	    "error for name=%s type=%s: %s", req->name, type, why);
	req_fail(req, permanent, buf);
}

/* req_fail_null_mx - RFC 7505: the domain accepts no mail */
static void req_fail_null_mx(struct dns_req *req)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "Domain %s does not accept mail (nullMX)",
	    req->name);
	req_fail(req, true, buf);
}

/* addrs_add - append the addresses of one host, IPv4 first */
static void addrs_add(struct relay_addrs *as, const char *host,
    const struct ares_addrinfo *ai, unsigned port)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	struct ares_addrinfo_node *n;
	struct relay_addr *a;
	int f;

	for (f = 0; f < 2; f++) {
		for (n = ai ? ai->nodes : NULL; n; n = n->ai_next) {
			if (n->ai_family != fams[f] || as->n >= RELAY_ADDRS_MAX ||
			    n->ai_addrlen > sizeof(a->sa))
				continue;
			a = &as->a[as->n++];
			snprintf(a->host, sizeof(a->host), "%s", host);
			memcpy(&a->sa, n->ai_addr, n->ai_addrlen);
			a->salen = n->ai_addrlen;
			if (n->ai_family == AF_INET) {
				struct sockaddr_in *s4 = (void *)&a->sa;
				s4->sin_port = htons((uint16_t)port);
				inet_ntop(AF_INET, &s4->sin_addr, a->ip, sizeof(a->ip));
			} else {
				struct sockaddr_in6 *s6 = (void *)&a->sa;
				s6->sin6_port = htons((uint16_t)port);
				inet_ntop(AF_INET6, &s6->sin6_addr, a->ip, sizeof(a->ip));
			}
		}
	}
}

/* req_finish - every host lookup is back: flatten in MX order */
static void req_finish(struct dns_req *req)
{
	struct relay_addrs *as;
	bool all_nx = true;
	size_t i;

	as = calloc(1, sizeof(*as) + RELAY_ADDRS_MAX * sizeof(as->a[0]));
	if (!as) {
		req_fail(req, false, "out of memory");
		return;
	}
	as->refs = 1;
	for (i = 0; i < req->nmx; i++) {
		addrs_add(as, req->mx[i].host, req->subs[i].ai, req->port);
		if (req->subs[i].status != ARES_ENOTFOUND &&
		    req->subs[i].status != ARES_ENODATA)
			all_nx = false;
	}
	if (as->n == 0) {
		free(as);
		req_fail_ns(req, req->mx_fallback && all_nx, "A",
		    all_nx ? "Host not found" : "Host not found, try again");
		return;
	}
	as->until_mono = dns_until(req->dns, req->ttl_ms);
	cache_put(req->dns, req->key, as->until_mono, as, NULL);
	req->cb(req->arg, as, false, NULL);
	req_free(req);
}

/* on_addrinfo - one host's addresses are back */
static void on_addrinfo(void *arg, int status, int timeouts,
    struct ares_addrinfo *ai)
{
	struct dns_sub *sub = arg;
	struct dns_req *req = sub->req;
	struct ares_addrinfo_node *n;

	for (n = status == ARES_SUCCESS && ai ? ai->nodes : NULL; n; n = n->ai_next)
		req_ttl(req, (long long)n->ai_ttl * 1000);
	sub->status = status;
	sub->ai = status == ARES_SUCCESS ? ai : NULL;
	if (status != ARES_SUCCESS && ai)
		ares_freeaddrinfo(ai);
	if (--req->pending > 0)
		return;
	if (ares_ev_destroying(req->dns->ev)) {
		req_free(req);
		return;
	}
	req_finish(req);
}

/* req_resolve_hosts - look up the address of every MX host in parallel */
static void req_resolve_hosts(struct dns_req *req)
{
	struct ares_addrinfo_hints hints;
	struct relay_dns *dns = req->dns;
	size_t i, n = req->nmx;

	if (!(req->subs = calloc(n, sizeof(*req->subs)))) {
		req_fail(req, false, "out of memory");
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	req->pending = n;
	for (i = 0; i < n; i++) {
		req->subs[i].req = req;
		/* a callback may run at once (hosts file, literals) and the
		 * last one frees REQ: touch only locals after the call */
		ares_getaddrinfo(ares_ev_channel(dns->ev), req->mx[i].host, NULL,
		    &hints, on_addrinfo, &req->subs[i]);
	}
	ares_ev_arm(dns->ev);
}

/* req_single - resolve just NAME (static next hop, or no-MX fallback) */
static void req_single(struct dns_req *req)
{
	if (!(req->mx = calloc(1, sizeof(*req->mx))) ||
	    !(req->mx[0].host = strdup(req->name))) {
		req_fail(req, false, "out of memory");
		return;
	}
	req->nmx = 1;
	req_resolve_hosts(req);
}

/* mx_rand - the shuffle's random source */
static unsigned mx_rand(void *arg)
{
	return (unsigned)random();
}

/* req_take_mx - copy the parsed MX list into REQ, sorted */
static int req_take_mx(struct dns_req *req, const struct ares_mx_reply *list)
{
	const struct ares_mx_reply *m;
	size_t n = 0;

	for (m = list; m; m = m->next)
		n++;
	if (!(req->mx = calloc(n ? n : 1, sizeof(*req->mx))))
		return -1;
	for (m = list; m && req->nmx < n; m = m->next) {
		if (!(req->mx[req->nmx].host = strdup(m->host)))
			return -1;
		req->mx[req->nmx++].pref = m->priority;
	}
	relay_mx_sort(req->mx, req->nmx, mx_rand, NULL);
	return 0;
}

/* on_mx - the MX answer */
static void on_mx(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct dns_req *req = arg;
	struct ares_mx_reply *list = NULL;
	uint32_t ttl;
	int rc;

	if (ares_ev_destroying(req->dns->ev)) {
		req_free(req);
		return;
	}
	if (status == ARES_SUCCESS) {
		rc = ares_parse_mx_reply(abuf, alen, &list);
		status = rc == ARES_SUCCESS && !list ? ARES_ENODATA : rc;
	}
	if (status == ARES_SUCCESS &&
	    relay_dns_answer_ttl(abuf, (size_t)alen, ns_t_mx, &ttl) == 0)
		req_ttl(req, (long long)ttl * 1000);
	else if (status == ARES_ENODATA || status == ARES_ENOTFOUND)
		req_negative_ttl(req, abuf, alen);
	if (status == ARES_ENODATA) {
		req->mx_fallback = true;
		req_single(req);
	} else if (status == ARES_ENOTFOUND) {
		req_fail_ns(req, true, "MX", "Host not found");
	} else if (status != ARES_SUCCESS) {
		req_fail_ns(req, false, "MX", ares_strerror(status));
	} else if (req_take_mx(req, list) < 0) {
		req_fail(req, false, "out of memory");
	} else if (relay_mx_is_null(req->mx, req->nmx)) {
		req_fail_null_mx(req);
	} else {
		req_resolve_hosts(req);
	}
	ares_free_data(list);
}

/* req_new - a request for NAME (KIND "mx" or "host"); NULL when the cache
 * answered (CB was called) or out of memory */
static struct dns_req *req_new(struct relay_dns *dns, const char *kind,
    const char *name, unsigned port, relay_dns_cb cb, void *arg)
{
	char key[DNS_KEY_MAX];
	struct dns_req *req;

	snprintf(key, sizeof(key), "%s:%s:%u", kind, name, port);
	if (cache_answer(dns, key, cb, arg))
		return NULL;
	if (!(req = calloc(1, sizeof(*req))) || !(req->name = strdup(name))) {
		free(req);
		cb(arg, NULL, false, "out of memory");
		return NULL;
	}
	snprintf(req->key, sizeof(req->key), "%s", key);
	req->ttl_ms = dns->max_ttl_ms;
	req->dns = dns;
	req->port = port;
	req->cb = cb;
	req->arg = arg;
	return req;
}

/* relay_dns_mx - MX lookup, then addresses */
void relay_dns_mx(struct relay_dns *dns, const char *domain, unsigned port,
    relay_dns_cb cb, void *arg)
{
	struct dns_req *req = req_new(dns, "mx", domain, port, cb, arg);

	if (!req)
		return;
	ares_query(ares_ev_channel(dns->ev), domain, ns_c_in, ns_t_mx, on_mx, req);
	ares_ev_arm(dns->ev);
}

/* relay_dns_host - addresses of a static next hop */
void relay_dns_host(struct relay_dns *dns, const char *host, unsigned port,
    relay_dns_cb cb, void *arg)
{
	struct dns_req *req = req_new(dns, "host", host, port, cb, arg);

	if (req)
		req_single(req);
}
