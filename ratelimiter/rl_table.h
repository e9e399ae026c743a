/*
 * rl_table - every counter of one ratelimiter shard: a hash table of sliding
 * windows (rl_window.h) keyed by "<window_s>:<key>", so one key name used
 * with two window lengths is two counters.
 *
 * rl_table_check takes several limits atomically: either COST is added to
 * every window or to none. Keys are created on the first event that is
 * allowed and expire once their window is empty (rl_table_sweep).
 *
 * Durability support: every window changed since the last rl_table_flush is
 * on a dirty list, with the first bucket that changed; expired keys that had
 * been written are on a delete list.
 * The table never does I/O itself: rl_table_flush hands both lists to a
 * writer callback and forgets them only when it returned 0.
 */
#ifndef PH_RL_TABLE_H
#define PH_RL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "rl_window.h"

#define RL_MAX_LIMITS 16	/* limits in one request */
#define RL_MAX_KEY 512		/* bytes in one key */

struct rl_table;

struct rl_limit {
	const char *key;
	uint64_t limit;
	uint32_t window_s;
};

struct rl_decision {
	bool allowed;
	int denied_index;		/* first refusing limit, -1 when allowed */
	uint64_t retry_after_ms;	/* when that limit frees enough */
	uint64_t used[RL_MAX_LIMITS];	/* usage after the decision */
};

/* rl_flush_ops - how a flush reaches storage; each returns 0 or -1 */
struct rl_flush_ops {
	/* put - bucket B of window W of key NAME changed (buckets only ever
	 * change at the newest end, so a flush writes one or two per key) */
	int (*put)(void *arg, const char *name, const struct rl_window *w,
	    const struct rl_bucket *b);
	int (*del)(void *arg, const char *name);	/* key NAME expired */
	int (*commit)(void *arg);	/* make the puts and deletes durable */
	void (*abort)(void *arg);	/* drop what put/del collected */
};

struct rl_table *rl_table_new(void);
void rl_table_free(struct rl_table *t);
size_t rl_table_count(const struct rl_table *t);

/* rl_limits_valid - 0 when LIMITS can be checked (keys set and short enough,
 * windows within 1 s .. RL_WINDOW_MAX_S, no key twice); -1 with *why set */
int rl_limits_valid(const struct rl_limit *limits, size_t n, const char **why);
/* rl_table_set_max_keys - at most MAX_KEYS keys (0: no cap): a check that
 * would create more fails with ENOSPC, so a flood of new keys (one per
 * client address, say) cannot eat the process's memory */
void rl_table_set_max_keys(struct rl_table *t, size_t max_keys);
/* rl_table_check - decide (and unless DRY_RUN take) COST for every limit.
 * 0, or -1 with errno EINVAL (invalid limits), ENOSPC (key cap) or ENOMEM;
 * nothing taken then. */
int rl_table_check(struct rl_table *t, const struct rl_limit *limits, size_t n,
    uint64_t cost, bool dry_run, uint64_t now_ms, struct rl_decision *out);

/* rl_table_sweep - look at up to MAX_CHAINS hash chains (continuing where the
 * last sweep stopped) and remove keys whose window is empty; returns removed */
size_t rl_table_sweep(struct rl_table *t, uint64_t now_ms, size_t max_chains);
/* rl_table_restore - insert a window loaded from storage (taken over by the
 * table; cleared when NAME exists already or on failure). 0 or -1. */
int rl_table_restore(struct rl_table *t, const char *name, struct rl_window *w);
/* rl_table_flush - pass the dirty windows and deleted names to OPS; -1 when a
 * callback failed (everything stays dirty for the next flush) */
int rl_table_flush(struct rl_table *t, const struct rl_flush_ops *ops, void *arg);
size_t rl_table_dirty(const struct rl_table *t);

#endif
