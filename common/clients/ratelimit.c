/*
 * ratelimit - tenant limits with their defaults, the cost and refusal text
 * of a message, destination throttle keys and the fail-open table of the
 * ratelimiter's clients (see ratelimit.h).
 *
 * DIAGNOSTICS: a bad [ratelimit] value is returned as an error for the
 * caller to make fatal; nothing else fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define RATELIMIT_COST_UNIT (2 * 1024 * 1024)

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

/* ratelimit_send_one - fill limit I of SL */
static void ratelimit_send_one(struct ratelimit_send *sl, int i, const char *tenant_id,
    const char *what, uint64_t limit, uint32_t window_s)
{
	snprintf(sl->keys[i], sizeof(sl->keys[i]), "tenant:%s:%s", tenant_id, what);
	ph__rate_limit__init(&sl->limits[i]);
	sl->limits[i].key = sl->keys[i];
	sl->limits[i].limit = limit;
	sl->limits[i].window_s = window_s;
	sl->limitp[i] = &sl->limits[i];
}

/* ratelimit_tenant - the tenant's own limits, 0 meaning the default; minute
 * first, then day (ratelimit_message relies on it) */
const char *ratelimit_tenant(struct ratelimit_send *sl, const char *tenant_id,
    uint64_t per_minute, uint64_t per_day, uint64_t def_per_minute,
    uint64_t def_per_day)
{
	ratelimit_send_one(sl, 0, tenant_id, "minute", per_minute ? per_minute : def_per_minute, 60);
	ratelimit_send_one(sl, 1, tenant_id, "day", per_day ? per_day : def_per_day, 86400);
	return tenant_id;
}

/* ratelimit_cost - one "email" per recipient per started 2 MB */
uint64_t ratelimit_cost(size_t nrcpt, size_t size)
{
	uint64_t units = (size + RATELIMIT_COST_UNIT - 1) / RATELIMIT_COST_UNIT;

	return (uint64_t)nrcpt * (units ? units : 1);
}

/* ratelimit_message - the seed's wording */
void ratelimit_message(const struct rl_result *res, char *buf, size_t len)
{
	snprintf(buf, len, "Maximum messages sent per %s reached : limit is %llu",
	    res->denied_index == 1 ? "day" : "minute", (unsigned long long)res->limit);
}

/* ratelimit_error_type - research notes 7.3 errorType values */
const char *ratelimit_error_type(const struct rl_result *res)
{
	return res->denied_index == 1 ? "Daily Limit reached" : "Sender Rate Limit reached";
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
