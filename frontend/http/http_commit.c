/*
 * http_commit - the end of a submission (see http_commit.h): the
 * pipeline's outcome as an OCI reply.
 *
 * Replies: 200 with {messageId (without angle brackets), envelopeId,
 * suppressedRecipients} when accepted (envelopeId: the queue id, or the
 * submission id when every recipient was suppressed); 404
 * NotAuthorizedOrNotFound "Authorization failed: address <a> not authorized
 * or not found"; 413 RequestEntityTooLarge "Message exceeds byte limit :
 * limit is <n>"; 400 CannotParseRequest "Message parse error" (a raw message
 * without a valid header); 400 LimitExceeded "Maximum messages sent per
 * minute|day reached : limit is <n>"; 503 ServiceUnavailable with
 * retry-after when a peer cannot answer (the ratelimiter, every queue
 * shard: a temporary condition the client retries, where SMTP says 451 /
 * 452); 500 InternalServerError when DKIM signing failed or memory ran out.
 * The accepted-log records are the pipeline's.
 *
 * DIAGNOSTICS: none of its own; the pipeline logs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "clock.h"
#include "http_call.h"
#include "http_commit.h"
#include "httpd.h"

/* http_commit_free - the call's op_free */
static void http_commit_free(void *op)
{
	struct http_commit *k = op;

	for (size_t i = 0; i < k->nrcpt; i++)
		free(k->rcpt[i].addr);
	submit_buf_free(&k->msg);
	json_decref(k->keep);
	free(k);
}

/* http_commit_new - a fresh id, owned by C */
struct http_commit *http_commit_new(struct http_call *c, bool raw)
{
	struct http_commit *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	k->raw = raw;
	id_new(k->id);
	k->received_ms = clock_now_ms();
	c->op = k;
	c->op_free = http_commit_free;
	return k;
}

/* http_commit_add_rcpt - a lowercased copy (names are borrowed) */
int http_commit_add_rcpt(struct http_commit *k, const char *addr, const char *name)
{
	if (k->nrcpt == HTTP_COMMIT_MAX_RCPTS || (k->rcpt[k->nrcpt].addr = strdup(addr)) == NULL)
		return -1;
	addr_lower(k->rcpt[k->nrcpt].addr);
	k->rcpt[k->nrcpt].state = SUBMIT_RCPT_NEW;
	k->rcpt_name[k->nrcpt++] = name;
	return 0;
}

/* http_commit_received - "Received: from [ip] by <host> with HTTPS ..." */
int http_commit_received(struct http_call *c, struct http_commit *k)
{
	if (submit_received(c->hd->submit, &k->msg, "HTTPS", "", c->ip, k->id,
	    k->received_ms) < 0)
		return -1;
	k->msg_start = k->msg.len;
	return 0;
}

/* http_reply_too_big - the byte limit */
void http_reply_too_big(struct http_call *c)
{
	http_reply_error(c, 413, "RequestEntityTooLarge",
	    "Message exceeds byte limit : limit is %lld", c->hd->conf.max_message_size);
}

/* commit_suppressed - suppressedRecipients: objects, or strings (raw) */
static json_t *commit_suppressed(const struct http_commit *k)
{
	json_t *a = json_array(), *v;

	for (size_t i = 0; a != NULL && i < k->nrcpt; i++) {
		if (k->rcpt[i].state != SUBMIT_RCPT_SUPPRESSED)
			continue;
		v = k->raw ? json_string(k->rcpt[i].addr) : k->rcpt_name[i] ?
		    json_pack("{s:s, s:s}", "email", k->rcpt[i].addr, "name", k->rcpt_name[i]) :
		    json_pack("{s:s}", "email", k->rcpt[i].addr);
		if (json_array_append_new(a, v) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* commit_ok - 200 EmailSubmittedResponse / EmailRawSubmittedResponse */
static void commit_ok(struct http_call *c, const struct submit_result *r)
{
	json_t *supp = commit_suppressed(c->op);
	json_t *body = supp ? json_pack("{s:s, s:s, s:o}", "messageId", r->message_id,
	    "envelopeId", r->queue_id, "suppressedRecipients", supp) : NULL;

	if (body == NULL)
		http_reply_internal(c);
	else
		http_reply_json(c, 200, body);
}

/* commit_on_done - the pipeline's outcome: the reply */
static void commit_on_done(void *arg, const struct submit_result *r)
{
	struct http_call *c = arg;
	char msg[256];

	switch (r->outcome) {
	case SUBMIT_ACCEPTED:
	case SUBMIT_ALL_SUPPRESSED:
		commit_ok(c, r);
		return;
	case SUBMIT_NOT_AUTHORIZED:
		http_reply_error(c, 404, "NotAuthorizedOrNotFound",
		    "Authorization failed: address %s not authorized or not found", r->address);
		return;
	case SUBMIT_TOO_BIG:
		http_reply_too_big(c);
		return;
	case SUBMIT_PARSE_ERROR:
		http_reply_error(c, 400, "CannotParseRequest", "Message parse error");
		return;
	case SUBMIT_RATE_LIMITED:
		ratelimit_message(&r->rate, msg, sizeof(msg));
		http_reply_error(c, 400, "LimitExceeded", "%s", msg);
		return;
	case SUBMIT_RL_UNAVAILABLE:
	case SUBMIT_STORAGE_FAILED:
		http_reply_unavailable(c);
		return;
	default:
		http_reply_internal(c);
		return;
	}
}

/* http_commit_start - envelope and message into the pipeline */
void http_commit_start(struct http_call *c)
{
	struct http_commit *k = c->op;
	struct submit_req r = {
		.channel = SUBMIT_HTTPS, .id = k->id,
		.who = { c->who.tenant_id, c->who.user_id, k->compartment_id },
		.mail_from = k->mail_from, .rcpts = k->rcpt, .nrcpt = k->nrcpt,
		.msg = &k->msg, .msg_start = k->msg_start, .msg_size = k->msg.len,
		.client_ip = c->ip, .helo = "", .received_ms = k->received_ms,
	};

	submit_start(c->hd->submit, &r, commit_on_done, c);
}
