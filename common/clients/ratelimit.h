/*
 * ratelimit - what every client of ph-ratelimiter must decide the same way:
 * the tenant's sending limits (its policy object, else the configured
 * defaults) as ratelimiter requests with their shard key, the cost of a
 * message and the text of a refusal, the keys of the relays' destination
 * throttles, and whether a key class fails open or closed when no
 * ratelimiter shard answers in time.
 *
 * TENANT SENDING LIMITS: a per-minute and a rolling per-day window keyed
 * "tenant:<id>:minute" / "tenant:<id>:day"; a message costs recipients *
 * ceil(size / 2 MB) (research notes section 6); a refusal reads "Maximum
 * messages sent per minute reached : limit is N" (SMTP 455 and HTTPS 400
 * LimitExceeded alike).
 *
 * Config [ratelimit] (read by the clients: ph-smtpd, ph-httpd, ph-relay,
 * phctl; the shards themselves read [ratelimiter]):
 *   default_per_minute = 18000   a tenant's limits when its object sets 0
 *   default_per_day    = 50000   (both default to [smtpd]'s keys of the
 *                                 same name when those are set)
 *   timeout            = 2000ms  deadline of a ratelimiter request (relays)
 *   auth_fail_open     = yes     auth-failure counting per client IP
 *   http_fail_open     = yes     HTTPS requests per client
 *
 * FAIL OPEN / FAIL CLOSED - what a client does with RL_UNAVAILABLE:
 *   tenant sending limits    CLOSED, fixed: the message is refused with
 *                            "451 Server error" over SMTP (the seed's
 *                            reply), a server error over HTTPS: a
 *                            temporary error the client retries. A limit
 *                            that fails open would let an outage lift
 *                            every tenant's limit.
 *   auth failures per IP     auth_fail_open (yes): an outage must not lock
 *                            every client out; "no" treats the IP as
 *                            throttled while no shard answers.
 *   HTTPS requests/client    http_fail_open (yes): likewise; "no" treats the client as over
 *                            its rate while no shard answers.
 *   relay destinations       OPEN, fixed: a throttle only protects the
 *                            receiving servers; mail keeps flowing.
 * ratelimit_pass() applies this table: callers never decide it ad hoc.
 */
#ifndef PH_RATELIMIT_H
#define PH_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "ratelimit.pb-c.h"
#include "rl_client.h"

/* ratelimit_class - the key classes, each with its own fail-open rule */
enum ratelimit_class {
	RATELIMIT_TENANT,		/* tenant:<id>:minute|day */
	RATELIMIT_AUTH,		/* auth failures per client IP */
	RATELIMIT_HTTP,		/* HTTPS requests per client */
	RATELIMIT_DEST,		/* dest:<domain>:msgs|conns */
};
const char *ratelimit_class_name(enum ratelimit_class k);

/* ratelimit_conf - the [ratelimit] section */
struct ratelimit_conf {
	long long default_per_minute;
	long long default_per_day;
	long long timeout_ms;
	bool auth_fail_open;
	bool http_fail_open;
};

/* ratelimit_config - read [ratelimit] into LC; 0, or -1 with *err (malloc'd) */
int ratelimit_config(const struct ph_config *cfg, struct ratelimit_conf *lc, char **err);

#define RATELIMIT_KEY_MAX 192
#define RATELIMIT_SEND_N 2	/* [0] per minute, [1] per day */

/* ratelimit_send - a tenant's two sending limits as ratelimiter requests
 * (filled by ratelimit_tenant; rl_client copies them) */
struct ratelimit_send {
	Ph__RateLimit limits[RATELIMIT_SEND_N];
	const Ph__RateLimit *limitp[RATELIMIT_SEND_N];
	char keys[RATELIMIT_SEND_N][RATELIMIT_KEY_MAX];
};

/* ratelimit_tenant - the two limits of TENANT_ID into SL: PER_MINUTE and
 * PER_DAY from its policy object, each 0 = the default DEF_PER_MINUTE /
 * DEF_PER_DAY. Returns the shard key to send them with (TENANT_ID), so
 * that every client (frontends, phctl) reaches the same shard. */
const char *ratelimit_tenant(struct ratelimit_send *sl, const char *tenant_id,
    uint64_t per_minute, uint64_t per_day, uint64_t def_per_minute,
    uint64_t def_per_day);

/* ratelimit_cost - NRCPT recipients * ceil(SIZE / 2 MB), at least NRCPT */
uint64_t ratelimit_cost(size_t nrcpt, size_t size);
/* ratelimit_message - "Maximum messages sent per minute|day reached : limit is N" */
void ratelimit_message(const struct rl_result *res, char *buf, size_t len);
/* ratelimit_error_type - the accepted log's errorType for a refusal */
const char *ratelimit_error_type(const struct rl_result *res);

/* ratelimit_dest_key - "dest:<destination>:msgs" or ":conns" into BUF; the
 * key is also its own shard key */
void ratelimit_dest_key(char *buf, size_t len, const char *destination, bool conns);

/* ratelimit_pass - whether RES lets the event through for class K: allowed,
 * or no answer for a class that fails open */
bool ratelimit_pass(const struct ratelimit_conf *lc, enum ratelimit_class k,
    const struct rl_result *res);

#endif
