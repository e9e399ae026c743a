/*
 * submit - the submission pipeline (see submit.h for the steps).
 *
 * A submission is malloc'd by submit_start and lives on the service's
 * pending list until it ends: the calls to ph-ratelimiter, the worker pool
 * and ph-queue are made with the submission as their argument, so that
 * submit_cancel (by the frontend's ARG) can forget them. Every step ends in
 * either the next step or submit_finish, which writes the records, unlinks
 * the submission, calls DONE and frees it: nothing touches a submission
 * after submit_finish. DONE may start the next submission for the same ARG
 * (an SMTP client's pipelined next message).
 *
 * Recipients are classified (suppressed or not) before any step decides,
 * so that the records of a refused message name its suppressed recipients
 * the same way whether SMTP checked them at RCPT or the pipeline did.
 *
 * DIAGNOSTICS: refusals by peers (ratelimiter unavailable, no queue shard
 * stored the message) are warnings, parse errors and refused senders debug
 * lines: "submit <id>: ...".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "addr.h"
#include "clock.h"
#include "log.h"
#include "policy.h"
#include "queue_client.h"
#include "ratelimit.h"
#include "submit.h"
#include "submit_buf.h"
#include "submit_dkim.h"
#include "submit_header.h"
#include "submit_log.h"
#include "submit_work.h"

#define SUBMIT_ID_MAX 256

struct submit {
	LIST_ENTRY(submit) entry;
	struct submit_service *svc;
	struct submit_req req;
	submit_done_fn done;
	void *arg;
	struct submit_header hdr;
	char message_id[SUBMIT_HEADER_VALUE_MAX];	/* bare */
	char message_id_field[SUBMIT_HEADER_VALUE_MAX + 2];	/* as in the header */
	char header_from[ADDR_MAX + 1];		/* first mailbox of From */
	char compartment[SUBMIT_ID_MAX];	/* the approved sender's */
	char refused[ADDR_MAX + 1];		/* NOT_AUTHORIZED's address */
	struct rl_result rate;
	char **deliver;				/* recipients to deliver */
	size_t ndeliver;
	struct ratelimit_send sl;
	Ph__EnqueueRequest enq;
};

LIST_HEAD(submit_list, submit);

struct submit_service {
	struct submit_conf conf;
	char *hostname;
	struct submit_work *work;	/* NULL without threads */
	struct submit_list pending;
};

/* outcome_rows - the SMTP form of each outcome (accepted log, SMTP reply);
 * the texts that name an address or a limit are submit_status's */
static const struct {
	const char *name, *status, *error_type;
} outcome_rows[SUBMIT_OUTCOME_COUNT] = {
	[SUBMIT_ACCEPTED] = { "accepted", "", NULL },
	[SUBMIT_ALL_SUPPRESSED] = { "all-suppressed", "", NULL },
	[SUBMIT_NOT_AUTHORIZED] = { "not-authorized", NULL, "Authorization failure" },
	[SUBMIT_TOO_BIG] = { "too-big", "552 Exceeds byte limit", "Byte limit exceeded" },
	[SUBMIT_PARSE_ERROR] = { "parse-error", "554 Message parse error", "Message parse error" },
	[SUBMIT_RATE_LIMITED] = { "rate-limited", NULL, NULL },
	[SUBMIT_RL_UNAVAILABLE] = { "ratelimiter-unavailable", "451 Server error", "Server error" },
	[SUBMIT_SIGN_FAILED] = { "sign-failed", "451 Error in Processing", "Error in Processing" },
	[SUBMIT_STORAGE_FAILED] = { "storage-failed", "452 System storage error",
	    "System storage error" },
	[SUBMIT_NOMEM] = { "out-of-memory", "451 Server error", "Server error" },
};

/* submit_channel_name - the EnqueueRequest's source */
const char *
submit_channel_name(enum submit_channel c)
{
	return c == SUBMIT_HTTPS ? "https" : "smtp";
}

/* submit_outcome_name - for logs */
const char *
submit_outcome_name(enum submit_outcome o)
{
	return (unsigned)o < SUBMIT_OUTCOME_COUNT ? outcome_rows[o].name : "?";
}

