/*
 * load_stats - what ph-load counts and reports: verdicts by class, refused
 * recipients, connections, two latency histograms, the live progress line
 * and the final summary (text or JSON) with the exit code.
 *
 * Latencies (microseconds, reported in ms):
 *   end_of_data  from the moment the last byte of the payload and its dot
 *                was written to the socket (the output buffer drained) to
 *                the final reply: the server's work on the message (for
 *                posthaste: the synced write before 250).
 *   message      from the moment the message was due to its verdict. With
 *                --rate it was due at its scheduled start (start + i/R), so
 *                time spent waiting for a free session counts: queueing in
 *                front of a slow server is not hidden (no coordinated
 *                omission). Without --rate it was due when its session
 *                took it (MAIL FROM written): the whole transaction.
 */
#ifndef PH_LOAD_STATS_H
#define PH_LOAD_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "load_hist.h"
#include "load_opts.h"
#include "load_session.h"

struct load_stats {
	uint64_t started;			/* messages handed to sessions */
	uint64_t counts[LOAD_CLASS_COUNT];	/* verdicts by class */
	uint64_t rcpt_refused;			/* recipients refused in messages */
	char first_reply[LOAD_CLASS_COUNT][256];/* the first reply of each class */
	uint64_t connections;			/* sessions set up */
	uint64_t conn_failures;			/* set-ups failed, connections broken */
	char first_failure[512];
	struct load_hist end_of_data;
	struct load_hist message;
	uint64_t start_us;			/* the run began */
	uint64_t end_us;			/* the last verdict */
	bool interrupted;			/* stopped by SIGINT/SIGTERM */
	bool gave_up;				/* too many connection failures */
	uint64_t progress_done;			/* verdicts at the last progress line */
	uint64_t progress_us;
};

/* load_stats_new - zeroed stats starting at NOW_US; fatal_nomem */
struct load_stats *load_stats_new(uint64_t now_us);
void load_stats_free(struct load_stats *st);
/* load_stats_message - count the verdict R of message T */
void load_stats_message(struct load_stats *st, const struct load_ticket *t,
    const struct load_result *r);
/* load_stats_failure - count a connection failure (WHY kept if first) */
void load_stats_failure(struct load_stats *st, const char *why);
/* load_stats_done - messages with a verdict (lost ones included) */
uint64_t load_stats_done(const struct load_stats *st);
/* load_stats_progress - "sent N 2xx N 4xx N 5xx N lost N  R msg/s" (the
 * rate since the previous line) into OUT */
void load_stats_progress(struct load_stats *st, uint64_t now_us, char *out,
    size_t len);
/* load_stats_print - the human summary */
void load_stats_print(const struct load_stats *st, const struct load_opts *o,
    FILE *f);
/* load_stats_json - the summary as one JSON object (malloc'd text); NULL
 * when out of memory */
char *load_stats_json(const struct load_stats *st, const struct load_opts *o);
/* load_stats_exit_code - 0 every message 2xx, 1 some 4xx/5xx, 2 connection
 * failures or messages lost */
int load_stats_exit_code(const struct load_stats *st);

#endif
