/*
 * clock - the time seam (PH_CLOCK_OFFSET_S) and fresh ids.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <openssl/rand.h>

#include "clock.h"

static int64_t offset_ms;
static pthread_once_t offset_once = PTHREAD_ONCE_INIT;

/* clock_load_offset - PH_CLOCK_OFFSET_S, read once (any thread may be first) */
static void
clock_load_offset(void)
{
	const char *s = getenv("PH_CLOCK_OFFSET_S");
	offset_ms = s ? strtoll(s, NULL, 10) * 1000 : 0;
}

void
clock_set_offset_s(int64_t offset_s)
{
	pthread_once(&offset_once, clock_load_offset);
	offset_ms = offset_s * 1000;
}

uint64_t
clock_now_ms(void)
{
	struct timespec ts;

	pthread_once(&offset_once, clock_load_offset);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset_ms);
}

uint64_t
clock_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* clock_date - "Tue, 02 Jan 2024 15:04:05 +0000" */
void
clock_date(uint64_t ms, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

void
id_new(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];

	/* OpenSSL's DRBG: no system call per id, unlike getrandom() */
	if (RAND_bytes(b, sizeof(b)) != 1)
		abort();	/* no randomness: nothing sane is left (log.h needs ids) */
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[32] = '\0';
}

void
id_ocid(char *out, size_t len, const char *kind)
{
	char id[33];
	id_new(id);
	snprintf(out, len, "ocid1.%s.oc1..%s", kind, id);
}
