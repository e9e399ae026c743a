/*
 * queue_server - ph-queue: one shard of the durable queue.
 *
 * Wire protocol (proto/queue.proto), on one ROUTER socket bound at
 * endpoints.queue[instance]:
 *   frontend -> EnqueueRequest      <- EnqueueReply, sent only once the message
 *                                      is in a synced RocksDB write
 *   relay    -> RelayHello          sets the relay's credits (new incarnation:
 *                                      its leased tasks are ready again)
 *   relay    -> TaskCredit          adds credits
 *   shard    -> DeliveryTask        pushed to a relay, one per credit
 *   relay    -> TaskResult          per-recipient outcomes (idempotent) + credits
 *   any      -> QueueStatsRequest   <- QueueStats
 *
 * Setup order: config, store, writer thread, scheduler, recovery of every
 * message not final, socket, timer, READY, loop. An enqueue goes to the
 * writer thread (queue_commit.c, group commit); its reply and its scheduling
 * happen when the batch comes back to the loop. State changes from the
 * scheduler take the same path, without replies.
 *
 * DIAGNOSTICS: a bad config, a database that cannot be opened or an
 * endpoint that cannot be bound is fatal. A failed write answers the
 * enqueues of its batch with ERR_STORAGE. Malformed stored records are
 * skipped with a warning (and kept on disk). Unexpected messages get a
 * warning and, when they expect a reply, ERR_BAD_REQUEST.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "proc.h"
#include "queue.h"
#include "queue_commit.h"
#include "queue_msg.h"
#include "queue_sched.h"
#include "queue_store.h"
#include "rpc.h"

#define TICK_MS 200

struct queue {
	struct proc *proc;
	struct queue_conf conf;
	struct ph_endpoints ep;
	char shard[32];
	struct queue_store *store;
	struct qcommit *commit;
	struct qsched *sched;
	struct rpc_server *srv;
	struct event *tick;
	int closing;		/* stopping: the writer drains, nothing new */
	uint64_t enqueued_total;
};

/* qenq - an enqueue waiting for its synced write */
struct qenq {
	struct zpeer peer;
	Ph__Envelope *req;
};

/* ---- scheduler io ---- */

/* io_push - a DeliveryTask to a relay */
static int
io_push(void *arg, const struct zpeer *peer, Ph__Envelope *env)
{
	struct queue *q = arg;

	return rpc_push(q->srv, peer, env);
}

/* io_submit - a state or delete job for the writer */
static void
io_submit(struct queue *q, enum qjob_kind kind, const char *qid,
    const void *data, size_t len)
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
	qcommit_submit(q->commit, job);
}

/* io_save_state - persist a message's recipient states */
static void
io_save_state(void *arg, const char *qid, const void *state, size_t len)
{
	io_submit(arg, QJOB_STATE, qid, state, len);
}

/* io_remove - delete a final message (the header log goes before, issue 6) */
static void
io_remove(void *arg, const char *qid)
{
	io_submit(arg, QJOB_DELETE, qid, NULL, 0);
}

/* ---- enqueue ---- */

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

/* enqueue_done - the synced write of an enqueue came back */
static void
enqueue_done(struct queue *q, struct qjob *job)
{
	struct qenq *e = job->owner;
	Ph__EnqueueRequest *req = e->req->enqueue_request;

	if (job->status < 0) {
		rpc_reply_status(q->srv, &e->peer, e->req->request_id,
		    PH__ERROR_CODE__ERR_STORAGE, "could not persist the message");
	} else {
		enqueue_reply(q, &e->peer, e->req->request_id, job->qid);
		q->enqueued_total++;
		/* while closing it is on disk and recovered at the next start */
		if (!q->closing && qsched_add(q->sched, job->qid, req) < 0)
			log_warnx("%s: no memory to schedule it now, it is "
			    "scheduled at the next start", job->qid);
	}
	msg_free(e->req);
	free(e);
}

