/*
 * smtp_dkim - DKIM signing of a message at the end of DATA (after the
 * ratelimiter allowed it, before it is enqueued).
 */
#ifndef SMTP_DKIM_H
#define SMTP_DKIM_H

struct smtp_session;

/* smtp_dkim_sign - when the header From's domain has an ACTIVE DKIM key in
 * the session's tenant, prepend a DKIM-Signature to the body and set
 * tx->req.body and tx->req.dkim_selector (call after smtp_tx_request).
 * 0 (signed, or nothing to sign), -1 when signing failed: the caller
 * answers "451 Error in Processing". */
int smtp_dkim_sign(struct smtp_session *s);

#endif