/* submit_status - "552 Exceeds byte limit" and the like */
void
submit_status(const struct submit_result *r, char *buf, size_t len)
{
	char msg[256];

	switch (r->outcome) {
	case SUBMIT_NOT_AUTHORIZED:
		snprintf(buf, len, "535 Authorization failed: address %s not authorized",
		    r->address[0] ? r->address : "<>");
		break;
	case SUBMIT_RATE_LIMITED:
		ratelimit_message(&r->rate, msg, sizeof(msg));
		snprintf(buf, len, "455 %s", msg);
		break;
	default:
		snprintf(buf, len, "%s", (unsigned)r->outcome < SUBMIT_OUTCOME_COUNT ?
		    outcome_rows[r->outcome].status : "451 Server error");
		break;
	}
}

/* submit_error_type - the accepted log's errorType */
const char *
submit_error_type(const struct submit_result *r)
{
	if (r->outcome == SUBMIT_RATE_LIMITED)
		return ratelimit_error_type(&r->rate);
	return (unsigned)r->outcome < SUBMIT_OUTCOME_COUNT ?
	    outcome_rows[r->outcome].error_type : "Server error";
}

/* submit_received - the Received: line that starts the message */
int
submit_received(const struct submit_service *svc, struct submit_buf *msg,
    const char *protocol, const char *helo, const char *client_ip, const char *id,
    uint64_t ms)
{
	char date[64];

	clock_date(ms, date, sizeof(date));
	msg->len = 0;
	if (helo[0] != '\0')
		return submit_buf_printf(msg, "Received: from %s (%s)\r\n\tby %s (posthaste) "
		    "with %s id %.16s;\r\n\t%s\r\n", helo, client_ip, svc->hostname, protocol,
		    id, date);
	return submit_buf_printf(msg, "Received: from [%s]\r\n\tby %s (posthaste) "
	    "with %s id %.16s;\r\n\t%s\r\n", client_ip, svc->hostname, protocol, id, date);
}

/* submit_sender_check - an approved sender of the tenant, in a compartment
 * the user may use (any compartment for a trusted client) */
int
submit_sender_check(const struct submit_service *svc, const struct submit_ident *who,
    const char *address, char *compartment, size_t len)
{
	struct policy *p = svc->conf.policy;
	const Ph__User *user = NULL;
	const Ph__Sender *s;

	if (p == NULL || address[0] == '\0' || who->tenant_id[0] == '\0')
		return -1;
	if (who->user_id[0] != '\0' && ((user = policy_user(p, who->user_id)) == NULL ||
	    (who->compartment_id[0] != '\0' && !policy_user_may_use(user, who->compartment_id))))
		return -1;
	if ((s = policy_sender(p, who->tenant_id, user, address)) == NULL)
		return -1;
	if (compartment != NULL)
		snprintf(compartment, len, "%s", s->compartment_id);
	return 0;
}

/* submit_rcpt_check - suppressed in the tenant, or to deliver */
enum submit_rcpt_state
submit_rcpt_check(const struct submit_service *svc, const struct submit_ident *who,
    const char *address)
{
	if (svc->conf.policy != NULL &&
	    policy_suppression(svc->conf.policy, who->tenant_id, address) != NULL)
		return SUBMIT_RCPT_SUPPRESSED;
	return SUBMIT_RCPT_DELIVER;
}

/* submit_free - the submission's own memory */
static void
submit_free(struct submit *sub)
{
	free(sub->deliver);
	free(sub);
}

/* submit_log - the records of every recipient for result R */
static void
submit_log(const struct submit *sub, const struct submit_result *r)
{
	struct submit_record base = { 0 };
	char status[ADDR_MAX + 256];

	submit_status(r, status, sizeof(status));
	base.tenant_id = sub->req.who.tenant_id;
	base.sender = sub->header_from[0] ? sub->header_from : sub->req.mail_from;
	base.error_type = submit_error_type(r);
	base.status = status;
	base.message_id = sub->message_id[0] ? sub->message_id : sub->req.id;
	base.client_ip = sub->req.client_ip;
	base.compartment_id = sub->compartment;
	submit_log_rcpts(&base, sub->req.rcpts, sub->req.nrcpt, &sub->req.who);
}

/* submit_finish - records, then DONE; SUB is gone afterwards */
static void
submit_finish(struct submit *sub, enum submit_outcome outcome, const char *queue_id)
{
	struct submit_result r = { outcome, queue_id ? queue_id : "", sub->message_id,
	    sub->refused, sub->rate };

	log_debug("submit %s: %s %s", sub->req.id, submit_channel_name(sub->req.channel),
	    submit_outcome_name(outcome));
	submit_log(sub, &r);
	LIST_REMOVE(sub, entry);
	sub->done(sub->arg, &r);
	submit_free(sub);
}

