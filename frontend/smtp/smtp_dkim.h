/*
 * smtp_dkim - DKIM signing of a message at the end of DATA (after the
 * ratelimiter allowed it, before it is enqueued), on a worker thread.
 */
#ifndef SMTP_DKIM_H
#define SMTP_DKIM_H

struct smtp_session;

/* smtp_dkim_done_fn - RC 0: signed (or nothing to sign); -1: signing failed,
 * the caller answers "451 Error in Processing" */
typedef void (*smtp_dkim_done_fn)(struct smtp_session *s, int rc);

/* smtp_dkim_sign - when the header From's domain has an ACTIVE DKIM key in
 * the session's tenant, sign on a worker thread (smtp_work), prepend the
 * DKIM-Signature to the body and set tx->req.body and tx->req.dkim_selector
 * (call after smtp_tx_request, with the session waiting). DONE runs once:
 * at once when there is nothing to sign or the job cannot be queued, else
 * from the loop when the worker is through; never after
 * smtp_dkim_cancel. */
void smtp_dkim_sign(struct smtp_session *s, smtp_dkim_done_fn done);
/* smtp_dkim_cancel - S goes away: its signing job ends without DONE */
void smtp_dkim_cancel(struct smtp_session *s);

#endif
