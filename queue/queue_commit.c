/*
 * queue_commit - the writer thread of a queue shard (group commit).
 *
 * The loop appends jobs to a pending list and signals the writer. The writer
 * takes everything pending (up to batch_max jobs and BATCH_BYTES_MAX bytes),
 * writes it as one batch with sync=1, moves the jobs to a done list and
 * wakes the loop through an eventfd. While it syncs, new jobs accumulate and
 * form the next batch: the number of fsyncs follows the disk, not the
 * message rate. Only a batch holding an enqueue is synced: the 250 depends on
 * it. Results, state and deletes are written without a sync; they reach the
 * WAL file at once (the page cache survives a kill -9 of the process) and the
 * disk with the next synced batch, so only a machine crash can forget a
 * result, and that means a delivery is repeated, never lost.
 *
 * A compaction job is written (as nothing) with its batch, so everything
 * submitted before it is on disk; then the writer hands it to a second
 * thread, the compactor, which flushes and compacts while the writer goes
 * on with new batches. Neither the loop nor the enqueues wait for it.
 *
 * DIAGNOSTICS: a failed write fails every job of its batch (status -1,
 * warning); failure to start the thread is returned to the caller.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "queue_commit.h"
#include "queue_store.h"

#define BATCH_BYTES_MAX (16u << 20)

struct qjob_list {
	struct qjob *head, *tail;
};

struct qcommit {
	struct queue_store *st;
	size_t batch_max;
	qcommit_done_cb cb;
	void *arg;
	pthread_t thread;
	pthread_t compactor;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_cond_t ccv;		/* compactor wake-up */
	struct qjob_list compacts;	/* writer -> compactor */
	struct qjob_list pending;	/* loop -> writer */
	struct qjob_list done;		/* writer -> loop */
	int stop;
	int efd;
	struct event *ev;
	uint64_t sync_writes;		/* under mu */
};

/* list_append - add JOB at the tail of L */
static void
list_append(struct qjob_list *l, struct qjob *job)
{
	job->next = NULL;
	if (l->tail != NULL)
		l->tail->next = job;
	else
		l->head = job;
	l->tail = job;
}

/* list_concat - move all of FROM to the tail of TO */
static void
list_concat(struct qjob_list *to, struct qjob_list *from)
{
	if (from->head == NULL)
		return;
	if (to->tail != NULL)
		to->tail->next = from->head;
	else
		to->head = from->head;
	to->tail = from->tail;
	from->head = from->tail = NULL;
}

/* take_batch - detach the next batch from c->pending (under mu) */
static struct qjob_list
take_batch(struct qcommit *c)
{
	struct qjob_list b = { NULL, NULL };
	size_t n = 0, bytes = 0;

	while (c->pending.head != NULL && n < c->batch_max &&
	    (n == 0 || bytes < BATCH_BYTES_MAX)) {
		struct qjob *j = c->pending.head;
		c->pending.head = j->next;
		if (c->pending.head == NULL)
			c->pending.tail = NULL;
		bytes += j->len + j->blen;
		n++;
		list_append(&b, j);
	}
	return b;
}

/* batch_add - the writes of one job */
static void
batch_add(struct queue_store *st, struct queue_batch *b, struct qjob *j)
{
	switch (j->kind) {
	case QJOB_ENQUEUE:
		queue_store_put_message(st, b, j->qid, j->data, j->len, j->body,
		    j->blen);
		if (j->hrec != NULL)
			queue_store_put_hlog(st, b, j->qid, j->ms, j->hrec,
			    j->hlen);
		break;
	case QJOB_STATE:
		queue_store_put_state(st, b, j->qid, j->data, j->len);
		break;
	case QJOB_DELETE:
		queue_store_del_message(st, b, j->qid);
		break;
	case QJOB_HLOG:
		queue_store_put_hlog(st, b, j->qid, j->ms, j->data, j->len);
		break;
	case QJOB_SUPP_PUT:
		queue_store_put_pending(st, b, j->qid, j->data, j->len);
		break;
	case QJOB_SUPP_DEL:
		queue_store_del_pending(st, b, j->qid);
		break;
	case QJOB_COMPACT:
		break;
	}
}

/* batch_write - one write of every job in L, synced when it holds an
 * enqueue; sets their status; 1 when it synced */
static int
batch_write(struct qcommit *c, struct qjob_list *l)
{
	struct queue_batch *b = queue_store_batch(c->st);
	int rc = -1, sync = 0;

	if (b != NULL) {
		for (struct qjob *j = l->head; j != NULL; j = j->next) {
			batch_add(c->st, b, j);
			sync |= j->kind == QJOB_ENQUEUE;
		}
		rc = queue_store_commit(c->st, b, sync);
		queue_store_batch_free(c->st, b);
	}
	if (rc < 0)
		log_warnx("queue store: batch write failed");
	for (struct qjob *j = l->head; j != NULL; j = j->next)
		j->status = rc;
	return sync;
}

/* split_compacts - move the compaction jobs of B to c->compacts (under mu);
 * 1 when there were some */
static int
split_compacts(struct qcommit *c, struct qjob_list *b)
{
	struct qjob_list rest = { NULL, NULL };
	int found = 0;

	for (struct qjob *j = b->head, *n; j != NULL; j = n) {
		n = j->next;
		if (j->kind == QJOB_COMPACT && j->status == 0) {
			list_append(&c->compacts, j);
			found = 1;
		} else {
			list_append(&rest, j);
		}
	}
	*b = rest;
	return found;
}

