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
 *   phctl    -> HeaderLogQuery      <- HeaderLogReply (records not expired)
 *   phctl    -> QueueCompact        <- Status, once flushed and compacted
 * and as a client of ph-control (endpoints.control):
 *   shard    -> PolicyPut           a HARDBOUNCE suppression (queue_bounce.c),
 *                                      offered again until answered
 *                                      (queue_supp.c)
 *
 * Setup order: config, store, writer thread, scheduler, recovery of every
 * message not final, sockets, timers, READY, loop. Every write goes to the
 * writer thread (queue_write.c, queue_commit.c: group commit); an enqueue's
 * reply and its scheduling happen when its batch comes back to the loop.
 * Outcomes update the message's header log record in memory; the record is
 * written with the message's next state write or its delete. Failed
 * recipients are bounced (queue_bounce.c).
 *
 * A header log search by anything but a queue id scans the shard's whole
 * log on the loop thread: fine for an operator's query, not for traffic.
 *
 * DIAGNOSTICS: a bad config, a database that cannot be opened or an
 * endpoint that cannot be bound is fatal. Malformed stored records are
 * skipped with a warning (and kept on disk). Unexpected messages get a
 * warning and, when they expect a reply, ERR_BAD_REQUEST.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "proc.h"
#include "queue.h"
#include "queue_commit.h"
#include "queue_hlog.h"
#include "queue_msg.h"
#include "queue_sched.h"
#include "queue_shard.h"
#include "queue_store.h"
#include "queue_supp.h"
#include "rpc.h"

#define TICK_MS 200

/* ---- scheduler io ---- */

/* io_push - a DeliveryTask to a relay: a copy waits for the end of the
 * loop turn, when the tasks of the turn go out as one DeliveryTaskBatch per
 * relay (queue_push_flush) */
static int
io_push(void *arg, const struct zpeer *peer, Ph__Envelope *env)
{
	struct queue *q = arg;
	Ph__DeliveryTask *copy = msg_copy(&env->delivery_task->base);

	if (q->npushes == q->cappushes) {
		size_t cap = q->cappushes ? 2 * q->cappushes : 64;
		struct qpush *v = realloc(q->pushes, cap * sizeof(*v));

		if (v == NULL)
			fatal_nomem("queue");
		q->pushes = v;
		q->cappushes = cap;
	}
	q->pushes[q->npushes++] = (struct qpush){ *peer, copy };
	event_active(q->push_ev, 0, 0);
	return 0;
}

/* push_send - one DeliveryTaskBatch of the waiting tasks for the relay of
 * q->pushes[FIRST], each taken off the list (its task set to NULL); a batch
 * that cannot be sent makes its tasks ready again */
static void
push_send(struct queue *q, size_t first)
{
	const struct zpeer *peer = &q->pushes[first].peer;
	Ph__DeliveryTask **tasks = calloc(q->npushes - first, sizeof(*tasks));
	Ph__DeliveryTaskBatch b = PH__DELIVERY_TASK_BATCH__INIT;
	Ph__Envelope env;
	size_t n = 0;

	if (tasks == NULL)
		fatal_nomem("queue");
	for (size_t i = first; i < q->npushes; i++) {
		struct qpush *p = &q->pushes[i];

		if (p->task != NULL && p->peer.len == peer->len &&
		    memcmp(p->peer.id, peer->id, peer->len) == 0) {
			tasks[n++] = p->task;
			p->task = NULL;
		}
	}
	b.n_tasks = n;
	b.tasks = tasks;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_DELIVERY_TASK_BATCH;
	env.delivery_task_batch = &b;
	if (rpc_push(q->srv, peer, &env) < 0) {
		log_warnx("push of %zu tasks to a relay failed, they are ready again", n);
		for (size_t k = 0; k < n; k++)
			qsched_push_failed(q->sched, tasks[k]->task_id);
	}
	for (size_t k = 0; k < n; k++)
		ph__delivery_task__free_unpacked(tasks[k], NULL);
	free(tasks);
}

/* queue_push_flush - end of the loop turn: the waiting tasks go out */
static void
queue_push_flush(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;

	for (size_t i = 0; i < q->npushes; i++)
		if (q->pushes[i].task != NULL)
			push_send(q, i);
	q->npushes = 0;
}

/* hlog_flush - write M's header log record when it changed */
static void
hlog_flush(struct queue *q, struct qmsg *m)
{
	if (!m->hdirty || m->hrec == NULL)
		return;
	queue_submit(q, QJOB_HLOG, m->qid, m->hrec, m->hlen, m->received_ms);
	m->hdirty = 0;
}