/* queue_on_job - a job the writer finished (loop thread) */
static void
queue_on_job(void *arg, struct qjob *job)
{
	struct queue *q = arg;

	if (job->kind == QJOB_ENQUEUE)
		enqueue_done(q, job);
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

/* queue_on_enqueue - give the message to the writer; the reply comes later.
 * Takes ENV. */
static void
queue_on_enqueue(struct queue *q, const struct zpeer *peer, Ph__Envelope *env)
{
	Ph__EnqueueRequest *req = env->enqueue_request;
	const char *bad = enqueue_check(req);
	struct qenq *e;
	struct qjob *job;
	uint8_t *meta;
	size_t mlen;
	char qid[33];

	if (bad != NULL) {
		rpc_reply_status(q->srv, peer, env->request_id,
		    PH__ERROR_CODE__ERR_BAD_REQUEST, bad);
		msg_free(env);
		return;
	}
	if (req->received_ms == 0)
		req->received_ms = clock_now_ms();
	id_new(qid);
	e = malloc(sizeof(*e));
	if (e == NULL || qmsg_pack_meta(req, &meta, &mlen) < 0 ||
	    (job = qjob_new(QJOB_ENQUEUE, qid, meta, mlen)) == NULL)
		panic("queue: out of memory");
	e->peer = *peer;
	e->req = env;
	job->body = req->body.data;
	job->blen = req->body.len;
	job->owner = e;
	qcommit_submit(q->commit, job);
}

/* ---- stats, dispatch ---- */

/* queue_on_stats - QueueStats */
static void
queue_on_stats(struct queue *q, const struct zpeer *peer, uint64_t request_id)
{
	Ph__Envelope env;
	Ph__QueueStats st = PH__QUEUE_STATS__INIT;

	qsched_stats(q->sched, &st);
	st.enqueued_total = q->enqueued_total;
	st.sync_writes_total = qcommit_sync_writes(q->commit);
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_QUEUE_STATS;
	env.queue_stats = &st;
	rpc_reply(q->srv, peer, request_id, &env);
}

/* queue_on_unexpected - a message this service does not take */
static void
queue_on_unexpected(struct queue *q, const struct zpeer *peer,
    const Ph__Envelope *env)
{
	log_warnx("unexpected %s from a peer", msg_body_name(env->body_case));
	if (env->request_id != 0)
		rpc_reply_status(q->srv, peer, env->request_id,
		    PH__ERROR_CODE__ERR_BAD_REQUEST, "unexpected message");
}

/* queue_on_request - the dispatch switch of the shard's socket */
static void
queue_on_request(void *arg, struct rpc_server *srv, const struct zpeer *peer,
    Ph__Envelope *env)
{
	struct queue *q = arg;

	switch (env->body_case) {
	case PH__ENVELOPE__BODY_ENQUEUE_REQUEST:
		queue_on_enqueue(q, peer, env);
		return;
	case PH__ENVELOPE__BODY_RELAY_HELLO:
		qsched_on_hello(q->sched, peer, env->relay_hello);
		break;
	case PH__ENVELOPE__BODY_TASK_CREDIT:
		qsched_on_credit(q->sched, peer, env->task_credit);
		break;
	case PH__ENVELOPE__BODY_TASK_RESULT:
		qsched_on_result(q->sched, peer, env->task_result);
		break;
	case PH__ENVELOPE__BODY_QUEUE_STATS_REQUEST:
		queue_on_stats(q, peer, env->request_id);
		break;
	default:
		queue_on_unexpected(q, peer, env);
		break;
	}
	msg_free(env);
}

/* queue_on_tick - leases and retry times */
static void
queue_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;

	qsched_tick(q->sched);
}

/* ---- setup ---- */

