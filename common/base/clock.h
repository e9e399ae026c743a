/*
 * clock - the one time seam. Every piece of code that compares times against
 * stored times (windows, schedules, retention) takes the time from here, so
 * tests can move it: PH_CLOCK_OFFSET_S in the environment shifts the wall clock
 * by that many seconds (may be negative) for the whole process.
 */
#ifndef PH_CLOCK_H
#define PH_CLOCK_H

#include <stddef.h>
#include <stdint.h>

uint64_t clock_now_ms(void);	/* unix ms + offset */
uint64_t clock_mono_ms(void);	/* monotonic ms, for durations only */
void clock_set_offset_s(int64_t offset_s);	/* for unit tests */
/* clock_date - RFC 5322 date-time of MS (UTC) into OUT (Date:, Received:) */
void clock_date(uint64_t ms, char *out, size_t len);

/* id_new - 32 lowercase hex chars of randomness + NUL (a fresh unique id) */
void id_new(char out[33]);
/* id_ocid - "ocid1.<kind>.oc1..<32 hex>" into out (at least 64 bytes) */
void id_ocid(char *out, size_t len, const char *kind);

#endif
