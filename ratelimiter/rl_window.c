/*
 * rl_window - sliding-window counter with sub-window buckets (see rl_window.h
 * for the error bound).
 *
 * DIAGNOSTICS: none; rl_window_add and rl_window_restore return -1 when the
 * ring cannot grow.
 */
#include <stdlib.h>
#include <string.h>

#include "rl_window.h"

/* rl_window_bucket_ms - sub-window width for a window of WINDOW_S seconds */
uint32_t rl_window_bucket_ms(uint32_t window_s)
{
	uint64_t ms = (uint64_t)window_s * 1000;

	if (ms == 0)
		return 1;
	return (uint32_t)((ms + RL_WINDOW_SLOTS - 1) / RL_WINDOW_SLOTS);
}

/* rl_window_init - an empty window of WINDOW_S seconds */
void rl_window_init(struct rl_window *w, uint32_t window_s)
{
	memset(w, 0, sizeof(*w));
	w->window_s = window_s;
	w->bucket_ms = rl_window_bucket_ms(window_s);
}

/* rl_window_clear - free the ring; W is empty afterwards */
void rl_window_clear(struct rl_window *w)
{
	free(w->ring);
	rl_window_init(w, w->window_s);
}

/* rl_window_at - the Ith bucket from the oldest */
static struct rl_bucket *rl_window_at(const struct rl_window *w, uint32_t i)
{
	return &w->ring[(w->head + i) % w->cap];
}

/* rl_window_leaves - when bucket B leaves the window */
static uint64_t rl_window_leaves(const struct rl_window *w, const struct rl_bucket *b)
{
	return b->last_ms + (uint64_t)w->window_s * 1000;
}

/* rl_window_expire - drop the buckets that left the window; true when empty */
bool rl_window_expire(struct rl_window *w, uint64_t now_ms)
{
	while (w->len > 0) {
		struct rl_bucket *b = rl_window_at(w, 0);

		if (rl_window_leaves(w, b) > now_ms)
			break;
		w->total -= b->count;
		w->head = (w->head + 1) % w->cap;
		w->len--;
	}
	if (w->len == 0)
		w->head = 0;
	return w->len == 0;
}

/* rl_window_used - events in the window ending at NOW_MS */
uint64_t rl_window_used(struct rl_window *w, uint64_t now_ms)
{
	rl_window_expire(w, now_ms);
	return w->total;
}

/* rl_window_grow - double the ring, oldest first at index 0 */
static int rl_window_grow(struct rl_window *w)
{
	uint32_t cap = w->cap ? w->cap * 2 : 4;
	struct rl_bucket *ring = malloc(cap * sizeof(*ring));
	uint32_t i;

	if (ring == NULL)
		return -1;
	for (i = 0; i < w->len; i++)
		ring[i] = *rl_window_at(w, i);
	free(w->ring);
	w->ring = ring;
	w->cap = cap;
	w->head = 0;
	return 0;
}

/* rl_window_reserve - room for one more bucket */
int rl_window_reserve(struct rl_window *w)
{
	if (w->len == w->cap && rl_window_grow(w) < 0)
		return -1;
	return 0;
}

/* rl_window_add - count COST events at NOW_MS */
int rl_window_add(struct rl_window *w, uint64_t now_ms, uint64_t cost)
{
	struct rl_bucket *last;

	rl_window_expire(w, now_ms);
	if (w->len > 0) {
		last = rl_window_at(w, w->len - 1);
		if (now_ms <= last->last_ms ||
		    now_ms / w->bucket_ms == last->last_ms / w->bucket_ms) {
			if (now_ms > last->last_ms)
				last->last_ms = now_ms;
			last->count += cost;
			w->total += cost;
			return 0;
		}
	}
	if (rl_window_reserve(w) < 0)
		return -1;
	last = rl_window_at(w, w->len);
	last->last_ms = now_ms;
	last->count = cost;
	w->len++;
	w->total += cost;
	return 0;
}

/* rl_window_retry_after - ms until COST more fit under LIMIT */
uint64_t rl_window_retry_after(const struct rl_window *w, uint64_t now_ms,
    uint64_t limit, uint64_t cost)
{
	uint64_t left = w->total, leaves;
	uint32_t i;

	if (cost > limit)
		return (uint64_t)w->window_s * 1000;
	for (i = 0; i < w->len && left + cost > limit; i++)
		left -= rl_window_at(w, i)->count;
	if (i == 0)
		return 0;
	/* the Ith bucket from the oldest has to leave */
	leaves = rl_window_leaves(w, rl_window_at(w, i - 1));
	return leaves > now_ms ? leaves - now_ms : 0;
}

/* rl_window_len - stored buckets */
uint32_t rl_window_len(const struct rl_window *w)
{
	return w->len;
}

/* rl_window_bucket - the Ith stored bucket, oldest first */
const struct rl_bucket *rl_window_bucket(const struct rl_window *w, uint32_t i)
{
	return rl_window_at(w, i);
}

/* rl_window_index - the absolute bucket number of B */
uint64_t rl_window_index(const struct rl_window *w, const struct rl_bucket *b)
{
	return b->last_ms / w->bucket_ms;
}

/* rl_window_restore - append a bucket read from storage */
int rl_window_restore(struct rl_window *w, const struct rl_bucket *b)
{
	if (w->len > 0 && b->last_ms <= rl_window_at(w, w->len - 1)->last_ms)
		return -1;
	if (rl_window_reserve(w) < 0)
		return -1;
	*rl_window_at(w, w->len) = *b;
	w->len++;
	w->total += b->count;
	return 0;
}
