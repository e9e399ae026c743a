/*
 * relay_route - the static route table of [relay] routes ("domain=host:port",
 * "*.test=127.0.0.1:2526" for every subdomain of test, "*" for everything) and
 * the matching rule shared with the policy store's routes: an exact domain
 * beats any wildcard, a nearer parent wildcard beats a farther one.
 */
#ifndef PH_RELAY_ROUTE_H
#define PH_RELAY_ROUTE_H

#include <stddef.h>
#include "config.h"

#define RELAY_HOST_MAX 256

struct relay_route {
	char *pattern;			/* lowercased "example.com" / "*.test" / "*" */
	char host[RELAY_HOST_MAX];	/* next hop: name or IP (no brackets) */
	unsigned port;
};

struct relay_routes {
	struct relay_route *v;
	size_t n;
};

/* relay_routes_parse - from "pattern=host[:port]" entries; -1 and *ERR
 * (malloc'd) for a bad entry */
int relay_routes_parse(struct relay_routes *rt, const struct strvec *entries,
    unsigned default_port, char **err);
void relay_routes_free(struct relay_routes *rt);
/* relay_route_match - how well PATTERN matches DOMAIN: -1 no match, larger is
 * more specific (exact > "*.parent" by nearness > "*") */
int relay_route_match(const char *pattern, const char *domain);
/* relay_routes_lookup - best route for DOMAIN or NULL */
const struct relay_route *relay_routes_lookup(const struct relay_routes *rt,
    const char *domain);
#endif
