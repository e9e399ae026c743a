/*
 * load_clock - the monotonic microsecond clock of ph-load's measurements
 * (common/base/clock.h counts milliseconds, too coarse for SMTP replies
 * on loopback).
 */
#ifndef PH_LOAD_CLOCK_H
#define PH_LOAD_CLOCK_H

#include <stdint.h>
#include <time.h>

/* load_now_us - CLOCK_MONOTONIC in microseconds */
static inline uint64_t load_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#endif
