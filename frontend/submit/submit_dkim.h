/*
 * submit_dkim - the DKIM signing step of the submission pipeline: the
 * message is signed once, after the sending limits allowed it and before it
 * is enqueued, on a worker thread (submit_work), with the key the policy
 * replica names for the header From's domain.
 */
#ifndef SUBMIT_DKIM_H
#define SUBMIT_DKIM_H

#include "control.pb-c.h"

struct submit_buf;
struct submit_work;

/* submit_dkim_done_fn - RC 0: MSG now starts with the DKIM-Signature and
 * SELECTOR (stored in MSG's allocation, after its end) names the key; -1:
 * signing failed (logged) */
typedef void (*submit_dkim_done_fn)(void *owner, int rc, const char *selector);

/* submit_dkim_sign - sign *MSG with KEY (its fields are copied) on a worker
 * of W for OWNER; LOG_ID names the submission in logs. While the job runs
 * it holds MSG's memory (*MSG is empty); DONE(owner, ...) gives it back,
 * signed or not, later from the loop, never after submit_dkim_cancel.
 * 0, or -1 (out of memory, logged) when the job could not start: *MSG is
 * untouched and DONE is not called. */
int submit_dkim_sign(struct submit_work *w, void *owner, const Ph__DkimKey *key,
    struct submit_buf *msg, const char *log_id, submit_dkim_done_fn done);
/* submit_dkim_cancel - OWNER's job ends without DONE; the memory it holds
 * is freed */
void submit_dkim_cancel(struct submit_work *w, void *owner);

#endif
