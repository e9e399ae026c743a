/*
 * submit_work - CPU-heavy jobs off a frontend's event loop (SMTP AUTH's
 * scrypt, ~50 ms; the submission pipeline's DKIM signing, ~1 ms with
 * RSA-2048): a few worker threads ([smtpd] / [httpd] worker_threads) take
 * jobs from a FIFO, and each finished job comes back to the loop through a
 * pipe, where its done function runs. The loop never waits for a job.
 *
 * A job is {run, done, arg} submitted on behalf of an owner (a session or a
 * submission):
 * RUN(arg) runs on a worker thread and may touch only what ARG owns;
 * DONE(arg, cancelled) runs on the loop exactly once per submitted job and
 * releases ARG. CANCELLED is true when the owner was cancelled meanwhile
 * (RUN may then not have run): DONE must not touch the owner.
 */
#ifndef SUBMIT_WORK_H
#define SUBMIT_WORK_H

#include <stdbool.h>

struct event_base;
struct submit_work;

/* submit_work_fn - the job's computation, on a worker thread */
typedef void (*submit_work_fn)(void *arg);
/* submit_work_done_fn - the job's end, on the loop (or in submit_work_free) */
typedef void (*submit_work_done_fn)(void *arg, bool cancelled);

/* submit_work_new - NTHREADS workers (at most 16) and the wake-up pipe on
 * BASE; NULL when they cannot be started */
struct submit_work *submit_work_new(struct event_base *base, int nthreads);
/* submit_work_free - join the workers; every job left gets DONE(arg, true) */
void submit_work_free(struct submit_work *w);
/* submit_work_submit - queue RUN then DONE for OWNER. 0, or -1 when out of
 * memory (DONE is not called: ARG stays the caller's) */
int submit_work_submit(struct submit_work *w, const void *owner, submit_work_fn run,
    submit_work_done_fn done, void *arg);
/* submit_work_cancel - OWNER's jobs end with DONE(arg, true); queued ones
 * never run. W may be NULL. */
void submit_work_cancel(struct submit_work *w, const void *owner);

#endif
