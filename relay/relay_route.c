/*
 * relay_route - static next-hop routes from the config file (like Postfix's
 * transport map): parsing and the exact/wildcard matching rule.
 *
 * DIAGNOSTICS: a malformed entry is a config error (reported to the caller,
 * which treats it as fatal).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "addr.h"
#include "relay_route.h"

/* route_trim - copy S[0..n) without surrounding blanks, lowercased */
static char *route_trim(const char *s, size_t n)
{
	char *out;
	size_t i;

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (!(out = strndup(s, n)))
		return NULL;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return out;
}

/* route_parse_one - one "pattern=host:port" entry into R */
static int route_parse_one(struct relay_route *r, const char *entry,
    unsigned default_port)
{
	const char *eq = strchr(entry, '=');
	char *hop;
	int rc;

	if (!eq || eq == entry)
		return -1;
	if (!(r->pattern = route_trim(entry, (size_t)(eq - entry))))
		return -1;
	if (!(hop = route_trim(eq + 1, strlen(eq + 1))))
		return -1;
	rc = hostport_parse(hop, r->host, sizeof(r->host), &r->port,
	    default_port);
	free(hop);
	if (rc < 0 || r->pattern[0] == '\0')
		return -1;
	return 0;
}

/* relay_routes_parse - the whole [relay] routes list */
int relay_routes_parse(struct relay_routes *rt, const struct strvec *entries,
    unsigned default_port, char **err)
{
	size_t i;

	rt->n = 0;
	if (!(rt->v = calloc(entries->n + 1, sizeof(*rt->v))))
		return -1;
	for (i = 0; i < entries->n; i++) {
		rt->n++;
		if (route_parse_one(&rt->v[i], entries->v[i], default_port) < 0) {
			if (err && asprintf(err, "[relay] routes: bad entry \"%s\""
			    " (want domain=host:port)", entries->v[i]) < 0)
				*err = NULL;
			relay_routes_free(rt);
			return -1;
		}
	}
	return 0;
}

/* relay_routes_free - release the table */
void relay_routes_free(struct relay_routes *rt)
{
	size_t i;

	for (i = 0; i < rt->n; i++)
		free(rt->v[i].pattern);
	free(rt->v);
	rt->v = NULL;
	rt->n = 0;
}

/* relay_route_match - specificity of PATTERN for DOMAIN, -1 when no match.
 * exact: 10000; "*.suffix": 1 + length of suffix (nearer parent = longer);
 * "*": 0. */
int relay_route_match(const char *pattern, const char *domain)
{
	size_t pl, dl = strlen(domain);

	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	if (strcmp(pattern, "*") == 0)
		return 0;
	if (pattern[0] == '*' && pattern[1] == '.') {
		pl = strlen(pattern + 1);	/* ".suffix" */
		if (dl > pl && strncasecmp(domain + dl - pl, pattern + 1, pl) == 0)
			return 1 + (int)pl;
		return -1;
	}
	pl = strlen(pattern);
	return pl == dl && strncasecmp(pattern, domain, dl) == 0 ? 10000 : -1;
}

/* relay_routes_lookup - the most specific matching route */
const struct relay_route *relay_routes_lookup(const struct relay_routes *rt,
    const char *domain)
{
	const struct relay_route *best = NULL;
	int m, bestm = -1;
	size_t i;

	for (i = 0; i < rt->n; i++) {
		m = relay_route_match(rt->v[i].pattern, domain);
		if (m > bestm) {
			bestm = m;
			best = &rt->v[i];
		}
	}
	return best;
}
