/*
 * relay_dns - MX and address resolution for ph-relay with c-ares, driven by
 * the libevent loop: c-ares reports the sockets it wants watched through
 * ARES_OPT_SOCK_STATE_CB, each gets a persistent event that calls
 * ares_process_fd, and one timer follows ares_timeout() for retransmits.
 *
 * A lookup of a domain: MX query; no MX records (NODATA) -> the domain's own
 * A/AAAA (RFC 5321 5.1); a null MX (RFC 7505) or NXDOMAIN -> permanent error;
 * any other failure (SERVFAIL, timeout, refused) -> temporary error. The MX
 * hosts' addresses are looked up in parallel and flattened in MX order.
 *
 * DIAGNOSTICS: a resolver that cannot be set up is fatal for the caller;
 * lookup failures are results, not log lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ares.h>
#include <arpa/nameser.h>
#include <event2/event.h>
#include "relay_dns.h"

struct dns_watch {
	ares_socket_t fd;
	struct event *ev;
	struct dns_watch *next;
};

struct relay_dns {
	struct event_base *base;
	ares_channel channel;
	struct event *timer;
	struct dns_watch *watches;
	bool destroying;
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
	unsigned port;
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

/* ---- c-ares in libevent ---- */

static void dns_timer_arm(struct relay_dns *dns);

/* dns_on_io - a watched c-ares socket is ready */
static void dns_on_io(evutil_socket_t fd, short what, void *arg)
{
	struct relay_dns *dns = arg;

	ares_process_fd(dns->channel,
	    (what & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	dns_timer_arm(dns);
}

/* dns_on_timer - retransmits and query timeouts */
static void dns_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct relay_dns *dns = arg;

	ares_process_fd(dns->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_timer_arm(dns);
}

/* dns_timer_arm - wake up when c-ares next needs to act */
static void dns_timer_arm(struct relay_dns *dns)
{
	struct timeval tv, *t;

	if (dns->destroying)
		return;
	t = ares_timeout(dns->channel, NULL, &tv);
	if (t)
		evtimer_add(dns->timer, t);
	else
		evtimer_del(dns->timer);
}

/* dns_watch_drop - stop watching FD */
static void dns_watch_drop(struct relay_dns *dns, ares_socket_t fd)
{
	struct dns_watch **pp, *w;

	for (pp = &dns->watches; (w = *pp); pp = &w->next) {
		if (w->fd == fd) {
			*pp = w->next;
			event_free(w->ev);
			free(w);
			return;
		}
	}
}

/* dns_sock_state - c-ares says which events it wants on FD */
static void dns_sock_state(void *data, ares_socket_t fd, int readable,
    int writable)
{
	struct relay_dns *dns = data;
	struct dns_watch *w;
	short what = (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));

	dns_watch_drop(dns, fd);
	if (what == 0 || dns->destroying)
		return;
	if (!(w = calloc(1, sizeof(*w))))
		return;
	w->fd = fd;
	w->ev = event_new(dns->base, fd, what | EV_PERSIST, dns_on_io, dns);
	if (!w->ev || event_add(w->ev, NULL) < 0) {
		if (w->ev)
			event_free(w->ev);
		free(w);
		return;
	}
	w->next = dns->watches;
	dns->watches = w;
}

/* dns_set_servers - "ip:port" list as the resolver's servers */
static int dns_set_servers(struct relay_dns *dns, const struct strvec *servers,
    char **err)
{
	size_t i, len = 1;
	char *csv;
	int rc;

	for (i = 0; i < servers->n; i++)
		len += strlen(servers->v[i]) + 1;
	if (!(csv = calloc(1, len)))
		return -1;
	for (i = 0; i < servers->n; i++) {
		if (i)
			strcat(csv, ",");
		strcat(csv, servers->v[i]);
	}
	rc = ares_set_servers_ports_csv(dns->channel, csv);
	free(csv);
	if (rc != ARES_SUCCESS) {
		if (asprintf(err, "[relay] dns_servers: %s", ares_strerror(rc)) < 0)
			*err = NULL;
		return -1;
	}
	return 0;
}

/* relay_dns_new - a c-ares channel joined to BASE */
struct relay_dns *relay_dns_new(struct event_base *base,
    const struct strvec *servers, long long timeout_ms, char **err)
{
	struct ares_options opt;
	struct relay_dns *dns;
	int rc;

	*err = NULL;
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS ||
	    !(dns = calloc(1, sizeof(*dns)))) {
		if (asprintf(err, "c-ares init: %s", ares_strerror(rc)) < 0)
			*err = NULL;
		return NULL;
	}
	dns->base = base;
	memset(&opt, 0, sizeof(opt));
	opt.sock_state_cb = dns_sock_state;
	opt.sock_state_cb_data = dns;
	opt.timeout = (int)timeout_ms;
	opt.tries = 2;
	rc = ares_init_options(&dns->channel, &opt,
	    ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		if (asprintf(err, "c-ares init: %s", ares_strerror(rc)) < 0)
			*err = NULL;
		free(dns);
		return NULL;
	}
	dns->timer = evtimer_new(base, dns_on_timer, dns);
	if (servers->n > 0 && dns_set_servers(dns, servers, err) < 0) {
		relay_dns_free(dns);
		return NULL;
	}
	return dns;
}

