/*
 * load_hist - a latency histogram in the manner of HdrHistogram: fixed
 * memory, any value from 0 to LOAD_HIST_MAX, and a bounded relative error.
 *
 * Values (microseconds in ph-load) below 2^LOAD_HIST_SUB_BITS are counted
 * exactly; above, every power of two [2^e, 2^(e+1)) is split into
 * 2^LOAD_HIST_SUB_BITS equal buckets, so a bucket is at most 1/128 of its
 * lowest value wide. A percentile is reported as the middle of its bucket
 * (clamped to the smallest and largest values recorded, which are kept
 * exactly): at most 1/256 (0.4%) away from the exact order statistic.
 * Values above LOAD_HIST_MAX (about 25 days in µs) count in the last
 * bucket; max stays exact.
 */
#ifndef PH_LOAD_HIST_H
#define PH_LOAD_HIST_H

#include <stdint.h>

#define LOAD_HIST_SUB_BITS	7
#define LOAD_HIST_SUB		(1u << LOAD_HIST_SUB_BITS)
#define LOAD_HIST_TOP_BIT	40	/* highest power of two with buckets */
#define LOAD_HIST_MAX		((UINT64_C(1) << (LOAD_HIST_TOP_BIT + 1)) - 1)
#define LOAD_HIST_BUCKETS	(LOAD_HIST_SUB * (LOAD_HIST_TOP_BIT - LOAD_HIST_SUB_BITS + 2))

/* load_hist - zeroed (memset or load_hist_reset) it is empty */
struct load_hist {
	uint64_t count;
	uint64_t min;			/* valid when count > 0 */
	uint64_t max;
	long double sum;		/* for the mean */
	uint64_t buckets[LOAD_HIST_BUCKETS];
};

void load_hist_reset(struct load_hist *h);
/* load_hist_record - count one value V */
void load_hist_record(struct load_hist *h, uint64_t v);
/* load_hist_percentile - the value at or below which Q percent (0 < Q <=
 * 100) of the recorded values lie: the smallest value whose bucket brings
 * the cumulative count to ceil(Q/100 * count); 0 when empty */
uint64_t load_hist_percentile(const struct load_hist *h, double q);
/* load_hist_mean - 0 when empty */
double load_hist_mean(const struct load_hist *h);

/* load_hist_index, load_hist_bucket_low, load_hist_bucket_width - the
 * bucket layout, exported for the unit tests */
unsigned load_hist_index(uint64_t v);
uint64_t load_hist_bucket_low(unsigned idx);
uint64_t load_hist_bucket_width(unsigned idx);

#endif
