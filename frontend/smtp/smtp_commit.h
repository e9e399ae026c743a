/*
 * smtp_commit - what happens after the final dot: verdict on size and header,
 * the tenant's sending-limit token from ph-ratelimiter, the DKIM signature
 * (on a worker thread), the enqueue to a ph-queue shard, then the one reply
 * to DATA. Asynchronous: the session waits in STATE_WAIT (not reading)
 * while the loop serves everyone else.
 */
#ifndef SMTP_COMMIT_H
#define SMTP_COMMIT_H

struct smtp_session;

/* smtp_commit_start - S is in STATE_WAIT with a complete message */
void smtp_commit_start(struct smtp_session *s);
/* smtp_commit_finish - the transaction's one reply: log it per recipient
 * (ERROR_TYPE NULL when accepted), reply, and resume the session */
void smtp_commit_finish(struct smtp_session *s, const char *reply, const char *error_type);
/* smtp_commit_cancel - S goes away: forget its pending calls */
void smtp_commit_cancel(struct smtp_session *s);

#endif
