/*
 * rl_window - one sliding-window counter: "at most N events in any window of
 * W seconds ending now". Pure arithmetic: the time is always passed in.
 *
 * Events are kept in sub-window buckets of bucket_ms = ceil(W*1000 / 1440)
 * (42 ms for a minute, 1 min for a day, 2.5 s for an hour). A bucket remembers
 * its count and the time of its LATEST event, and stays in the window until
 * that latest event leaves it (latest + W). So:
 *   - the window never counts fewer events than really happened in the last W
 *     seconds (no burst of 2N across any edge: there are no fixed windows);
 *   - an event leaves the window at its exact time (t + W) when no later event
 *     shares its bucket, and otherwise at most bucket_ms - 1 ms late.
 * Only non-empty buckets are stored (a ring), so a key costs memory in
 * proportion to the buckets it used, at most 1441 of them.
 *
 * A clock that steps back is tolerated: events are then added to the newest
 * bucket (counted a little longer, never shorter).
 */
#ifndef PH_RL_WINDOW_H
#define PH_RL_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RL_WINDOW_SLOTS 1440		/* buckets per window */
#define RL_WINDOW_MAX_S (31u * 86400u)	/* longest window accepted */
#define RL_WINDOW_RING 2048		/* > buckets one window can hold: a
					 * bucket's storage slot is index % this */

struct rl_bucket {
	uint64_t last_ms;	/* time of the latest event in the bucket */
	uint64_t count;
};

struct rl_window {
	uint32_t window_s;
	uint32_t bucket_ms;
	uint64_t total;		/* sum of the counts in the ring */
	struct rl_bucket *ring;
	uint32_t cap, head, len;	/* oldest at head */
};

uint32_t rl_window_bucket_ms(uint32_t window_s);
void rl_window_init(struct rl_window *w, uint32_t window_s);
void rl_window_clear(struct rl_window *w);
/* rl_window_expire - drop the buckets that left the window; true when empty */
bool rl_window_expire(struct rl_window *w, uint64_t now_ms);
/* rl_window_used - events in the window ending at NOW_MS */
uint64_t rl_window_used(struct rl_window *w, uint64_t now_ms);
/* rl_window_reserve - room for one more bucket, so that the next
 * rl_window_add cannot fail. 0, or -1 when out of memory */
int rl_window_reserve(struct rl_window *w);
/* rl_window_add - count COST events at NOW_MS. 0, or -1 when out of memory */
int rl_window_add(struct rl_window *w, uint64_t now_ms, uint64_t cost);
/* rl_window_retry_after - ms until COST more fit under LIMIT (0: they fit now;
 * the window length when COST alone exceeds LIMIT) */
uint64_t rl_window_retry_after(const struct rl_window *w, uint64_t now_ms,
    uint64_t limit, uint64_t cost);

/* rl_window_len, rl_window_bucket - the Ith stored bucket, oldest first */
uint32_t rl_window_len(const struct rl_window *w);
const struct rl_bucket *rl_window_bucket(const struct rl_window *w, uint32_t i);
/* rl_window_index - the absolute bucket number of B (last_ms / bucket_ms) */
uint64_t rl_window_index(const struct rl_window *w, const struct rl_bucket *b);
/* rl_window_restore - append a bucket read from storage; buckets must come
 * oldest first. 0, or -1 when out of order or out of memory */
int rl_window_restore(struct rl_window *w, const struct rl_bucket *b);

#endif
