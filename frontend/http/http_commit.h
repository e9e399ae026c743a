/*
 * http_commit - the asynchronous end of a submission: authorization against
 * the policy replica, suppressions, byte limit, the tenant's sending-limit
 * token from ph-ratelimiter, the enqueue, and the one reply.
 */
#ifndef HTTP_COMMIT_H
#define HTTP_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <event2/buffer.h>

#include "addr.h"
#include "queue.pb-c.h"
#include "ratelimit.h"

struct http_call;
struct json_t;

#define HTTP_COMMIT_MAX_RCPTS 50

/* http_commit - one submission: filled by http_submit, owned by the call */
struct http_commit {
	bool raw;				/* suppressedRecipients as strings */
	char id[33];
	char message_id[260];			/* without brackets */
	char compartment_id[200];
	char mail_from[ADDR_MAX + 1];
	char header_from[ADDR_MAX + 1];
	char subject[256];
	char *rcpt[HTTP_COMMIT_MAX_RCPTS];	/* lowercased copies */
	const char *rcpt_name[HTTP_COMMIT_MAX_RCPTS];	/* display names (JSON) */
	size_t nrcpt;
	char *deliver[HTTP_COMMIT_MAX_RCPTS];	/* the ones not suppressed */
	size_t ndeliver;
	struct json_t *suppressed;
	struct evbuffer *msg;			/* the RFC 5322 message */
	uint64_t received_ms;
	struct ratelimit_send sl;
	Ph__EnqueueRequest req;
	struct json_t *keep;			/* a JSON document names point into */
};

struct http_commit *http_commit_new(bool raw);
void http_commit_free(void *op);
/* http_commit_add_rcpt - 0 or -1 (out of memory) */
int http_commit_add_rcpt(struct http_commit *k, const char *addr, const char *name);
/* http_commit_authorize - 0, or -1 after the 404 reply: MAIL_FROM and each of
 * the FROM_LIST addresses must be approved for the caller's user in the
 * compartment */
int http_commit_authorize(struct http_call *c, const char *address);
/* http_commit_start - suppressions, size, limits, enqueue, reply */
void http_commit_start(struct http_call *c);

#endif