/* writer_main - the writer thread: batch, write, hand back, repeat */
static void *
writer_main(void *arg)
{
	struct qcommit *c = arg;
	struct qjob_list b;
	uint64_t one = 1;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (c->pending.head == NULL && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->pending.head == NULL)
			break;
		b = take_batch(c);
		pthread_mutex_unlock(&c->mu);
		int synced = batch_write(c, &b);
		pthread_mutex_lock(&c->mu);
		c->sync_writes += synced;
		if (split_compacts(c, &b))
			pthread_cond_signal(&c->ccv);
		list_concat(&c->done, &b);
		if (write(c->efd, &one, sizeof(one)) < 0)
			log_warn("queue commit: eventfd write");
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* compactor_main - the compactor thread: one compaction at a time; those
 * still waiting at the stop fail */
static void *
compactor_main(void *arg)
{
	struct qcommit *c = arg;
	struct qjob *j;
	uint64_t one = 1;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (c->compacts.head == NULL && !c->stop)
			pthread_cond_wait(&c->ccv, &c->mu);
		if ((j = c->compacts.head) == NULL)
			break;
		if ((c->compacts.head = j->next) == NULL)
			c->compacts.tail = NULL;
		pthread_mutex_unlock(&c->mu);
		j->status = c->stop ? -1 : queue_store_compact(c->st);
		if (j->status < 0)
			log_warnx("queue store: compaction failed or cancelled");
		pthread_mutex_lock(&c->mu);
		list_append(&c->done, j);
		if (write(c->efd, &one, sizeof(one)) < 0)
			log_warn("queue commit: eventfd write");
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* run_done - call back every finished job, in order (loop thread) */
static void
run_done(struct qcommit *c)
{
	struct qjob_list l;

	pthread_mutex_lock(&c->mu);
	l = c->done;
	c->done.head = c->done.tail = NULL;
	pthread_mutex_unlock(&c->mu);
	for (struct qjob *j = l.head, *n; j != NULL; j = n) {
		n = j->next;
		c->cb(c->arg, j);
	}
}

/* on_eventfd - the writer finished batches */
static void
on_eventfd(evutil_socket_t fd, short what, void *arg)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0)
		return;
	run_done(arg);
}

/* qcommit_stop_writer - let the writer drain what is queued and end */
static void
qcommit_stop_writer(struct qcommit *c)
{
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_cond_signal(&c->ccv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
}

/* qcommit_new - the writer thread and its wake-up event */
struct qcommit *
qcommit_new(struct event_base *base, struct queue_store *st, size_t batch_max,
    qcommit_done_cb cb, void *arg)
{
	struct qcommit *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->st = st;
	c->batch_max = batch_max ? batch_max : 1;
	c->cb = cb;
	c->arg = arg;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	pthread_cond_init(&c->ccv, NULL);
	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->efd < 0)
		goto error;
	c->ev = event_new(base, c->efd, EV_READ | EV_PERSIST, on_eventfd, c);
	if (c->ev == NULL || event_add(c->ev, NULL) < 0)
		goto error;
	if (pthread_create(&c->thread, NULL, writer_main, c) != 0)
		goto error;
	if (pthread_create(&c->compactor, NULL, compactor_main, c) != 0) {
		qcommit_stop_writer(c);
		goto error;
	}
	return c;
error:
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->efd >= 0)
		close(c->efd);
	free(c);
	return NULL;
}

/* qcommit_free - drain the queue, join the threads, run the last callbacks */
void
qcommit_free(struct qcommit *c)
{
	if (c == NULL)
		return;
	qcommit_stop_writer(c);
	pthread_join(c->compactor, NULL);
	for (struct qjob *j = c->compacts.head; j != NULL; j = j->next)
		j->status = -1;		/* handed over after the compactor ended */
	list_concat(&c->done, &c->compacts);
	run_done(c);
	event_free(c->ev);
	close(c->efd);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	pthread_cond_destroy(&c->ccv);
	free(c);
}

/* qjob_new - a job; DATA becomes the job's */
struct qjob *
qjob_new(enum qjob_kind kind, const char *qid, uint8_t *data, size_t len)
{
	struct qjob *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->kind = kind;
	strncpy(j->qid, qid, sizeof(j->qid) - 1);
	j->data = data;
	j->len = len;
	return j;
}

/* qjob_free - free JOB and its data */
void
qjob_free(struct qjob *job)
{
	if (job == NULL)
		return;
	free(job->data);
	free(job->hrec);
	free(job);
}

/* qcommit_submit - queue JOB for the next batch */
void
qcommit_submit(struct qcommit *c, struct qjob *job)
{
	pthread_mutex_lock(&c->mu);
	list_append(&c->pending, job);
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* qcommit_sync_writes - group commits so far */
uint64_t
qcommit_sync_writes(const struct qcommit *c)
{
	uint64_t n;

	pthread_mutex_lock((pthread_mutex_t *)&c->mu);
	n = c->sync_writes;
	pthread_mutex_unlock((pthread_mutex_t *)&c->mu);
	return n;
}
