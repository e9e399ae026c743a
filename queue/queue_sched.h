/*
 * queue_sched - the scheduler of one queue shard: turns messages into
 * delivery tasks (one per recipient domain), hands ready tasks to relays
 * under credit-based flow control, takes leases back when they expire or the
 * relay restarts, applies results idempotently, retries deferred recipients
 * on the retry schedule until the message expires.
 *
 * It owns only memory. Bodies are read from the store when a task is handed
 * out; state changes leave through the io callbacks (the shard queues them
 * for the writer thread; tests write them to the memory store). Time comes
 * from clock_now_ms().
 */
#ifndef PH_QUEUE_SCHED_H
#define PH_QUEUE_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "queue.pb-c.h"

struct qmsg;
struct qsched;
struct queue_store;

struct qsched_cfg {
	uint64_t lease_ms;		/* a leased task comes back after this */
	uint64_t max_age_ms;		/* deferred past received + this: failed */
	const uint64_t *retry_ms;	/* delay after the Nth deferral; last repeats */
	size_t nretry;
	const char *shard;		/* shard name for tasks and logs */
};

struct qsched_io {
	/* push - send ENV (a DeliveryTask) to relay PEER; 0 or -1 */
	int (*push)(void *arg, const struct zpeer *peer, Ph__Envelope *env);
	/* save_state - persist the s/ record of M (not necessarily synced) */
	void (*save_state)(void *arg, struct qmsg *m, const void *state,
	    size_t len);
	/* remove - every recipient of M is final: delete the message (M is
	 * freed after the call) */
	void (*remove)(void *arg, struct qmsg *m);
	/* outcome - recipient I of M got result R (NULL: none); REPLY is
	 * R's reply or the local reason; m->rcpts[i].state is the state
	 * after it (PENDING: deferred) */
	void (*outcome)(void *arg, struct qmsg *m, uint32_t i,
	    const Ph__RecipientResult *r, const char *reply);
	/* failed - the N recipients IDX of M just failed (after their
	 * outcome calls, before M is saved or removed): bounce them */
	void (*failed)(void *arg, struct qmsg *m, const uint32_t *idx,
	    size_t n);
	void *arg;
};

/* qsched_new - CFG's strings and arrays must outlive the scheduler */
struct qsched *qsched_new(const struct qsched_cfg *cfg,
    struct queue_store *store, const struct qsched_io *io);
void qsched_free(struct qsched *s);

/* qsched_add - schedule a message just made durable; 0 or -1 (no memory) */
int qsched_add(struct qsched *s, const char *qid, const Ph__EnqueueRequest *req);
/* qsched_restore - schedule a message loaded from the store at start-up.
 * 0, or -1 when its records are malformed (it is then left alone). */
int qsched_restore(struct qsched *s, const char *qid, const void *meta,
    size_t mlen, const void *state, size_t slen);

void qsched_on_hello(struct qsched *s, const struct zpeer *peer,
    const Ph__RelayHello *m);
/* qsched_push_failed - a pushed task never reached its relay: ready again */
void qsched_push_failed(struct qsched *s, uint64_t task_id);
void qsched_on_credit(struct qsched *s, const struct zpeer *peer,
    const Ph__TaskCredit *m);
void qsched_on_result(struct qsched *s, const struct zpeer *peer,
    const Ph__TaskResult *m);
/* qsched_tick - expire leases, wake deferred tasks whose time came, dispatch */
void qsched_tick(struct qsched *s);

/* qsched_stats - fill the scheduler's fields of ST (messages, recipients,
 * ready/leased/deferred, delivered/failed/deferred totals) */
void qsched_stats(const struct qsched *s, Ph__QueueStats *st);

#endif