/* submit_on_enqueue - the queue's answer */
static void
submit_on_enqueue(void *arg, int ok, const char *queue_id)
{
	struct submit *sub = arg;

	if (!ok) {
		log_warnx("submit %s: no queue shard stored the message", sub->req.id);
		submit_finish(sub, SUBMIT_STORAGE_FAILED, NULL);
		return;
	}
	submit_finish(sub, SUBMIT_ACCEPTED, queue_id);
}

/* submit_enqueue - the EnqueueRequest (pointers into the submission and
 * the request) to a queue shard */
static void
submit_enqueue(struct submit *sub, const char *selector)
{
	const struct submit_req *q = &sub->req;
	Ph__EnqueueRequest *r = &sub->enq;

	ph__enqueue_request__init(r);
	r->tenant_id = (char *)q->who.tenant_id;
	r->user_id = (char *)q->who.user_id;
	r->compartment_id = sub->compartment;
	r->mail_from = (char *)q->mail_from;
	r->n_rcpts = sub->ndeliver;
	r->rcpts = sub->deliver;
	r->body.data = (uint8_t *)q->msg->p;
	r->body.len = q->msg->len;
	r->client_ip = (char *)q->client_ip;
	r->helo = (char *)q->helo;
	r->received_ms = q->received_ms;
	r->source = (char *)submit_channel_name(q->channel);
	r->message_id = sub->message_id_field;
	r->header_from = sub->header_from;
	r->subject = (char *)submit_header_get(&sub->hdr, HF_SUBJECT);
	if (selector != NULL)
		r->dkim_selector = (char *)selector;
	queue_client_enqueue(sub->svc->conf.queue, r, submit_on_enqueue, sub);
}

/* submit_on_signed - signed (or not): to a queue shard */
static void
submit_on_signed(void *owner, int rc, const char *selector)
{
	struct submit *sub = owner;

	if (rc < 0)
		submit_finish(sub, SUBMIT_SIGN_FAILED, NULL);
	else
		submit_enqueue(sub, selector);
}

/* submit_sign - DKIM when the header From's domain has an ACTIVE key */
static void
submit_sign(struct submit *sub)
{
	const struct submit_service *svc = sub->svc;
	const char *domain = addr_domain(sub->header_from);
	const Ph__DkimKey *k = NULL;

	if (domain[0] != '\0' && svc->conf.policy != NULL)
		k = policy_dkim_for_domain(svc->conf.policy, sub->req.who.tenant_id, domain);
	if (k == NULL) {
		submit_enqueue(sub, NULL);
		return;
	}
	if (svc->work == NULL ||
	    submit_dkim_sign(svc->work, sub, k, sub->req.msg, sub->req.id, submit_on_signed) < 0)
		submit_finish(sub, SUBMIT_SIGN_FAILED, NULL);
}

/* submit_on_rate - the ratelimiter's answer */
static void
submit_on_rate(void *arg, const struct rl_result *res)
{
	struct submit *sub = arg;

	sub->rate = *res;
	switch (res->status) {
	case RL_ALLOWED:
		submit_sign(sub);
		return;
	case RL_DENIED:
		submit_finish(sub, SUBMIT_RATE_LIMITED, NULL);
		return;
	case RL_UNAVAILABLE:
	default:
		log_warnx("submit %s: ratelimiter unavailable", sub->req.id);
		submit_finish(sub, SUBMIT_RL_UNAVAILABLE, NULL);
		return;
	}
}

/* submit_limits - take the tenant's tokens: its limits, the configured
 * defaults for 0 (keys: ratelimit.h; rl_client copies them) */
static void
submit_limits(struct submit *sub)
{
	const struct submit_conf *c = &sub->svc->conf;
	const char *tenant = sub->req.who.tenant_id;
	const Ph__Tenant *t = c->policy ? policy_tenant(c->policy, tenant) : NULL;
	const char *shard_key;

	shard_key = ratelimit_tenant(&sub->sl, tenant, t ? t->per_minute : 0,
	    t ? t->per_day : 0, c->default_per_minute, c->default_per_day);
	rl_client_take(c->rl, shard_key, sub->sl.limitp, RATELIMIT_SEND_N,
	    ratelimit_cost(sub->ndeliver, sub->req.msg->len), submit_on_rate, sub);
}

