/*
 * queue_shard - the state of one running shard, shared by the files of
 * ph-queue's process (queue_server.c: setup and dispatch; queue_write.c:
 * enqueues and every other job for the writer thread; queue_bounce.c: DSNs
 * and suppressions).
 * Private to queue/.
 */
#ifndef PH_QUEUE_SHARD_H
#define PH_QUEUE_SHARD_H

#include <stdint.h>

#include "config.h"
#include "msg.h"
#include "queue.h"
#include "queue_commit.h"
#include "control.pb-c.h"

struct event;
struct proc;
struct qmsg;
struct qsched;
struct qsupp;
struct qsupp_item;
struct queue_store;
struct rpc_client;
struct rpc_server;

/* qpush - a copy of a DeliveryTask waiting for the end of the loop turn */
struct qpush {
	struct zpeer peer;
	Ph__DeliveryTask *task;
};

struct queue {
	struct proc *proc;
	struct queue_conf conf;
	struct ph_endpoints ep;
	char shard[32];
	char hostname[256];		/* [queue] hostname or gethostname() */
	struct queue_store *store;
	struct qcommit *commit;
	struct qsched *sched;
	struct rpc_server *srv;
	struct rpc_client *control;	/* suppressions of hard bounces */
	struct qsupp *supp;		/* the ones ph-control has not confirmed */
	struct event *tick;
	struct event *compact_timer;
	struct qpush *pushes;		/* tasks to push at the end of this turn */
	size_t npushes, cappushes;
	struct event *push_ev;
	int closing;		/* stopping: the writer drains, nothing new */
	uint64_t enqueued_total;
};

/* queue_on_enqueue - an EnqueueRequest from PEER; takes ENV */
void queue_on_enqueue(struct queue *q, const struct zpeer *peer,
    Ph__Envelope *env);
/* queue_on_enqueue_batch - an EnqueueBatch from PEER, answered with one
 * EnqueueBatchReply when every message has its answer; takes ENV */
void queue_on_enqueue_batch(struct queue *q, const struct zpeer *peer,
    Ph__Envelope *env);
/* queue_enqueue_local - store REQ (packed copy taken) like a frontend's
 * message, under a new queue id written to QID; no reply. 0 or -1. */
int queue_enqueue_local(struct queue *q, const Ph__EnqueueRequest *req,
    char qid[33]);
/* queue_on_job - a job the writer finished (loop thread) */
void queue_on_job(void *arg, struct qjob *job);
/* queue_submit - a job without owner for the writer (DATA copied; MS as
 * qjob.ms); nothing while closing (redone after the restart) */
void queue_submit(struct queue *q, enum qjob_kind kind, const char *qid,
    const void *data, size_t len, uint64_t ms);
/* queue_on_compact - QueueCompact from PEER: a compaction job, the reply
 * when it is done */
void queue_on_compact(struct queue *q, const struct zpeer *peer,
    uint64_t request_id);

/* queue_bounce - the recipients IDX of M failed: DSN and suppressions */
void queue_bounce(struct queue *q, struct qmsg *m, const uint32_t *idx,
    size_t n);

/* the qsupp_io of the shard (queue_bounce.c): p/ records through the
 * writer, offers as PolicyPut to ph-control */
void queue_supp_save(void *arg, const char *id, const void *data,
    size_t len);
void queue_supp_forget(void *arg, const char *id);
int queue_supp_send(void *arg, struct qsupp_item *it,
    const Ph__Suppression *x);

#endif
