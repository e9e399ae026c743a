/*
 * queue_commit - group commit: one writer thread turns every job that arrived
 * while its previous write was in flight into one RocksDB WriteBatch and one
 * synced write, then hands the jobs back to the event loop (through an
 * eventfd), where the caller replies. The event loop never waits for a write.
 */
#ifndef PH_QUEUE_COMMIT_H
#define PH_QUEUE_COMMIT_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct queue_store;
struct qcommit;

enum qjob_kind {
	QJOB_ENQUEUE,	/* m/, b/ (DATA, BODY) and h/ (HREC, MS) of a new message */
	QJOB_STATE,	/* s/ record (DATA) */
	QJOB_DELETE,	/* every key of a message but its header log record */
	QJOB_HLOG,	/* h/ record (DATA, MS) */
	QJOB_COMPACT,	/* after the batch: flush and compact the store */
	QJOB_SUPP_PUT,	/* p/ record QID (DATA) of a pending suppression */
	QJOB_SUPP_DEL,	/* drop p/ record QID: ph-control has it */
};

struct qjob {
	enum qjob_kind kind;
	char qid[33];
	uint8_t *data;		/* owned by the job: metadata or state record */
	size_t len;
	const void *body;	/* QJOB_ENQUEUE: borrowed from OWNER */
	size_t blen;
	uint8_t *hrec;		/* QJOB_ENQUEUE: header log record, owned */
	size_t hlen;
	uint64_t ms;		/* QJOB_ENQUEUE, QJOB_HLOG: received_ms */
	void *owner;		/* the caller's context, untouched */
	int status;		/* after the write: 0 or -1 */
	struct qjob *next;
};

/* qcommit_done_cb - JOB was written (job->status 0) or not (-1); runs on the
 * loop, in submission order; the callback frees JOB with qjob_free */
typedef void (*qcommit_done_cb)(void *arg, struct qjob *job);

/* qcommit_new - start the writer thread; NULL on error */
struct qcommit *qcommit_new(struct event_base *base, struct queue_store *st,
    size_t batch_max, qcommit_done_cb cb, void *arg);
/* qcommit_free - write what is queued, run its callbacks, stop the thread */
void qcommit_free(struct qcommit *c);

/* qjob_new - a job of KIND for QID taking ownership of DATA (may be NULL) */
struct qjob *qjob_new(enum qjob_kind kind, const char *qid, uint8_t *data,
    size_t len);
void qjob_free(struct qjob *job);
void qcommit_submit(struct qcommit *c, struct qjob *job);

/* qcommit_sync_writes - synced writes done so far (group commits) */
uint64_t qcommit_sync_writes(const struct qcommit *c);

#endif
