/*
 * queue_write - what a shard hands to its writer thread (queue_commit.c)
 * and what it does when the writes come back: enqueues (from frontends, or
 * local ones such as bounce reports), state and header log updates,
 * deletes, compactions.
 *
 * An enqueue is answered only after its synced write; the message is then
 * scheduled. A local enqueue has no one to answer; it is scheduled the same
 * way, and recovered from the store after a crash like any message.
 *
 * DIAGNOSTICS: a failed write answers the enqueues of its batch with
 * ERR_STORAGE (a local one is logged); a failed compaction answers
 * ERR_STORAGE; running out of memory is a panic.
 */
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

/* qwait - a job whose completion answers a peer (LOCAL: nobody) */
struct qwait {
	struct zpeer peer;
	uint64_t request_id;
	int local;
	Ph__Envelope *req;	/* enqueues: the request, owned */
};

/* wait_new - a waiter for PEER (NULL: local) */
static struct qwait *
wait_new(const struct zpeer *peer, uint64_t request_id, Ph__Envelope *req)
{
	struct qwait *w = calloc(1, sizeof(*w));

	if (w == NULL)
		panic("queue: out of memory");
	if (peer != NULL)
		w->peer = *peer;
	w->local = peer == NULL;
	w->request_id = request_id;
	w->req = req;
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
		panic("queue: out of memory");
	if (len > 0)
		memcpy(copy, data, len);
	job = qjob_new(kind, qid, copy, len);
	if (job == NULL)
		panic("queue: out of memory");
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

/* enqueue_done - the synced write of an enqueue came back */
static void
enqueue_done(struct queue *q, struct qjob *job)
{
	struct qwait *w = job->owner;

	if (job->status < 0) {
		enqueue_failed(q, w, job->qid);
	} else {
		if (!w->local)
			enqueue_reply(q, &w->peer, w->request_id, job->qid);
		q->enqueued_total++;
		/* while closing it is on disk and recovered at the next start */
		if (!q->closing && qsched_add(q->sched, job->qid,
		    w->req->enqueue_request) < 0)
			log_warnx("%s: no memory to schedule it now, it is "
			    "scheduled at the next start", job->qid);
	}
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

/* enqueue_submit - the writes of ENV's message under QID (takes ENV) */
static void
enqueue_submit(struct queue *q, const struct zpeer *peer, Ph__Envelope *env,
    const char *qid)
{
	Ph__EnqueueRequest *req = env->enqueue_request;
	struct qjob *job;
	uint8_t *meta;
	size_t mlen;

	if (req->received_ms == 0)
		req->received_ms = clock_now_ms();
	if (qmsg_pack_meta(req, &meta, &mlen) < 0 ||
	    (job = qjob_new(QJOB_ENQUEUE, qid, meta, mlen)) == NULL ||
	    qhlog_build(qid, req, q->shard, &job->hrec, &job->hlen) < 0)
		panic("queue: out of memory");
	job->ms = req->received_ms;
	job->body = req->body.data;
	job->blen = req->body.len;
	job->owner = wait_new(peer, env->request_id, env);
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
	enqueue_submit(q, peer, env, qid);
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
		panic("queue: out of memory");
	ph__envelope__pack(&env, buf);
	copy = msg_unpack(buf, len);
	free(buf);
	if (copy == NULL)
		return -1;
	id_new(qid);
	enqueue_submit(q, NULL, copy, qid);
	return 0;
}

/* queue_on_compact - a compaction on the writer thread, answered when done */
void
queue_on_compact(struct queue *q, const struct zpeer *peer,
    uint64_t request_id)
{
	struct qjob *job = qjob_new(QJOB_COMPACT, "", NULL, 0);

	if (job == NULL)
		panic("queue: out of memory");
	job->owner = peer != NULL ? wait_new(peer, request_id, NULL) : NULL;
	qcommit_submit(q->commit, job);
}
