/*
 * queue_bounce - what a shard does when recipients fail for good: one
 * delivery status notification (queue_dsn.c) per failed task, from
 * MAILER-DAEMON@<hostname> with the null sender to the original envelope
 * sender, enqueued in this shard like any message (never for a message
 * from the null sender: no bounce of a bounce); and for each hard bounce
 * (bounce_classify) a HARDBOUNCE suppression in the tenant's list, sent to
 * ph-control (PolicyPut; ERR_EXISTS means it was there already). A
 * suppression is stored with the bounce's state change (p/, through the
 * writer thread) and offered again until ph-control answers (queue_supp.c),
 * across restarts too.
 *
 * The replies come from the message's header log record, whose outcome
 * calls ran just before.
 *
 * DIAGNOSTICS: a DSN that cannot be built or stored is a warning (not
 * retried); so is a suppression that cannot be kept (out of memory).
 * queue_supp.c reports refusals and retries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce_class.h"
#include "clock.h"
#include "log.h"
#include "mailhdr.h"
#include "queue_dsn.h"
#include "queue_hlog.h"
#include "queue_msg.h"
#include "queue_shard.h"
#include "queue_store.h"
#include "queue_supp.h"
#include "rpc.h"

#define CONTROL_TIMEOUT_MS 10000
#define REPLY_UNKNOWN "5.0.0 delivery failed"

struct bounce_rcpt {
	struct qdsn_rcpt d;
	struct bounce_result cls;
	const char *final;	/* the reply that made it final */
};

/* on_suppressed - ph-control's answer to the offer of item ARG */
static void
on_suppressed(void *arg, Ph__Envelope *rep)
{
	const Ph__Status *st = NULL;

	if (rep != NULL && rep->body_case == PH__ENVELOPE__BODY_POLICY_REPLY)
		st = rep->policy_reply->status;
	else if (rep != NULL && rep->body_case == PH__ENVELOPE__BODY_STATUS)
		st = rep->status;
	qsupp_answer(arg, st);
}

/* queue_supp_send - offer suppression X (item IT) to ph-control */
int
queue_supp_send(void *arg, struct qsupp_item *it, const Ph__Suppression *x)
{
	struct queue *q = arg;
	Ph__Envelope env;
	Ph__PolicyPut put = PH__POLICY_PUT__INIT;
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;

	if (q->control == NULL)
		return -1;
	o.obj_case = PH__POLICY_OBJECT__OBJ_SUPPRESSION;
	o.suppression = (Ph__Suppression *)x;
	put.object = &o;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_POLICY_PUT;
	env.policy_put = &put;
	return rpc_call(q->control, &env, CONTROL_TIMEOUT_MS, on_suppressed, it);
}

/* queue_supp_save - the p/ record of a new pending suppression */
void
queue_supp_save(void *arg, const char *id, const void *data, size_t len)
{
	queue_submit(arg, QJOB_SUPP_PUT, id, data, len, 0);
}

/* queue_supp_forget - ph-control has it (or refused it for good) */
void
queue_supp_forget(void *arg, const char *id)
{
	queue_submit(arg, QJOB_SUPP_DEL, id, NULL, 0, 0);
}

/* suppress - a HARDBOUNCE suppression of R's address for M's tenant, kept
 * until ph-control confirms it (queue_supp.c) */
static void
suppress(struct queue *q, const struct qmsg *m, const Ph__HeaderRecord *rec,
    const struct bounce_rcpt *r)
{
	Ph__Suppression x = PH__SUPPRESSION__INIT;

	x.tenant_id = m->tenant_id;
	x.address = (char *)r->d.addr;
	x.reason = "HARDBOUNCE";
	x.error_detail = (char *)r->final;
	x.message_id = rec != NULL && rec->message_id[0] != '\0' ?
	    rec->message_id : (char *)m->qid;
	if (qsupp_add(q->supp, &x) < 0)
		log_warnx("suppression for <%s> could not be kept", x.address);
}

