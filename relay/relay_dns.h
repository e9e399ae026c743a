/*
 * relay_dns - where to deliver a domain's mail: MX records through c-ares
 * (preference order, equal preferences shuffled, A/AAAA of the domain when it
 * has no MX, null MX / NXDOMAIN permanent, SERVFAIL / timeout temporary) and
 * the addresses of a static next hop. c-ares runs inside the libevent loop
 * (common/ares_ev.h); nothing blocks.
 *
 * Answers are cached as the records' TTLs say (the smallest TTL of the MX
 * and address records used, at least 1s, at most [relay] dns_cache); a
 * permanent failure (NXDOMAIN, null MX) is cached too, for the SOA's
 * negative TTL (RFC 2308: min of the SOA record's TTL and its minimum field)
 * or [relay] dns_negative_ttl when the answer has no SOA. Temporary failures
 * are not cached.
 */
#ifndef PH_RELAY_DNS_H
#define PH_RELAY_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "config.h"
#include "relay_route.h"

#define RELAY_ADDRS_MAX 10	/* addresses tried per destination */

struct event_base;
struct relay_dns;

/* relay_addr - one address to connect to, with the MX host it came from */
struct relay_addr {
	char host[RELAY_HOST_MAX];
	char ip[INET6_ADDRSTRLEN];
	struct sockaddr_storage sa;
	socklen_t salen;
};

/* relay_addrs - an ordered, shared (refcounted) address list */
struct relay_addrs {
	int refs;
	uint64_t until_mono;		/* valid until (clock_mono_ms), from TTLs */
	size_t n;
	struct relay_addr a[];
};

struct relay_addrs *relay_addrs_ref(struct relay_addrs *as);
void relay_addrs_unref(struct relay_addrs *as);

/* relay_mx - one MX record */
struct relay_mx {
	char *host;
	unsigned pref;
};

/* relay_mx_sort - order by preference, shuffling equal preferences with RND
 * (returns a random unsigned; ARG is passed through) */
void relay_mx_sort(struct relay_mx *mx, size_t n, unsigned (*rnd)(void *),
    void *arg);
/* relay_mx_is_null - RFC 7505 null MX: one record whose host is "." / "" */
bool relay_mx_is_null(const struct relay_mx *mx, size_t n);

/* relay_dns_cb - ADDRS (one reference for the callee) or NULL and an ERROR
 * text with PERMANENT telling a bounce from a retry */
typedef void (*relay_dns_cb)(void *arg, struct relay_addrs *addrs,
    bool permanent, const char *error);

/* relay_dns_conf - resolver settings ([relay] dns_*) */
struct relay_dns_conf {
	const struct strvec *servers;	/* "ip:port" entries, empty = resolv.conf */
	long long timeout_ms;
	long long max_ttl_ms;		/* cap on every cached answer */
	long long negative_ttl_ms;	/* permanent failures without an SOA */
};

/* relay_dns_new - NULL and *ERR (malloc'd) on failure */
struct relay_dns *relay_dns_new(struct event_base *base,
    const struct relay_dns_conf *conf, char **err);
/* relay_dns_free - pending lookups end without calling their callbacks */
void relay_dns_free(struct relay_dns *dns);
/* relay_dns_mx - the addresses of DOMAIN's mail hosts, port PORT */
void relay_dns_mx(struct relay_dns *dns, const char *domain, unsigned port,
    relay_dns_cb cb, void *arg);
/* relay_dns_host - the addresses of one next hop HOST (name or IP) */
void relay_dns_host(struct relay_dns *dns, const char *host, unsigned port,
    relay_dns_cb cb, void *arg);
/* relay_dns_sweep - drop expired cache entries */
void relay_dns_sweep(struct relay_dns *dns);

/* relay_dns_answer_ttl - the smallest TTL (seconds) of the answer records
 * of TYPE in the raw DNS message ABUF; -1 when there is none or ABUF is
 * malformed */
int relay_dns_answer_ttl(const unsigned char *abuf, size_t alen, unsigned type,
    uint32_t *ttl);
/* relay_dns_negative_ttl - RFC 2308 negative caching time of ABUF: min of
 * the authority SOA record's TTL and its minimum field; -1 without an SOA */
int relay_dns_negative_ttl(const unsigned char *abuf, size_t alen,
    uint32_t *ttl);

#endif
