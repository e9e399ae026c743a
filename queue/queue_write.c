/*
 * queue_write - what a shard hands to its writer thread (queue_commit.c)
 * and what it does when the writes come back: enqueues (from frontends, or
 * local ones such as bounce reports), state and header log updates,
 * deletes, compactions.
 *
 * An enqueue is answered only after its synced write; the message is then
 * scheduled. A local enqueue has no one to answer; it is scheduled the same
 * way, and recovered from the store after a crash like any message. The
 * messages of an EnqueueBatch are stored each on its own (their jobs share
 * the batch's envelope, which holds their bodies); the batch is answered, one
 * EnqueueReply per message, once the last of them has its answer.
 *
 * DIAGNOSTICS: a failed write answers the enqueues of its batch with
 * ERR_STORAGE (a local one is logged); a failed compaction answers
 * ERR_STORAGE; running out of memory is a panic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "queue_commit.h"
#include "queue_hlog.h"
#include "queue_msg.h"
#include "queue_sched.h"
#include "queue_shard.h"
#include "rpc.h"

/* qbatch - an EnqueueBatch waiting for the answers of its messages */
struct qbatch {
	struct zpeer peer;
	uint64_t request_id;
	Ph__Envelope *env;		/* owned: the jobs' bodies point into it */
	size_t n, pending;
	Ph__EnqueueReply *replies;	/* by position */
	Ph__Status *status;
	char (*qids)[33];
};

/* qwait - a job whose completion answers a peer (LOCAL: nobody) or a slot
 * of a batch */
struct qwait {
	struct zpeer peer;
	uint64_t request_id;
	int local;
	Ph__Envelope *req;	/* single enqueues: the request, owned */
	Ph__EnqueueRequest *ereq;	/* enqueues: the message */
	struct qbatch *batch;	/* batch member: answered there, at SLOT */
	size_t slot;
};

/* wait_new - a waiter for PEER (NULL: local) */
static struct qwait *
wait_new(const struct zpeer *peer, uint64_t request_id, Ph__Envelope *req)
{
	struct qwait *w = calloc(1, sizeof(*w));

	if (w == NULL)
		fatal_nomem("queue");
	if (peer != NULL)
		w->peer = *peer;
	w->local = peer == NULL;
	w->request_id = request_id;
	w->req = req;
	if (req != NULL)
		w->ereq = req->enqueue_request;
	return w;
}

/* queue_submit - a job of KIND for QID with a copy of DATA */
void
queue_submit(struct queue *q, enum qjob_kind kind, const char *qid,
    const void *data, size_t len, uint64_t ms)
{
	uint8_t *copy = NULL;
	struct qjob *job;

	if (q->closing)
		return;		/* at-least-once: redone after the restart */
	if (len > 0 && (copy = malloc(len)) == NULL)
		fatal_nomem("queue");
	if (len > 0)
		memcpy(copy, data, len);
	job = qjob_new(kind, qid, copy, len);
	if (job == NULL)
		fatal_nomem("queue");
	job->ms = ms;
	qcommit_submit(q->commit, job);
}

/* enqueue_reply - EnqueueReply ok with the queue id */
static void
enqueue_reply(struct queue *q, const struct zpeer *peer, uint64_t request_id,
    const char *qid)
{
	Ph__Envelope env;
	Ph__EnqueueReply rep = PH__ENQUEUE_REPLY__INIT;
	Ph__Status st;

	msg_init(&env);
	msg_status_ok(&st);
	rep.status = &st;
	rep.queue_id = (char *)qid;
	env.body_case = PH__ENVELOPE__BODY_ENQUEUE_REPLY;
	env.enqueue_reply = &rep;
	rpc_reply(q->srv, peer, request_id, &env);
}

/* enqueue_failed - the write of an enqueue failed */
static void
enqueue_failed(struct queue *q, struct qwait *w, const char *qid)
{
	if (w->local)
		log_warnx("%s: could not persist a local message", qid);
	else
		rpc_reply_status(q->srv, &w->peer, w->request_id,
		    PH__ERROR_CODE__ERR_STORAGE, "could not persist the message");
}

/* batch_answer - slot I of B has its answer (QID: stored; else ERR and
 * WHY); the last one sends the batch's reply and frees it */
