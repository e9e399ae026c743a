/*
 * rl_client - typed client of ph-ratelimiter, used by frontends and relays.
 *
 * Keys are spread over the ratelimiter shards by a stable hash of a SHARD KEY
 * (e.g. the tenant id) over the configured shard list, so every client picks
 * the same owner, and the limits of one request (per-minute and per-day of a
 * tenant) live on one shard and are taken atomically.
 *
 * What the caller does with RL_UNAVAILABLE (no answer before the deadline) is
 * the caller's documented choice (ph-smtpd: 451 Server error).
 *
 * A frontend that must know whether the ratelimiter was reached watches
 * the shards (rl_client_watch): each is probed with a dry-run check of cost 0
 * (nothing taken, no key created) as shard_probe.h describes.
 */
#ifndef PH_RL_CLIENT_H
#define PH_RL_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include "config.h"
#include "ratelimit.pb-c.h"

struct event_base;
struct rl_client;

enum rl_status { RL_ALLOWED, RL_DENIED, RL_UNAVAILABLE };
const char *rl_status_name(enum rl_status s);

struct rl_result {
	enum rl_status status;
	int denied_index;		/* index into the limits given, -1 unless RL_DENIED */
	uint64_t limit;			/* that limit's value */
	uint64_t retry_after_ms;
};
typedef void (*rl_cb)(void *arg, const struct rl_result *res);

struct rl_client *rl_client_new(struct event_base *base, const struct strvec *endpoints,
    unsigned timeout_ms);
void rl_client_free(struct rl_client *c);
/* rl_client_take - take COST from every limit in LIMITS[0..n) or from none.
 * CB runs exactly once, later, from the loop (also on failure to send). */
void rl_client_take(struct rl_client *c, const char *shard_key,
    const Ph__RateLimit *const *limits, size_t n, uint64_t cost, rl_cb cb, void *arg);
/* rl_client_cancel - the callbacks of pending calls made with ARG never run */
void rl_client_cancel(struct rl_client *c, void *arg);
/* rl_client_watch - probe every shard from now on; CB(ARG) runs whenever a
 * shard went up or down */
void rl_client_watch(struct rl_client *c, void (*cb)(void *arg), void *arg);
/* rl_client_reached - every shard answered at least once since the watch */
bool rl_client_reached(const struct rl_client *c);
/* rl_shard_index - which of N shards owns SHARD_KEY (stable, same in every process) */
size_t rl_shard_index(const char *shard_key, size_t n);

#endif
