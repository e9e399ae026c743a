/*
 * load_hist - log-linear latency histogram (HdrHistogram's layout with one
 * sub-bucket precision): the bucket of a value is found from its highest
 * set bit and the next LOAD_HIST_SUB_BITS bits, so recording is a few
 * instructions and memory never grows with the number of values.
 *
 * DIAGNOSTICS: none; values beyond the range are counted in the last bucket.
 */
#include <math.h>
#include <string.h>
#include "load_hist.h"

/* load_hist_reset - empty H */
void load_hist_reset(struct load_hist *h)
{
	memset(h, 0, sizeof(*h));
}

/* top_bit - position of the highest set bit of V (V > 0) */
static unsigned top_bit(uint64_t v)
{
	return 63u - (unsigned)__builtin_clzll(v);
}

/* load_hist_index - the bucket of V */
unsigned load_hist_index(uint64_t v)
{
	unsigned e, shift;

	if (v < LOAD_HIST_SUB)
		return (unsigned)v;
	if (v > LOAD_HIST_MAX)
		return LOAD_HIST_BUCKETS - 1;
	e = top_bit(v);
	shift = e - LOAD_HIST_SUB_BITS;
	return LOAD_HIST_SUB + shift * LOAD_HIST_SUB +
	    (unsigned)((v >> shift) - LOAD_HIST_SUB);
}

/* load_hist_bucket_low - the smallest value of bucket IDX */
uint64_t load_hist_bucket_low(unsigned idx)
{
	unsigned octave, sub;

	if (idx < LOAD_HIST_SUB)
		return idx;
	octave = (idx - LOAD_HIST_SUB) / LOAD_HIST_SUB;
	sub = (idx - LOAD_HIST_SUB) % LOAD_HIST_SUB;
	return (uint64_t)(LOAD_HIST_SUB + sub) << octave;
}

/* load_hist_bucket_width - how many values bucket IDX holds */
uint64_t load_hist_bucket_width(unsigned idx)
{
	if (idx < LOAD_HIST_SUB)
		return 1;
	return UINT64_C(1) << ((idx - LOAD_HIST_SUB) / LOAD_HIST_SUB);
}

/* load_hist_record - count V */
void load_hist_record(struct load_hist *h, uint64_t v)
{
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += (long double)v;
	h->buckets[load_hist_index(v)]++;
}

/* bucket_value - what bucket IDX stands for: its middle, within the
 * recorded range */
static uint64_t bucket_value(const struct load_hist *h, unsigned idx)
{
	uint64_t v = load_hist_bucket_low(idx) + (load_hist_bucket_width(idx) - 1) / 2;

	if (v < h->min)
		return h->min;
	return v > h->max ? h->max : v;
}

/* percentile_rank - how many values lie at or below the Q-th percentile
 * (the tolerance keeps 99.9% of 1000 at 999 despite binary fractions) */
static uint64_t percentile_rank(uint64_t count, double q)
{
	double r = ceil(q / 100.0 * (double)count - 1e-9);

	if (r < 1)
		return 1;
	return r > (double)count ? count : (uint64_t)r;
}

/* load_hist_percentile - see load_hist.h */
uint64_t load_hist_percentile(const struct load_hist *h, double q)
{
	uint64_t rank, seen = 0;
	unsigned i;

	if (h->count == 0)
		return 0;
	if (q >= 100.0)
		return h->max;
	rank = percentile_rank(h->count, q);
	for (i = 0; i < LOAD_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank)
			return bucket_value(h, i);
	}
	return h->max;
}

/* load_hist_mean - arithmetic mean of the recorded values */
double load_hist_mean(const struct load_hist *h)
{
	return h->count ? (double)(h->sum / (long double)h->count) : 0.0;
}
