/*
 * smtp_commit - what happens after the final dot: the message goes through
 * the submission pipeline (frontend/submit), and its outcome becomes the
 * one reply to DATA. Asynchronous: the session waits in STATE_WAIT (not
 * reading) while the loop serves everyone else.
 */
#ifndef SMTP_COMMIT_H
#define SMTP_COMMIT_H

struct smtp_session;

/* smtp_commit_start - S is in STATE_WAIT with a complete message */
void smtp_commit_start(struct smtp_session *s);
/* smtp_commit_cancel - S goes away: forget its submission */
void smtp_commit_cancel(struct smtp_session *s);

#endif