/* io_save_state - persist a message's recipient states (and its record) */
static void
io_save_state(void *arg, struct qmsg *m, const void *state, size_t len)
{
	struct queue *q = arg;

	hlog_flush(q, m);
	queue_submit(q, QJOB_STATE, m->qid, state, len, 0);
}

/* io_remove - delete a final message; its header log record stays */
static void
io_remove(void *arg, struct qmsg *m)
{
	struct queue *q = arg;

	hlog_flush(q, m);
	queue_submit(q, QJOB_DELETE, m->qid, NULL, 0, 0);
}

/* hlog_load - M's record from the store (written with the message) */
static int
hlog_load(struct queue *q, struct qmsg *m)
{
	void *rec = NULL;
	size_t len = 0;

	if (queue_store_get_hlog(q->store, m->qid, 0, &rec, &len) != 0) {
		log_warnx("%s: no header log record to update", m->qid);
		return -1;
	}
	m->hrec = rec;
	m->hlen = len;
	return 0;
}

/* io_outcome - an attempt of one recipient into the header log record */
static void
io_outcome(void *arg, struct qmsg *m, uint32_t i, const Ph__RecipientResult *r,
    const char *reply)
{
	struct queue *q = arg;

	if (m->hrec == NULL && hlog_load(q, m) < 0)
		return;
	if (qhlog_outcome(m, i, r, reply, clock_now_ms()) < 0)
		log_warnx("%s: header log record not updated", m->qid);
	else
		m->hdirty = 1;
}

/* io_failed - recipients that failed: bounce */
static void
io_failed(void *arg, struct qmsg *m, const uint32_t *idx, size_t n)
{
	queue_bounce(arg, m, idx, n);
}

/* ---- requests ---- */

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

/* queue_on_hlog_query - HeaderLogReply with the matching records */
static void
queue_on_hlog_query(struct queue *q, const struct zpeer *peer,
    uint64_t request_id, const Ph__HeaderLogQuery *hq)
{
	Ph__Envelope env;
	Ph__HeaderLogReply rep = PH__HEADER_LOG_REPLY__INIT;
	Ph__Status st;

	if (qhlog_query(q->store, (uint64_t)q->conf.header_retention_ms, hq,
	    &rep) < 0)
		msg_status_err(&st, PH__ERROR_CODE__ERR_STORAGE,
		    "cannot read the header log");
	else
		msg_status_ok(&st);
	rep.status = &st;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_HEADER_LOG_REPLY;
	env.header_log_reply = &rep;
	rpc_reply(q->srv, peer, request_id, &env);
	qhlog_reply_clear(&rep);
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
	case PH__ENVELOPE__BODY_ENQUEUE_BATCH:
		queue_on_enqueue_batch(q, peer, env);
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
	case PH__ENVELOPE__BODY_TASK_RESULT_BATCH:
		for (size_t i = 0; i < env->task_result_batch->n_results; i++)
			qsched_on_result(q->sched, peer, env->task_result_batch->results[i]);
		break;
	case PH__ENVELOPE__BODY_QUEUE_STATS_REQUEST:
		queue_on_stats(q, peer, env->request_id);
		break;
	case PH__ENVELOPE__BODY_HEADER_LOG_QUERY:
		queue_on_hlog_query(q, peer, env->request_id,
		    env->header_log_query);
		break;
	case PH__ENVELOPE__BODY_QUEUE_COMPACT:
		queue_on_compact(q, peer, env->request_id);
		break;
	default:
		queue_on_unexpected(q, peer, env);
		break;
	}
	msg_free(env);
}

/* queue_on_tick - leases, retry times, suppressions to offer again */
static void
queue_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;

	qsched_tick(q->sched);
	qsupp_tick(q->supp);
}

/* queue_on_compact_timer - the periodic compaction (expired header records
 * and deleted bodies leave the disk even without an operator) */