/* submit_classify - the state of every recipient not checked yet */
static void
submit_classify(struct submit *sub)
{
	for (size_t i = 0; i < sub->req.nrcpt; i++)
		if (sub->req.rcpts[i].state == SUBMIT_RCPT_NEW)
			sub->req.rcpts[i].state = submit_rcpt_check(sub->svc, &sub->req.who,
			    sub->req.rcpts[i].addr);
}

/* submit_deliver - the recipients to deliver; 0 or -1 (out of memory) */
static int
submit_deliver(struct submit *sub)
{
	const struct submit_req *q = &sub->req;

	if ((sub->deliver = calloc(q->nrcpt ? q->nrcpt : 1, sizeof(char *))) == NULL)
		return -1;
	for (size_t i = 0; i < q->nrcpt; i++)
		if (q->rcpts[i].state == SUBMIT_RCPT_DELIVER)
			sub->deliver[sub->ndeliver++] = q->rcpts[i].addr;
	return 0;
}

/* from_first - addr_list_parse callback: keep the first mailbox */
static void
from_first(void *arg, const char *mailbox)
{
	struct submit *sub = arg;

	if (sub->header_from[0] == '\0')
		snprintf(sub->header_from, sizeof(sub->header_from), "%s", mailbox);
}

/* from_check - addr_list_parse callback: remember the first refusal; the
 * first mailbox's approved sender names the compartment */
static void
from_check(void *arg, const char *mailbox)
{
	struct submit *sub = arg;
	bool first = strcmp(mailbox, sub->header_from) == 0 && sub->compartment[0] == '\0';

	if (sub->refused[0] == '\0' && submit_sender_check(sub->svc, &sub->req.who, mailbox,
	    first ? sub->compartment : NULL, sizeof(sub->compartment)) < 0)
		snprintf(sub->refused, sizeof(sub->refused), "%s", mailbox);
}

/* submit_from - header_from: the first mailbox of From (the raw value when
 * it has none) */
static void
submit_from(struct submit *sub)
{
	const char *from = submit_header_get(&sub->hdr, HF_FROM);

	if (addr_list_parse(from, strlen(from), from_first, sub) <= 0)
		snprintf(sub->header_from, sizeof(sub->header_from), "%s", from);
}

/* submit_authorized - step 3: 0, or -1 with sub->refused set */
static int
submit_authorized(struct submit *sub)
{
	const char *from = submit_header_get(&sub->hdr, HF_FROM);

	if (submit_sender_check(sub->svc, &sub->req.who, sub->req.mail_from, NULL, 0) < 0) {
		snprintf(sub->refused, sizeof(sub->refused), "%s", sub->req.mail_from);
	} else if (addr_list_parse(from, strlen(from), from_check, sub) <= 0) {
		snprintf(sub->refused, sizeof(sub->refused), "%.*s", ADDR_MAX, from);
	}
	if (sub->refused[0] == '\0' && sub->req.mail_from[0] != '\0')
		return 0;	/* the null sender is refused as "<>" */
	log_debug("submit %s: %s may not send as %s", sub->req.id, sub->req.client_ip,
	    sub->refused[0] ? sub->refused : "<>");
	return -1;
}

/* submit_message_id - the Message-ID, generated and inserted after the
 * frontend's Received: line when the message has none; 0 or -1 (out of
 * memory) */
static int
submit_message_id(struct submit *sub)
{
	char line[SUBMIT_HEADER_VALUE_MAX + 32];
	int n;

	if (sub->message_id[0] != '\0') {
		snprintf(sub->message_id_field, sizeof(sub->message_id_field), "%s",
		    submit_header_get(&sub->hdr, HF_MESSAGE_ID));
		return 0;
	}
	snprintf(sub->message_id, sizeof(sub->message_id), "%s@%s", sub->req.id,
	    sub->svc->hostname);
	snprintf(sub->message_id_field, sizeof(sub->message_id_field), "<%s>", sub->message_id);
	n = snprintf(line, sizeof(line), "Message-ID: %s\r\n", sub->message_id_field);
	return submit_buf_insert(sub->req.msg, sub->req.msg_start, line, (size_t)n);
}

