/*
 * relay_tls - TLS policy table and the OpenSSL client side of STARTTLS for
 * ph-relay, through libevent's OpenSSL filter bufferevents. The negotiated
 * version and cipher are recorded with each delivery.
 *
 * DIAGNOSTICS: a bad tls_policy entry or an unreadable CA file is fatal for
 * the caller; handshake failures are reported to the session.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include "tls.h"
#include "relay_route.h"
#include "relay_tls.h"

struct tls_policy_entry {
	char *pattern;			/* lowercased, as in relay_route */
	enum relay_tls_level level;
};

struct relay_tls_policies {
	struct tls_policy_entry *v;
	size_t n;
};

static const char *const level_names[] = { "may", "encrypt", "verify" };

/* relay_tls_level_name - for logs */
const char *relay_tls_level_name(enum relay_tls_level l)
{
	return level_names[l];
}

/* level_parse - "may" / "encrypt" / "verify"; -1 otherwise */
static int level_parse(const char *s, enum relay_tls_level *l)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*l = (enum relay_tls_level)i;
			return 0;
		}
	}
	return -1;
}

/* policy_add - one "pattern=level" entry into P; -1 when malformed */
static int policy_add(struct relay_tls_policies *p, const char *entry)
{
	const char *eq = strchr(entry, '=');
	struct tls_policy_entry *e;
	size_t i;

	if (!eq || eq == entry)
		return -1;
	e = &p->v[p->n];
	if (level_parse(eq + 1, &e->level) < 0 ||
	    !(e->pattern = strndup(entry, (size_t)(eq - entry))))
		return -1;
	for (i = 0; e->pattern[i]; i++)
		e->pattern[i] = (char)tolower((unsigned char)e->pattern[i]);
	p->n++;
	return 0;
}

/* relay_tls_policies_parse - the [relay] tls_policy table */
struct relay_tls_policies *relay_tls_policies_parse(const struct strvec *entries,
    char **err)
{
	struct relay_tls_policies *p = calloc(1, sizeof(*p));
	size_t i;

	*err = NULL;
	if (!p || !(p->v = calloc(entries->n + 1, sizeof(*p->v)))) {
		free(p);
		return NULL;
	}
	for (i = 0; i < entries->n; i++) {
		if (policy_add(p, entries->v[i]) < 0) {
			if (asprintf(err, "[relay] tls_policy: bad entry \"%s\" "
			    "(want domain=may|encrypt|verify)", entries->v[i]) < 0)
				*err = NULL;
			relay_tls_policies_free(p);
			return NULL;
		}
	}
	return p;
}

/* relay_tls_policies_free - release the table */
void relay_tls_policies_free(struct relay_tls_policies *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		free(p->v[i].pattern);
	free(p->v);
	free(p);
}

/* relay_tls_policy - the most specific matching entry, else may */
enum relay_tls_level relay_tls_policy(const struct relay_tls_policies *p,
    const char *domain)
{
	enum relay_tls_level level = RELAY_TLS_MAY;
	int best = -1, m;
	size_t i;

	for (i = 0; p && i < p->n; i++) {
		m = relay_route_match(p->v[i].pattern, domain);
		if (m > best) {
			best = m;
			level = p->v[i].level;
		}
	}
	return level;
}

/* relay_tls_policies_need_verify - a verify context is needed */
bool relay_tls_policies_need_verify(const struct relay_tls_policies *p)
{
	size_t i;

	for (i = 0; p && i < p->n; i++)
		if (p->v[i].level == RELAY_TLS_VERIFY)
			return true;
	return false;
}
