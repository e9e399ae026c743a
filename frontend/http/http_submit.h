/*
 * http_submit - the data plane (/20220926): SubmitEmail (JSON) and
 * SubmitRawEmail (raw MIME). Each decodes its request into an envelope and
 * an RFC 5322 message, then hands them to the submission pipeline that
 * ph-smtpd uses too (http_commit, frontend/submit): the same approved
 * senders (404 NotAuthorizedOrNotFound), suppressions (reported, never
 * enqueued), byte limit (413), sending limits (400 LimitExceeded), DKIM
 * signature and enqueue; 200 only once a queue shard has synced the message.
 */
#ifndef HTTP_SUBMIT_H
#define HTTP_SUBMIT_H

struct http_call;

void http_submit_email(struct http_call *c);
void http_submit_raw(struct http_call *c);

#endif
