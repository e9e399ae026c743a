/*
 * ratelimit - tenant limits with their defaults, destination throttle keys and
 * the fail-open table of the ratelimiter's clients (see ratelimit.h).
 *
 * DIAGNOSTICS: a bad [ratelimit] value is returned as an error for the
 * caller to make fatal; nothing else fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

/* ratelimit_class_name - for logs */
const char *ratelimit_class_name(enum ratelimit_class k)
{
	switch (k) {
	case RATELIMIT_TENANT:
		return "tenant";
	case RATELIMIT_AUTH:
		return "auth";
	case RATELIMIT_HTTP:
		return "http";
	case RATELIMIT_DEST:
		return "dest";
	}
	return "unknown";
}

/* ratelimit_default - [smtpd] KEY when set (ph-smtpd's own copy of the
 * default, so that every client agrees with it), else DEF; malloc'd */
static char *ratelimit_default(const struct ph_config *cfg, const char *key, const char *def)
{
	char *v = config_get(cfg, "smtpd", key);

	return v != NULL ? v : strdup(def);
}

/* ratelimit_config - read [ratelimit] */
int ratelimit_config(const struct ph_config *cfg, struct ratelimit_conf *lc, char **err)
{
	char *per_minute = ratelimit_default(cfg, "default_per_minute", "18000");
	char *per_day = ratelimit_default(cfg, "default_per_day", "50000");
	const struct config_row rows[] = {
		{ "default_per_minute", CFG_INT, 1, 1LL << 40, per_minute, &lc->default_per_minute },
		{ "default_per_day", CFG_INT, 1, 1LL << 40, per_day, &lc->default_per_day },
		{ "timeout", CFG_MS, 10, 60000, "2000ms", &lc->timeout_ms },
		{ "auth_fail_open", CFG_BOOL, 0, -1, "yes", &lc->auth_fail_open },
		{ "http_fail_open", CFG_BOOL, 0, -1, "yes", &lc->http_fail_open },
		{ NULL, 0, 0, 0, NULL, NULL },
	};
	int rc = -1;

	if (per_minute != NULL && per_day != NULL)
		rc = config_apply(cfg, "ratelimit", rows, err);
	else if (err != NULL)
		*err = strdup("out of memory");
	free(per_minute);
	free(per_day);
	return rc;
}

/* ratelimit_tenant - the tenant's own limits, 0 meaning the default */
const char *ratelimit_tenant(struct sendlimit *sl, const char *tenant_id,
    uint64_t per_minute, uint64_t per_day, uint64_t def_per_minute,
    uint64_t def_per_day)
{
	sendlimit_init(sl, tenant_id, per_minute ? per_minute : def_per_minute,
	    per_day ? per_day : def_per_day);
	return tenant_id;
}

/* ratelimit_dest_key - the relays' shared throttle keys */
void ratelimit_dest_key(char *buf, size_t len, const char *destination, bool conns)
{
	snprintf(buf, len, "dest:%s:%s", destination, conns ? "conns" : "msgs");
}

/* ratelimit_pass - the fail-open table of ratelimit.h */
bool ratelimit_pass(const struct ratelimit_conf *lc, enum ratelimit_class k,
    const struct rl_result *res)
{
	if (res->status != RL_UNAVAILABLE)
		return res->status == RL_ALLOWED;
	switch (k) {
	case RATELIMIT_AUTH:
		return lc->auth_fail_open;
	case RATELIMIT_HTTP:
		return lc->http_fail_open;
	case RATELIMIT_DEST:
		return true;
	case RATELIMIT_TENANT:
	default:
		return false;
	}
}
