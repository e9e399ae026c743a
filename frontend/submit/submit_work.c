/*
 * submit_work - the worker threads of a frontend (see submit_work.h).
 *
 * Jobs sit on a FIFO (todo) under one mutex; a worker pops one, runs it
 * without the lock, appends it to the done FIFO and writes one byte to the
 * wake-up pipe. The loop's pipe event pops the done FIFO one job at a time
 * and calls the job's done function: a done function may free another
 * owner, whose finished jobs must still be on the FIFO to be cancelled.
 * Cancelling only marks a job: a worker may be running it, and the job's
 * memory is its done function's to release. A job marked before a worker
 * took it is never run.
 *
 * DIAGNOSTICS: failure to create the threads or the pipe is returned as NULL
 * (the caller's fatal); nothing else is logged.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <event2/event.h>

#include "submit_work.h"

#define WORK_MAX_THREADS 16

struct work_job {
	struct work_job *next;
	const void *owner;
	submit_work_fn run;
	submit_work_done_fn done;
	void *arg;
	bool cancelled;		/* set on the loop under the mutex */
};

struct work_fifo {
	struct work_job *head, **tail;
};

struct submit_work {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct work_fifo todo, done;
	struct work_job *busy[WORK_MAX_THREADS];
	pthread_t threads[WORK_MAX_THREADS];
	int nthreads;
	bool stop;
	int pipe[2];
	struct event *ev;
};

/* fifo_push - append J */
static void
fifo_push(struct work_fifo *f, struct work_job *j)
{
	j->next = NULL;
	*f->tail = j;
	f->tail = &j->next;
}

/* fifo_pop - the oldest job, or NULL */
static struct work_job *
fifo_pop(struct work_fifo *f)
{
	struct work_job *j = f->head;

	if (j != NULL && (f->head = j->next) == NULL)
		f->tail = &f->head;
	return j;
}

/* work_notify - wake the loop: the done FIFO has jobs */
static void
work_notify(struct submit_work *w)
{
	if (write(w->pipe[1], "", 1) < 0) {
		/* the pipe is full: the loop has wake-ups pending anyway */
	}
}

/* work_pop - the next job to run for worker SLOT, NULL when stopping;
 * cancelled jobs go straight to the done FIFO */
static struct work_job *
work_pop(struct submit_work *w, int slot)
{
	struct work_job *j = NULL;
	bool skipped = false;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		if ((j = fifo_pop(&w->todo)) == NULL && skipped) {
			/* wake the loop for the skipped jobs before sleeping: the
			 * next wake-up may be far away */
			pthread_mutex_unlock(&w->mu);
			work_notify(w);
			skipped = false;
			pthread_mutex_lock(&w->mu);
			continue;
		} else if (j == NULL) {
			pthread_cond_wait(&w->cv, &w->mu);
		} else if (j->cancelled) {
			fifo_push(&w->done, j);
			skipped = true;
		} else {
			break;
		}
		j = NULL;
	}
	w->busy[slot] = j;
	pthread_mutex_unlock(&w->mu);
	if (skipped)
		work_notify(w);
	return j;
}

/* work_finished - worker SLOT is through with J: hand it to the loop */
static void
work_finished(struct submit_work *w, int slot, struct work_job *j)
{
	pthread_mutex_lock(&w->mu);
	w->busy[slot] = NULL;
	fifo_push(&w->done, j);
	pthread_mutex_unlock(&w->mu);
	work_notify(w);
}

/* work_thread - run jobs until stopped */
static void *
work_thread(void *arg)
{
	struct submit_work *w = arg;
	struct work_job *j;
	int slot;

	pthread_mutex_lock(&w->mu);
	for (slot = 0; !pthread_equal(w->threads[slot], pthread_self()); slot++)
		;
	pthread_mutex_unlock(&w->mu);
	while ((j = work_pop(w, slot)) != NULL) {
		j->run(j->arg);
		work_finished(w, slot, j);
	}
	return NULL;
}

/* work_end - J's done function, then J is gone */
static void
work_end(struct work_job *j, bool cancelled)
{
	j->done(j->arg, cancelled || j->cancelled);
	free(j);
}

/* work_wake - the loop side: end the finished jobs, oldest first */
static void
work_wake(evutil_socket_t fd, short what, void *arg)
{
	struct submit_work *w = arg;
	struct work_job *j;
	char buf[256];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		j = fifo_pop(&w->done);
		pthread_mutex_unlock(&w->mu);
		if (j == NULL)
			return;
		work_end(j, false);
	}
}

/* submit_work_new - NTHREADS workers and the wake-up pipe */
struct submit_work *
submit_work_new(struct event_base *base, int nthreads)
{
	struct submit_work *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->todo.tail = &w->todo.head;
	w->done.tail = &w->done.head;
	w->pipe[0] = w->pipe[1] = -1;
	if (pipe2(w->pipe, O_NONBLOCK | O_CLOEXEC) < 0 ||
	    (w->ev = event_new(base, w->pipe[0], EV_READ | EV_PERSIST, work_wake, w)) == NULL ||
	    event_add(w->ev, NULL) < 0)
		goto error;
	if (nthreads > WORK_MAX_THREADS)
		nthreads = WORK_MAX_THREADS;
	pthread_mutex_lock(&w->mu);
	for (; w->nthreads < nthreads; w->nthreads++)
		if (pthread_create(&w->threads[w->nthreads], NULL, work_thread, w) != 0)
			break;
	pthread_mutex_unlock(&w->mu);
	if (w->nthreads == 0)
		goto error;
	return w;
error:
	submit_work_free(w);
	return NULL;
}

/* submit_work_free - join the workers (each finishes its job), end every job */
void
submit_work_free(struct submit_work *w)
{
	struct work_job *j;
	int i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	while ((j = fifo_pop(&w->done)) != NULL || (j = fifo_pop(&w->todo)) != NULL)
		work_end(j, true);
	if (w->ev)
		event_free(w->ev);
	if (w->pipe[0] >= 0)
		close(w->pipe[0]);
	if (w->pipe[1] >= 0)
		close(w->pipe[1]);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/* submit_work_submit - append one job to the FIFO */
int
submit_work_submit(struct submit_work *w, const void *owner, submit_work_fn run,
    submit_work_done_fn done, void *arg)
{
	struct work_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return -1;
	j->owner = owner;
	j->run = run;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&w->mu);
	fifo_push(&w->todo, j);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

/* work_cancel_list - mark OWNER's jobs in list J */
static void
work_cancel_list(struct work_job *j, const void *owner)
{
	for (; j; j = j->next)
		if (j->owner == owner)
			j->cancelled = true;
}

/* submit_work_cancel - mark OWNER's jobs wherever they are */
void
submit_work_cancel(struct submit_work *w, const void *owner)
{
	int i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	work_cancel_list(w->todo.head, owner);
	work_cancel_list(w->done.head, owner);
	for (i = 0; i < w->nthreads; i++)
		if (w->busy[i] && w->busy[i]->owner == owner)
			w->busy[i]->cancelled = true;
	pthread_mutex_unlock(&w->mu);
}
