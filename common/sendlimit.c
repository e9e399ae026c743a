/*
 * sendlimit - per-minute and per-day sending limits of a tenant, as
 * ratelimiter requests, and the text of a refusal.
 *
 * DIAGNOSTICS: none.
 */
#include <stdio.h>

#include "sendlimit.h"

#define SENDLIMIT_COST_UNIT (2 * 1024 * 1024)

/* sendlimit_one - fill limit I */
static void sendlimit_one(struct sendlimit *sl, int i, const char *tenant_id,
    const char *what, uint64_t limit, uint32_t window_s)
{
	snprintf(sl->keys[i], sizeof(sl->keys[i]), "tenant:%s:%s", tenant_id, what);
	ph__rate_limit__init(&sl->limits[i]);
	sl->limits[i].key = sl->keys[i];
	sl->limits[i].limit = limit;
	sl->limits[i].window_s = window_s;
	sl->limitp[i] = &sl->limits[i];
}

/* sendlimit_init - minute first, then day (sendlimit_message relies on it) */
void sendlimit_init(struct sendlimit *sl, const char *tenant_id,
    uint64_t per_minute, uint64_t per_day)
{
	sendlimit_one(sl, 0, tenant_id, "minute", per_minute, 60);
	sendlimit_one(sl, 1, tenant_id, "day", per_day, 86400);
}

/* sendlimit_cost - one "email" per recipient per started 2 MB */
uint64_t sendlimit_cost(size_t nrcpt, size_t size)
{
	uint64_t units = (size + SENDLIMIT_COST_UNIT - 1) / SENDLIMIT_COST_UNIT;

	return (uint64_t)nrcpt * (units ? units : 1);
}

/* sendlimit_message - the seed's wording */
void sendlimit_message(const struct rl_result *res, char *buf, size_t len)
{
	snprintf(buf, len, "Maximum messages sent per %s reached : limit is %llu",
	    res->denied_index == 1 ? "day" : "minute", (unsigned long long)res->limit);
}

/* sendlimit_error_type - research notes 7.3 errorType values */
const char *sendlimit_error_type(const struct rl_result *res)
{
	return res->denied_index == 1 ? "Daily Limit reached" : "Sender Rate Limit reached";
}
