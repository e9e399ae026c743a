/*
 * http_submit - the data plane (/20220926): SubmitEmail (JSON) and
 * SubmitRawEmail (raw MIME). Both share the commit path with the SMTP
 * frontend's rules: approved sender in a compartment of the user (404
 * NotAuthorizedOrNotFound), suppressed recipients reported and never enqueued,
 * the byte limit (413), the tenant's sending limits (400 LimitExceeded), then
 * the enqueue; 200 only once a queue shard has synced the message.
 */
#ifndef HTTP_SUBMIT_H
#define HTTP_SUBMIT_H

struct http_call;

void http_submit_email(struct http_call *c);
void http_submit_raw(struct http_call *c);

#endif