/* rcpt_fill - what the record says about recipient I */
static void
rcpt_fill(struct bounce_rcpt *r, const struct qmsg *m,
    const Ph__HeaderRecord *rec, uint32_t i)
{
	const Ph__HeaderAttempt *last = rec != NULL ? qhlog_last(rec, i) : NULL;

	r->final = REPLY_UNKNOWN;
	if (rec != NULL && i < rec->n_rcpts && rec->rcpts[i]->final_reply[0])
		r->final = rec->rcpts[i]->final_reply;
	bounce_classify(r->final, &r->cls);
	r->d.addr = m->rcpts[i].addr;
	r->d.status = r->cls.status;
	r->d.remote = last != NULL ? last->remote_host : "";
	r->d.diag = last != NULL && last->reply[0] ? last->reply : r->final;
}

/* dsn_request - the EnqueueRequest of the report BODY to M's sender */
static void
dsn_request(const struct qmsg *m, Ph__EnqueueRequest *req, char **rcpt,
    char *body, size_t blen, char *msgid, char *from)
{
	rcpt[0] = m->mail_from;
	req->tenant_id = m->tenant_id;
	req->mail_from = "";
	req->n_rcpts = 1;
	req->rcpts = rcpt;
	req->body.data = (uint8_t *)body;
	req->body.len = blen;
	req->received_ms = clock_now_ms();
	req->source = "dsn";
	req->message_id = msgid;
	req->header_from = from;
	req->subject = "Undelivered Mail Returned to Sender";
}

/* dsn_send - build the report for the N recipients R of M and enqueue it */
static void
dsn_send(struct queue *q, const struct qmsg *m, const struct bounce_rcpt *r,
    size_t n)
{
	struct qdsn d = { 0 };
	struct qdsn_rcpt *dr = calloc(n, sizeof(*dr));
	Ph__EnqueueRequest req = PH__ENQUEUE_REQUEST__INIT;
	char id[33], msgid[320], from[300], qid[33], *text = NULL, *rcpt[1];
	void *body = NULL;
	size_t blen = 0, tlen;

	if (dr == NULL || queue_store_get_body(q->store, m->qid, &body, &blen) < 0)
		goto done;
	for (size_t k = 0; k < n; k++)
		dr[k] = r[k].d;
	id_new(id);
	snprintf(msgid, sizeof(msgid), "%s@%s", id, q->hostname);
	snprintf(from, sizeof(from), "MAILER-DAEMON@%s", q->hostname);
	d = (struct qdsn){ q->hostname, m->mail_from, m->qid, msgid,
	    m->received_ms, clock_now_ms(), dr, n, body ? body : "",
	    body ? mailhdr_block_len(body, blen) : 0 };
	if (qdsn_build(&d, &text, &tlen) < 0)
		goto done;
	snprintf(msgid, sizeof(msgid), "<%s@%s>", id, q->hostname);
	dsn_request(m, &req, rcpt, text, tlen, msgid, from);
	if (queue_enqueue_local(q, &req, qid) == 0)
		log_info("%s bounce %s to <%s> for %zu recipient(s)", m->qid,
		    qid, m->mail_from, n);
	else
		log_warnx("%s: the bounce report was not stored", m->qid);
done:
	if (text == NULL)
		log_warnx("%s: no bounce report could be made", m->qid);
	free(text);
	free(body);
	free(dr);
}

/* queue_bounce - report and suppress the failed recipients IDX of M */
void
queue_bounce(struct queue *q, struct qmsg *m, const uint32_t *idx, size_t n)
{
	Ph__HeaderRecord *rec = NULL;
	struct bounce_rcpt *r = calloc(n, sizeof(*r));

	if (r == NULL)
		fatal_nomem("queue");
	if (m->hrec != NULL)
		rec = ph__header_record__unpack(NULL, m->hlen, m->hrec);
	for (size_t k = 0; k < n; k++) {
		rcpt_fill(&r[k], m, rec, idx[k]);
		log_info("%s <%s>: %s bounce (%s, %s)", m->qid, r[k].d.addr,
		    bounce_kind_name(r[k].cls.kind),
		    bounce_category_name(r[k].cls.category), r[k].cls.status);
		if (r[k].cls.kind == BOUNCE_HARD && m->mail_from[0] != '\0')
			suppress(q, m, rec, &r[k]);
	}
	if (m->mail_from[0] != '\0')
		dsn_send(q, m, r, n);
	free(r);
	if (rec != NULL)
		ph__header_record__free_unpacked(rec, NULL);
}
