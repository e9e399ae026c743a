/*
 * http_commit - a submission of ph-httpd (SubmitEmail, SubmitRawEmail):
 * its envelope and message, their way into the submission pipeline
 * (frontend/submit), and the pipeline's outcome as the one HTTPS reply.
 */
#ifndef HTTP_COMMIT_H
#define HTTP_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "submit.h"
#include "submit_buf.h"

struct http_call;
struct json_t;

#define HTTP_COMMIT_MAX_RCPTS 50

/* http_commit - one submission: filled by http_submit, owned by the call */
struct http_commit {
	bool raw;				/* suppressedRecipients as strings */
	char id[33];
	char compartment_id[200];
	char mail_from[ADDR_MAX + 1];
	struct submit_rcpt rcpt[HTTP_COMMIT_MAX_RCPTS];	/* lowercased copies */
	const char *rcpt_name[HTTP_COMMIT_MAX_RCPTS];	/* display names (JSON) */
	size_t nrcpt;
	struct submit_buf msg;			/* Received:, then the RFC 5322 message */
	size_t msg_start;			/* where the message proper begins */
	uint64_t received_ms;
	struct json_t *keep;			/* a JSON document names point into */
};

/* http_commit_new - an empty submission as C's operation state; NULL when
 * out of memory */
struct http_commit *http_commit_new(struct http_call *c, bool raw);
/* http_commit_add_rcpt - 0 or -1 (out of memory) */
int http_commit_add_rcpt(struct http_commit *k, const char *addr, const char *name);
/* http_commit_received - the message starts with its Received: line; 0 or -1 */
int http_commit_received(struct http_call *c, struct http_commit *k);
/* http_commit_start - the submission into the pipeline; the reply follows */
void http_commit_start(struct http_call *c);
/* http_reply_too_big - 413 RequestEntityTooLarge with the byte limit */
void http_reply_too_big(struct http_call *c);

#endif
