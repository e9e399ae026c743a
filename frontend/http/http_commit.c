/*
 * http_commit - the end of a submission (see http_commit.h).
 *
 * Replies: 404 NotAuthorizedOrNotFound "Authorization failed: address <a>
 * not authorized or not found"; 413 RequestEntityTooLarge "Message exceeds
 * byte limit : limit is <n>"; 400 LimitExceeded "Maximum messages sent per
 * minute|day reached : limit is <n>"; 500 InternalServerError when the
 * ratelimiter or every queue shard fails to answer (our documented choice,
 * like SMTP's 451/452: refuse rather than risk); 200 with
 * {messageId, envelopeId, suppressedRecipients}. Every recipient gets an
 * "accepted" event record, suppressed ones with errorType "Recipient
 * suppressed".
 *
 * DIAGNOSTICS: unavailable peers are warnings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "clock.h"
#include "http_call.h"
#include "http_commit.h"
#include "httpd.h"
#include "log.h"
#include "policy.h"
#include "queue_client.h"
#include "rl_client.h"

/* http_commit_new - an empty submission with a fresh id */
struct http_commit *http_commit_new(bool raw)
{
	struct http_commit *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	k->raw = raw;
	id_new(k->id);
	k->msg = evbuffer_new();
	k->suppressed = json_array();
	k->received_ms = clock_now_ms();
	if (k->msg == NULL || k->suppressed == NULL) {
		http_commit_free(k);
		return NULL;
	}
	return k;
}

/* http_commit_free - the call's op_free */
void http_commit_free(void *op)
{
	struct http_commit *k = op;

	for (size_t i = 0; i < k->nrcpt; i++)
		free(k->rcpt[i]);
	if (k->msg != NULL)
		evbuffer_free(k->msg);
	json_decref(k->suppressed);
	json_decref(k->keep);
	free(k);
}

/* http_commit_add_rcpt - a lowercased copy (names are borrowed) */
int http_commit_add_rcpt(struct http_commit *k, const char *addr, const char *name)
{
	if (k->nrcpt == HTTP_COMMIT_MAX_RCPTS || (k->rcpt[k->nrcpt] = strdup(addr)) == NULL)
		return -1;
	addr_lower(k->rcpt[k->nrcpt]);
	k->rcpt_name[k->nrcpt++] = name;
	return 0;
}

/* commit_may_use - the user may send from compartment CID */
static bool commit_may_use(const Ph__User *u, const char *cid)
{
	for (size_t i = 0; i < u->n_compartment_ids; i++)
		if (strcmp(u->compartment_ids[i], cid) == 0)
			return true;
	return false;
}

/* http_commit_authorize - approved sender in the request's compartment */
int http_commit_authorize(struct http_call *c, const char *address)
{
	struct http_commit *k = c->op;
	const Ph__User *u = policy_user(c->hd->policy, c->who.user_id);
	const Ph__Sender *s = NULL;
	char lower[ADDR_MAX + 1];

	snprintf(lower, sizeof(lower), "%s", address);
	addr_lower(lower);
	if (u != NULL && commit_may_use(u, k->compartment_id))
		s = policy_sender(c->hd->policy, c->who.tenant_id, u, lower);
	if (s != NULL)
		return 0;
	http_reply_error(c, 404, "NotAuthorizedOrNotFound",
	    "Authorization failed: address %s not authorized or not found", address);
	return -1;
}

/* commit_log - one "accepted" record for recipient I */
static void commit_log(struct http_call *c, size_t i, const char *error_type)
{
	struct http_commit *k = c->op;
	json_t *d = json_object();

	if (d == NULL)
		return;
	json_object_set_new(d, "recipient", json_string(k->rcpt[i]));
	json_object_set_new(d, "sender", json_string(k->header_from));
	json_object_set_new(d, "action", json_string("accept"));
	if (error_type != NULL)
		json_object_set_new(d, "errorType", json_string(error_type));
	json_object_set_new(d, "messageId", json_string(k->message_id));
	json_object_set_new(d, "sourceAddress", json_string(c->ip));
	json_object_set_new(d, "senderCompartmentId", json_string(k->compartment_id));
	eventlog_write("accepted", c->who.tenant_id, d);
}

/* commit_log_all - every recipient that is not suppressed */
static void commit_log_all(struct http_call *c, const char *error_type)
{
	struct http_commit *k = c->op;

	for (size_t i = 0; i < k->nrcpt; i++)
		if (policy_suppression(c->hd->policy, c->who.tenant_id, k->rcpt[i]) == NULL)
			commit_log(c, i, error_type);
}