/* submit_scan - step 2: 0 when the header is valid */
static int
submit_scan(struct submit *sub)
{
	const struct submit_buf *m = sub->req.msg;
	size_t start = sub->req.msg_start <= m->len ? sub->req.msg_start : m->len;

	if (submit_header_scan(&sub->hdr, m->p + start, m->len - start) < 0) {
		log_debug("submit %s: message parse error: %s", sub->req.id, sub->hdr.error);
		return -1;
	}
	submit_header_msgid(&sub->hdr, sub->message_id, sizeof(sub->message_id));
	submit_from(sub);
	return 0;
}

/* submit_check - the steps that need no peer, then the ratelimiter */
static void
submit_check(struct submit *sub)
{
	const struct submit_req *q = &sub->req;
	int parsed;

	submit_classify(sub);
	parsed = q->msg->p != NULL ? submit_scan(sub) : -1;	/* for the records too */
	if (q->msg_nomem)
		submit_finish(sub, SUBMIT_NOMEM, NULL);
	else if (q->msg_size > sub->svc->conf.max_message_size)
		submit_finish(sub, SUBMIT_TOO_BIG, NULL);
	else if (parsed < 0)
		submit_finish(sub, SUBMIT_PARSE_ERROR, NULL);
	else if (submit_message_id(sub) < 0 || submit_deliver(sub) < 0)
		submit_finish(sub, SUBMIT_NOMEM, NULL);
	else if (submit_authorized(sub) < 0)
		submit_finish(sub, SUBMIT_NOT_AUTHORIZED, NULL);
	else if (sub->ndeliver == 0)
		submit_finish(sub, SUBMIT_ALL_SUPPRESSED, q->id);
	else
		submit_limits(sub);
}

/* submit_start - a new submission through the steps */
void
submit_start(struct submit_service *svc, const struct submit_req *req,
    submit_done_fn done, void *arg)
{
	struct submit *sub = calloc(1, sizeof(*sub));
	struct submit_result r = { SUBMIT_NOMEM, "", "", "", { RL_UNAVAILABLE, -1, 0, 0 } };

	if (sub == NULL) {
		log_warnx("submit %s: out of memory", req->id);
		done(arg, &r);
		return;
	}
	sub->svc = svc;
	sub->req = *req;
	sub->done = done;
	sub->arg = arg;
	LIST_INSERT_HEAD(&svc->pending, sub, entry);
	submit_check(sub);
}

/* submit_abandon - forget SUB's pending calls and free it */
static void
submit_abandon(struct submit *sub)
{
	const struct submit_conf *c = &sub->svc->conf;

	if (c->rl != NULL)
		rl_client_cancel(c->rl, sub);
	if (c->queue != NULL)
		queue_client_cancel(c->queue, sub);
	if (sub->svc->work != NULL)
		submit_dkim_cancel(sub->svc->work, sub);
	LIST_REMOVE(sub, entry);
	submit_free(sub);
}

/* submit_cancel - ARG's submission, if one is pending */
void
submit_cancel(struct submit_service *svc, void *arg)
{
	struct submit *sub;

	LIST_FOREACH(sub, &svc->pending, entry)
		if (sub->arg == arg) {
			submit_abandon(sub);
			return;
		}
}

/* submit_service_xnew - copy of CONF and its hostname, the worker pool */
struct submit_service *
submit_service_xnew(struct event_base *base, const struct submit_conf *conf)
{
	struct submit_service *svc = calloc(1, sizeof(*svc));

	if (svc == NULL || (svc->hostname = strdup(conf->hostname)) == NULL)
		fatal_nomem(__func__);
	svc->conf = *conf;
	svc->conf.hostname = svc->hostname;
	LIST_INIT(&svc->pending);
	if (conf->worker_threads > 0 &&
	    (svc->work = submit_work_new(base, conf->worker_threads)) == NULL)
		fatalx("cannot start the worker threads");
	return svc;
}

/* submit_service_work - the pool */
struct submit_work *
submit_service_work(const struct submit_service *svc)
{
	return svc->work;
}

/* submit_service_free - cancel what is pending, then free */
void
submit_service_free(struct submit_service *svc)
{
	if (svc == NULL)
		return;
	while (!LIST_EMPTY(&svc->pending))
		submit_abandon(LIST_FIRST(&svc->pending));
	submit_work_free(svc->work);
	free(svc->hostname);
	free(svc);
}
