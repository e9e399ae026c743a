/*
 * relay_dns - where to deliver a domain's mail: MX records through c-ares
 * (preference order, equal preferences shuffled, A/AAAA of the domain when it
 * has no MX, null MX / NXDOMAIN permanent, SERVFAIL / timeout temporary) and
 * the addresses of a static next hop. c-ares runs inside the libevent loop
 * (its sockets are watched with events, ares_process_fd); nothing blocks.
 */
#ifndef PH_RELAY_DNS_H
#define PH_RELAY_DNS_H

#include <stdbool.h>
#include <stddef.h>
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

/* relay_dns_new - SERVERS: "ip:port" entries, empty = resolv.conf. NULL and
 * *ERR (malloc'd) on failure */
struct relay_dns *relay_dns_new(struct event_base *base,
    const struct strvec *servers, long long timeout_ms, char **err);
/* relay_dns_free - pending lookups end without calling their callbacks */
void relay_dns_free(struct relay_dns *dns);
/* relay_dns_mx - the addresses of DOMAIN's mail hosts, port PORT */
void relay_dns_mx(struct relay_dns *dns, const char *domain, unsigned port,
    relay_dns_cb cb, void *arg);
/* relay_dns_host - the addresses of one next hop HOST (name or IP) */
void relay_dns_host(struct relay_dns *dns, const char *host, unsigned port,
    relay_dns_cb cb, void *arg);

#endif