/* commit_ok - 200 EmailSubmittedResponse / EmailRawSubmittedResponse */
static void commit_ok(struct http_call *c, const char *envelope_id)
{
	struct http_commit *k = c->op;
	json_t *r = json_pack("{s:s, s:s, s:O}", "messageId", k->message_id,
	    "envelopeId", envelope_id, "suppressedRecipients", k->suppressed);

	commit_log_all(c, NULL);
	if (r == NULL)
		http_reply_internal(c);
	else
		http_reply_json(c, 200, r);
}

/* commit_on_enqueue - the queue's answer */
static void commit_on_enqueue(void *arg, int ok, const char *queue_id)
{
	struct http_call *c = arg;

	if (!ok) {
		log_warnx("http %s: no queue shard stored the message", c->request_id);
		commit_log_all(c, "System storage error");
		http_reply_internal(c);
		return;
	}
	commit_ok(c, queue_id);
}

/* commit_enqueue - the EnqueueRequest (pointers into the commit) */
static void commit_enqueue(struct http_call *c)
{
	struct http_commit *k = c->op;
	Ph__EnqueueRequest *r = &k->req;
	size_t len = evbuffer_get_length(k->msg);

	ph__enqueue_request__init(r);
	r->tenant_id = c->who.tenant_id;
	r->user_id = c->who.user_id;
	r->compartment_id = k->compartment_id;
	r->mail_from = k->mail_from;
	r->n_rcpts = k->ndeliver;
	r->rcpts = k->deliver;
	r->body.data = evbuffer_pullup(k->msg, -1);
	r->body.len = len;
	r->client_ip = c->ip;
	r->helo = "";
	r->received_ms = k->received_ms;
	r->source = "https";
	r->message_id = k->message_id;
	r->header_from = k->header_from;
	r->subject = k->subject;
	queue_client_enqueue(c->hd->queue, r, commit_on_enqueue, c);
}

/* commit_on_rate - the ratelimiter's answer */
static void commit_on_rate(void *arg, const struct rl_result *res)
{
	struct http_call *c = arg;
	char msg[256];

	switch (res->status) {
	case RL_ALLOWED:
		commit_enqueue(c);
		return;
	case RL_DENIED:
		ratelimit_message(res, msg, sizeof(msg));
		commit_log_all(c, ratelimit_error_type(res));
		http_reply_error(c, 400, "LimitExceeded", "%s", msg);
		return;
	default:
		log_warnx("http %s: ratelimiter unavailable", c->request_id);
		commit_log_all(c, "Server error");
		http_reply_internal(c);
		return;
	}
}

/* commit_suppress - split recipients into suppressed and to deliver */
static int commit_suppress(struct http_call *c)
{
	struct http_commit *k = c->op;
	json_t *v;

	for (size_t i = 0; i < k->nrcpt; i++) {
		if (policy_suppression(c->hd->policy, c->who.tenant_id, k->rcpt[i]) == NULL) {
			k->deliver[k->ndeliver++] = k->rcpt[i];
			continue;
		}
		commit_log(c, i, "Recipient suppressed");
		v = k->raw ? json_string(k->rcpt[i]) : k->rcpt_name[i] ?
		    json_pack("{s:s, s:s}", "email", k->rcpt[i], "name", k->rcpt_name[i]) :
		    json_pack("{s:s}", "email", k->rcpt[i]);
		if (json_array_append_new(k->suppressed, v) == -1)
			return -1;
	}
	return 0;
}

/* commit_limits - the tenant's limits, the configured defaults for 0 */
static void commit_limits(struct http_call *c)
{
	struct http_commit *k = c->op;
	const struct httpd_conf *conf = &c->hd->conf;
	const Ph__Tenant *t = policy_tenant(c->hd->policy, c->who.tenant_id);
	const char *shard_key;

	shard_key = ratelimit_tenant(&k->sl, c->who.tenant_id, t ? t->per_minute : 0,
	    t ? t->per_day : 0, (uint64_t)conf->default_per_minute,
	    (uint64_t)conf->default_per_day);
	rl_client_take(c->hd->rl, shard_key, k->sl.limitp, RATELIMIT_SEND_N,
	    ratelimit_cost(k->ndeliver, evbuffer_get_length(k->msg)), commit_on_rate, c);
}

/* http_commit_start - byte limit, suppressions, then the ratelimiter */
void http_commit_start(struct http_call *c)
{
	struct http_commit *k = c->op;
	long long max = c->hd->conf.max_message_size;

	if ((long long)evbuffer_get_length(k->msg) > max) {
		commit_log_all(c, "Byte limit exceeded");
		http_reply_error(c, 413, "RequestEntityTooLarge",
		    "Message exceeds byte limit : limit is %lld", max);
		return;
	}
	if (commit_suppress(c) == -1) {
		http_reply_internal(c);
		return;
	}
	if (k->ndeliver == 0) {
		commit_ok(c, k->id);
		return;
	}
	commit_limits(c);
}