/* queue_load_one - one stored message at start-up */
static int
queue_load_one(void *arg, const char *qid, const void *meta, size_t mlen,
    const void *state, size_t slen)
{
	struct queue *q = arg;

	if (qsched_restore(q->sched, qid, meta, mlen, state, slen) < 0)
		log_warnx("%s: malformed stored message skipped", qid);
	return 0;
}

/* queue_recover - schedule every message that is not final */
static void
queue_recover(struct queue *q)
{
	Ph__QueueStats st = PH__QUEUE_STATS__INIT;

	if (queue_store_load(q->store, queue_load_one, q) < 0)
		fatalx("%s: cannot read the stored messages", q->conf.db_dir);
	qsched_stats(q->sched, &st);
	log_info("recovered %llu messages, %llu recipients pending",
	    (unsigned long long)st.messages,
	    (unsigned long long)st.recipients_pending);
}

/* queue_open - config, store, writer, scheduler */
static void
queue_open(struct queue *q, struct proc *p)
{
	struct qsched_cfg sc;
	struct qsched_io io = { io_push, io_save_state, io_remove, q };
	char *err = NULL;

	q->proc = p;
	if (queue_conf_load(&q->conf, p->cfg, &err) < 0)
		fatalx("%s", err ? err : "[queue]: bad configuration");
	snprintf(q->shard, sizeof(q->shard), "queue-%d", p->instance);
	q->store = queue_store_rocksdb_open(q->conf.db_dir, &err);
	if (q->store == NULL)
		fatalx("%s: %s", q->conf.db_dir, err ? err : "cannot open");
	q->commit = qcommit_new(p->base, q->store, (size_t)q->conf.batch_max,
	    queue_on_job, q);
	if (q->commit == NULL)
		fatalx("cannot start the writer thread");
	sc.lease_ms = (uint64_t)q->conf.lease_ms;
	sc.max_age_ms = (uint64_t)q->conf.max_age_ms;
	sc.retry_ms = q->conf.retry_ms;
	sc.nretry = q->conf.nretry;
	sc.shard = q->shard;
	q->sched = qsched_new(&sc, q->store, &io);
	if (q->sched == NULL)
		fatalx("out of memory");
}

/* queue_listen - bind the shard's endpoint and start the timer */
static void
queue_listen(struct queue *q)
{
	struct timeval tv = { 0, TICK_MS * 1000 };
	char *err = NULL;
	const char *endpoint;

	if (config_endpoints(q->proc->cfg, &q->ep, &err) < 0)
		fatalx("%s", err ? err : "[endpoints]: bad configuration");
	endpoint = proc_endpoint(&q->ep.queue, q->proc->instance, "queue");
	q->srv = rpc_server_new(q->proc->base, endpoint, queue_on_request, q);
	if (q->srv == NULL)
		fatalx("cannot bind %s", endpoint);
	log_info("shard %s on %s, database %s", q->shard, endpoint,
	    q->conf.db_dir);
	q->tick = event_new(q->proc->base, -1, EV_PERSIST, queue_on_tick, q);
	if (q->tick == NULL || event_add(q->tick, &tv) < 0)
		fatalx("cannot start the timer");
}

/* queue_close - drain the writer (its replies still go out), free all */
static void
queue_close(struct queue *q)
{
	q->closing = 1;
	qcommit_free(q->commit);
	event_free(q->tick);
	rpc_server_free(q->srv);
	qsched_free(q->sched);
	queue_store_close(q->store);
	queue_conf_clear(&q->conf);
	free(q->ep.control);
	free(q->ep.control_pub);
	strvec_clear(&q->ep.ratelimiter);
	strvec_clear(&q->ep.queue);
}

/* queue_run - the shard's life: open, recover, listen, serve, close */
int
queue_run(struct proc *p)
{
	struct queue q;
	int rc;

	memset(&q, 0, sizeof(q));
	queue_open(&q, p);
	queue_recover(&q);
	queue_listen(&q);
	proc_ready(p);
	rc = proc_run(p);
	queue_close(&q);
	return rc;
}