/* relay_dns_free - cancel everything (callbacks see ARES_EDESTRUCTION) */
void relay_dns_free(struct relay_dns *dns)
{
	if (!dns)
		return;
	dns->destroying = true;
	ares_destroy(dns->channel);
	while (dns->watches)
		dns_watch_drop(dns, dns->watches->fd);
	event_free(dns->timer);
	free(dns);
	ares_library_cleanup();
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

/* req_fail - report ERROR and finish */
static void req_fail(struct dns_req *req, bool permanent, const char *error)
{
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
	req->cb(req->arg, as, false, NULL);
	req_free(req);
}

/* on_addrinfo - one host's addresses are back */
static void on_addrinfo(void *arg, int status, int timeouts,
    struct ares_addrinfo *ai)
{
	struct dns_sub *sub = arg;
	struct dns_req *req = sub->req;

	sub->status = status;
	sub->ai = status == ARES_SUCCESS ? ai : NULL;
	if (status != ARES_SUCCESS && ai)
		ares_freeaddrinfo(ai);
	if (--req->pending > 0)
		return;
	if (req->dns->destroying) {
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
		ares_getaddrinfo(dns->channel, req->mx[i].host, NULL, &hints,
		    on_addrinfo, &req->subs[i]);
	}
	dns_timer_arm(dns);
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
	int rc;

	if (req->dns->destroying) {
		req_free(req);
		return;
	}
	if (status == ARES_SUCCESS) {
		rc = ares_parse_mx_reply(abuf, alen, &list);
		status = rc == ARES_SUCCESS && !list ? ARES_ENODATA : rc;
	}
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

/* req_new - a request for NAME */
static struct dns_req *req_new(struct relay_dns *dns, const char *name,
    unsigned port, relay_dns_cb cb, void *arg)
{
	struct dns_req *req = calloc(1, sizeof(*req));

	if (!req || !(req->name = strdup(name))) {
		free(req);
		cb(arg, NULL, false, "out of memory");
		return NULL;
	}
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
	struct dns_req *req = req_new(dns, domain, port, cb, arg);

	if (!req)
		return;
	ares_query(dns->channel, domain, ns_c_in, ns_t_mx, on_mx, req);
	dns_timer_arm(dns);
}

/* relay_dns_host - addresses of a static next hop */
void relay_dns_host(struct relay_dns *dns, const char *host, unsigned port,
    relay_dns_cb cb, void *arg)
{
	struct dns_req *req = req_new(dns, host, port, cb, arg);

	if (req)
		req_single(req);
}