static void
batch_answer(struct queue *q, struct qbatch *b, size_t i, const char *qid,
    Ph__ErrorCode err, const char *why)
{
	Ph__EnqueueBatchReply br = PH__ENQUEUE_BATCH_REPLY__INIT;
	Ph__EnqueueReply **vec;
	Ph__Envelope env;

	if (qid != NULL) {
		msg_status_ok(&b->status[i]);
		snprintf(b->qids[i], sizeof(b->qids[i]), "%s", qid);
		b->replies[i].queue_id = b->qids[i];
	} else {
		msg_status_err(&b->status[i], err, why);
	}
	if (--b->pending > 0)
		return;
	if ((vec = calloc(b->n, sizeof(*vec))) == NULL)
		fatal_nomem("queue");
	for (size_t k = 0; k < b->n; k++)
		vec[k] = &b->replies[k];
	br.n_replies = b->n;
	br.replies = vec;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_ENQUEUE_BATCH_REPLY;
	env.enqueue_batch_reply = &br;
	rpc_reply(q->srv, &b->peer, b->request_id, &env);
	free(vec);
	msg_free(b->env);
	free(b->replies);
	free(b->status);
	free(b->qids);
	free(b);
}

/* enqueue_done - the synced write of an enqueue came back */
static void
enqueue_done(struct queue *q, struct qjob *job)
{
	struct qwait *w = job->owner;

	if (job->status >= 0) {
		q->enqueued_total++;
		/* while closing it is on disk and recovered at the next start */
		if (!q->closing && qsched_add(q->sched, job->qid, w->ereq) < 0)
			log_warnx("%s: no memory to schedule it now, it is "
			    "scheduled at the next start", job->qid);
	}
	if (w->batch != NULL)
		batch_answer(q, w->batch, w->slot, job->status < 0 ? NULL : job->qid,
		    PH__ERROR_CODE__ERR_STORAGE, "could not persist the message");
	else if (job->status < 0)
		enqueue_failed(q, w, job->qid);
	else if (!w->local)
		enqueue_reply(q, &w->peer, w->request_id, job->qid);
	msg_free(w->req);
	free(w);
}

/* compact_done - a compaction finished: answer who asked */
static void
compact_done(struct queue *q, struct qjob *job)
{
	struct qwait *w = job->owner;
	Ph__Envelope env;
	Ph__Status st;

	if (w == NULL)
		return;		/* the periodic one */
	if (job->status < 0) {
		rpc_reply_status(q->srv, &w->peer, w->request_id,
		    PH__ERROR_CODE__ERR_STORAGE, "compaction failed");
	} else {
		msg_init(&env);
		msg_status_ok(&st);
		env.body_case = PH__ENVELOPE__BODY_STATUS;
		env.status = &st;
		rpc_reply(q->srv, &w->peer, w->request_id, &env);
	}
	free(w);
}

/* queue_on_job - a job the writer finished */
void
queue_on_job(void *arg, struct qjob *job)
{
	struct queue *q = arg;

	if (job->kind == QJOB_ENQUEUE)
		enqueue_done(q, job);
	else if (job->kind == QJOB_COMPACT)
		compact_done(q, job);
	qjob_free(job);
}

/* enqueue_check - validate REQ; NULL when fine, else the error text */
static const char *
enqueue_check(const Ph__EnqueueRequest *req)
{
	if (req->n_rcpts == 0)
		return "no recipients";
	for (size_t i = 0; i < req->n_rcpts; i++)
		if (req->rcpts[i] == NULL || req->rcpts[i][0] == '\0')
			return "empty recipient";
	return NULL;
}

/* enqueue_submit - the writes of REQ under QID for waiter W (takes W) */
static void
enqueue_submit(struct queue *q, Ph__EnqueueRequest *req, struct qwait *w,
    const char *qid)
{
	struct qjob *job;
	uint8_t *meta;
	size_t mlen;

	if (req->received_ms == 0)
		req->received_ms = clock_now_ms();
	if (qmsg_pack_meta(req, &meta, &mlen) < 0 ||
	    (job = qjob_new(QJOB_ENQUEUE, qid, meta, mlen)) == NULL ||
	    qhlog_build(qid, req, q->shard, &job->hrec, &job->hlen) < 0)
		fatal_nomem("queue");
	job->ms = req->received_ms;
	job->body = req->body.data;
	job->blen = req->body.len;
	job->owner = w;
	qcommit_submit(q->commit, job);
}

