/*
 * smtp_work - CPU-heavy jobs off the event loop (AUTH's scrypt, ~50 ms;
 * DKIM signing, ~1 ms with RSA-2048): a few worker threads take jobs from a
 * FIFO, and each finished job comes back to the loop through a pipe, where
 * its done function runs. The loop never waits for a job.
 *
 * A job is {run, done, arg} submitted on behalf of an owner (a session):
 * RUN(arg) runs on a worker thread and may touch only what ARG owns;
 * DONE(arg, cancelled) runs on the loop exactly once per submitted job and
 * releases ARG. CANCELLED is true when the owner was cancelled meanwhile
 * (RUN may then not have run): DONE must not touch the owner.
 */
#ifndef SMTP_WORK_H
#define SMTP_WORK_H

#include <stdbool.h>

struct event_base;
struct smtp_work;

/* smtp_work_fn - the job's computation, on a worker thread */
typedef void (*smtp_work_fn)(void *arg);
/* smtp_work_done_fn - the job's end, on the loop (or in smtp_work_free) */
typedef void (*smtp_work_done_fn)(void *arg, bool cancelled);

/* smtp_work_new - NTHREADS workers (at most 16) and the wake-up pipe on
 * BASE; NULL when they cannot be started */
struct smtp_work *smtp_work_new(struct event_base *base, int nthreads);
/* smtp_work_free - join the workers; every job left gets DONE(arg, true) */
void smtp_work_free(struct smtp_work *w);
/* smtp_work_submit - queue RUN then DONE for OWNER. 0, or -1 when out of
 * memory (DONE is not called: ARG stays the caller's) */
int smtp_work_submit(struct smtp_work *w, const void *owner, smtp_work_fn run,
    smtp_work_done_fn done, void *arg);
/* smtp_work_cancel - OWNER's jobs end with DONE(arg, true); queued ones
 * never run. W may be NULL. */
void smtp_work_cancel(struct smtp_work *w, const void *owner);

#endif
