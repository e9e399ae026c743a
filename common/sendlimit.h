/*
 * sendlimit - the tenant's sending limits as ratelimiter requests, shared by
 * the frontends (ph-smtpd, ph-httpd): a per-minute and a rolling per-day
 * window keyed "tenant:<id>:minute" / "tenant:<id>:day", the cost of a
 * message (recipients * ceil(size / 2 MB), research notes section 6) and the
 * text of a refusal ("Maximum messages sent per minute reached : limit is N",
 * SMTP 455 and HTTPS 400 LimitExceeded alike).
 */
#ifndef PH_SENDLIMIT_H
#define PH_SENDLIMIT_H

#include <stddef.h>
#include <stdint.h>
#include "ratelimit.pb-c.h"
#include "rl_client.h"

#define SENDLIMIT_KEY_MAX 192
#define SENDLIMIT_N 2		/* [0] per minute, [1] per day */

struct sendlimit {
	Ph__RateLimit limits[SENDLIMIT_N];
	const Ph__RateLimit *limitp[SENDLIMIT_N];
	char keys[SENDLIMIT_N][SENDLIMIT_KEY_MAX];
};

/* sendlimit_init - the two limits of TENANT_ID (pointers into SL) */
void sendlimit_init(struct sendlimit *sl, const char *tenant_id,
    uint64_t per_minute, uint64_t per_day);
/* sendlimit_cost - NRCPT recipients * ceil(SIZE / 2 MB), at least NRCPT */
uint64_t sendlimit_cost(size_t nrcpt, size_t size);
/* sendlimit_message - "Maximum messages sent per minute|day reached : limit is N" */
void sendlimit_message(const struct rl_result *res, char *buf, size_t len);
/* sendlimit_error_type - the accepted log's errorType for a refusal */
const char *sendlimit_error_type(const struct rl_result *res);

#endif