static void
queue_on_compact_timer(evutil_socket_t fd, short what, void *arg)
{
	queue_on_compact(arg, NULL, 0);
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

/* queue_load_supp - one stored suppression ph-control has not confirmed */
static int
queue_load_supp(void *arg, const char *id, const void *val, size_t len)
{
	struct queue *q = arg;

	if (qsupp_restore(q->supp, id, val, len) < 0)
		log_warnx("p/%s: malformed stored suppression skipped", id);
	return 0;
}

/* queue_recover - schedule every message that is not final, and every
 * suppression still owed to ph-control */
static void
queue_recover(struct queue *q)
{
	Ph__QueueStats st = PH__QUEUE_STATS__INIT;

	if (queue_store_load(q->store, queue_load_one, q) < 0)
		fatalx("%s: cannot read the stored messages", q->conf.db_dir);
	if (queue_store_scan_pending(q->store, queue_load_supp, q) < 0)
		fatalx("%s: cannot read the stored suppressions",
		    q->conf.db_dir);
	qsched_stats(q->sched, &st);
	log_info("recovered %llu messages, %llu recipients pending, "
	    "%zu suppressions pending", (unsigned long long)st.messages,
	    (unsigned long long)st.recipients_pending, qsupp_pending(q->supp));
}

/* queue_hostname - [queue] hostname, or the system's name */
static void
queue_hostname(struct queue *q)
{
	if (q->conf.hostname != NULL && q->conf.hostname[0] != '\0')
		snprintf(q->hostname, sizeof(q->hostname), "%s",
		    q->conf.hostname);
	else if (gethostname(q->hostname, sizeof(q->hostname) - 1) < 0 ||
	    q->hostname[0] == '\0')
		snprintf(q->hostname, sizeof(q->hostname), "localhost");
}

/* queue_open - config, store, writer, scheduler */
static void
queue_open(struct queue *q, struct proc *p)
{
	struct qsched_cfg sc;
	struct qsched_io io = { io_push, io_save_state, io_remove, io_outcome,
	    io_failed, q };
	struct qsupp_io sio = { queue_supp_save, queue_supp_forget,
	    queue_supp_send, q };
	char *err = NULL;

	q->proc = p;
	if (queue_conf_load(&q->conf, p->cfg, &err) < 0)
		fatalx("%s", err ? err : "[queue]: bad configuration");
	snprintf(q->shard, sizeof(q->shard), "queue-%d", p->instance);
	queue_hostname(q);
	q->store = queue_store_rocksdb_open(q->conf.db_dir,
	    (uint64_t)q->conf.header_retention_ms, &err);
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
	q->supp = qsupp_new(&sio);
	q->push_ev = event_new(p->base, -1, 0, queue_push_flush, q);
	if (q->sched == NULL || q->supp == NULL || q->push_ev == NULL)
		fatal_nomem(__func__);
}

/* queue_timers - the scheduler's tick and the periodic compaction */
static void
queue_timers(struct queue *q)
{
	struct timeval tv = { 0, TICK_MS * 1000 };
	struct timeval ct = { q->conf.compact_interval_ms / 1000,
	    (q->conf.compact_interval_ms % 1000) * 1000 };

	q->tick = event_new(q->proc->base, -1, EV_PERSIST, queue_on_tick, q);
	if (q->tick == NULL || event_add(q->tick, &tv) < 0)
		fatalx("cannot start the timer");
	if (q->conf.compact_interval_ms == 0)
		return;
	q->compact_timer = event_new(q->proc->base, -1, EV_PERSIST,
	    queue_on_compact_timer, q);
	if (q->compact_timer == NULL || event_add(q->compact_timer, &ct) < 0)
		fatalx("cannot start the compaction timer");
}

/* queue_listen - bind the shard's endpoint, reach ph-control, timers */
static void
queue_listen(struct queue *q)
{
	char *err = NULL;
	const char *endpoint;

	if (config_endpoints(q->proc->cfg, &q->ep, &err) < 0)
		fatalx("%s", err ? err : "[endpoints]: bad configuration");
	endpoint = proc_endpoint(&q->ep.queue, q->proc->instance, "queue");
	q->srv = rpc_server_new(q->proc->base, endpoint, queue_on_request, q);
	if (q->srv == NULL)
		fatalx("cannot bind %s", endpoint);
	q->control = rpc_client_new(q->proc->base, q->ep.control, NULL);
	if (q->control == NULL)
		fatalx("cannot connect to %s", q->ep.control);
	log_info("shard %s on %s, database %s", q->shard, endpoint,
	    q->conf.db_dir);
	queue_timers(q);
}

/* queue_close - drain the writer (its replies still go out), free all */
static void
queue_close(struct queue *q)
{
	q->closing = 1;
	qcommit_free(q->commit);
	event_free(q->tick);
	if (q->compact_timer != NULL)
		event_free(q->compact_timer);
	rpc_client_free(q->control);	/* no answers after this */
	qsupp_free(q->supp);
	queue_push_flush(-1, 0, q);	/* the relays hear of what they hold */
	event_free(q->push_ev);
	free(q->pushes);
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