/* queue_on_enqueue - give the message to the writer; the reply comes later */
void
queue_on_enqueue(struct queue *q, const struct zpeer *peer, Ph__Envelope *env)
{
	const char *bad = enqueue_check(env->enqueue_request);
	char qid[33];

	if (bad != NULL) {
		rpc_reply_status(q->srv, peer, env->request_id,
		    PH__ERROR_CODE__ERR_BAD_REQUEST, bad);
		msg_free(env);
		return;
	}
	id_new(qid);
	enqueue_submit(q, env->enqueue_request, wait_new(peer, env->request_id, env), qid);
}

/* queue_on_enqueue_batch - each message of the batch to the writer (an
 * invalid one answered at once); the reply comes with the last answer */
void
queue_on_enqueue_batch(struct queue *q, const struct zpeer *peer, Ph__Envelope *env)
{
	const Ph__EnqueueBatch *eb = env->enqueue_batch;
	size_t n = eb->n_requests;
	struct qbatch *b;
	char qid[33];

	if (eb->n_requests == 0) {
		rpc_reply_status(q->srv, peer, env->request_id,
		    PH__ERROR_CODE__ERR_BAD_REQUEST, "empty batch");
		msg_free(env);
		return;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->replies = calloc(eb->n_requests, sizeof(*b->replies))) == NULL ||
	    (b->status = calloc(eb->n_requests, sizeof(*b->status))) == NULL ||
	    (b->qids = calloc(eb->n_requests, sizeof(*b->qids))) == NULL)
		fatal_nomem("queue");
	b->peer = *peer;
	b->request_id = env->request_id;
	b->env = env;
	b->n = b->pending = eb->n_requests;
	for (size_t i = 0; i < b->n; i++) {
		ph__enqueue_reply__init(&b->replies[i]);
		b->replies[i].status = &b->status[i];
	}
	/* pending starts at n: a stored message is answered later, from the
	 * loop; only an invalid last one can complete (and free) the batch
	 * here, so the loop reads neither B nor EB after that */
	for (size_t i = 0; i < n; i++) {
		Ph__EnqueueRequest *req = eb->requests[i];
		const char *bad = enqueue_check(req);
		struct qwait *w;

		if (bad != NULL) {
			batch_answer(q, b, i, NULL, PH__ERROR_CODE__ERR_BAD_REQUEST, bad);
			continue;
		}
		w = wait_new(peer, env->request_id, NULL);
		w->ereq = req;
		w->batch = b;
		w->slot = i;
		id_new(qid);
		enqueue_submit(q, req, w, qid);
	}
}

/* queue_enqueue_local - REQ as if a frontend had sent it: packed and
 * unpacked into an envelope of its own, which the job then owns */
int
queue_enqueue_local(struct queue *q, const Ph__EnqueueRequest *req,
    char qid[33])
{
	Ph__Envelope env, *copy;
	size_t len;
	uint8_t *buf;

	if (q->closing || enqueue_check(req) != NULL)
		return -1;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_ENQUEUE_REQUEST;
	env.enqueue_request = (Ph__EnqueueRequest *)req;
	len = ph__envelope__get_packed_size(&env);
	if ((buf = malloc(len)) == NULL)
		fatal_nomem("queue");
	ph__envelope__pack(&env, buf);
	copy = msg_unpack(buf, len);
	free(buf);
	if (copy == NULL)
		return -1;
	id_new(qid);
	enqueue_submit(q, copy->enqueue_request, wait_new(NULL, 0, copy), qid);
	return 0;
}

/* queue_on_compact - a compaction on the writer thread, answered when done */
void
queue_on_compact(struct queue *q, const struct zpeer *peer,
    uint64_t request_id)
{
	struct qjob *job = qjob_new(QJOB_COMPACT, "", NULL, 0);

	if (job == NULL)
		fatal_nomem("queue");
	job->owner = peer != NULL ? wait_new(peer, request_id, NULL) : NULL;
	qcommit_submit(q->commit, job);
}
