/*
 * test_submit_work - the worker pool: jobs run on workers and end on the loop,
 * cancelled jobs end with cancelled set (queued ones never run), a done
 * function may cancel another owner's finished job, and freeing the pool
 * ends every job left.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <cmocka.h>
#include <event2/event.h>

#include "submit_work.h"

#define NJOBS 64

struct job {
	int in, out;
	atomic_int ran;			/* RUN calls */
	int ended, cancelled;		/* DONE calls, with cancelled set */
	pthread_t run_thread;
	sem_t *gate;			/* RUN waits on it when set */
	sem_t *started;			/* RUN posts it when set */
	struct submit_work *w;		/* DONE cancels CANCEL_OWNER when set */
	const void *cancel_owner;
};

struct fixture {
	struct event_base *base;
	struct submit_work *w;
	int ended;			/* DONE calls, all jobs */
};

static struct fixture *fx;

/* job_run - double IN, after the gate when there is one */
static void
job_run(void *arg)
{
	struct job *j = arg;

	if (j->started)
		sem_post(j->started);
	if (j->gate)
		sem_wait(j->gate);
	j->run_thread = pthread_self();
	j->out = 2 * j->in;
	atomic_fetch_add(&j->ran, 1);
}

/* job_done - count, and cancel another owner when asked */
static void
job_done(void *arg, bool cancelled)
{
	struct job *j = arg;

	j->ended++;
	j->cancelled += cancelled;
	fx->ended++;
	if (j->w && j->cancel_owner)
		submit_work_cancel(j->w, j->cancel_owner);
}

/* loop_until - run the loop until N jobs ended (bounded) */
static void
loop_until(int n)
{
	struct timeval tv = { 0, 20000 };

	for (int i = 0; fx->ended < n && i < 500; i++) {
		event_base_loopexit(fx->base, &tv);
		event_base_dispatch(fx->base);
	}
	assert_int_equal(fx->ended, n);
}

static int
setup(void **state)
{
	static struct fixture f;

	f.base = event_base_new();
	f.w = submit_work_new(f.base, 2);
	f.ended = 0;
	fx = &f;
	*state = &f;
	return f.base && f.w ? 0 : -1;
}

static int
teardown(void **state)
{
	submit_work_free(fx->w);
	event_base_free(fx->base);
	return 0;
}

/* test_jobs_end_on_loop - every job ran on a worker, ended once on the loop */
static void
test_jobs_end_on_loop(void **state)
{
	static struct job jobs[NJOBS];

	for (int i = 0; i < NJOBS; i++) {
		jobs[i] = (struct job){ .in = i };
		assert_int_equal(submit_work_submit(fx->w, &jobs[i], job_run, job_done, &jobs[i]), 0);
	}
	loop_until(NJOBS);
	for (int i = 0; i < NJOBS; i++) {
		if (jobs[i].out != 2 * i || jobs[i].ended != 1 || jobs[i].cancelled != 0)
			fail_msg("job %d: got out %d ended %d cancelled %d, want %d 1 0", i,
			    jobs[i].out, jobs[i].ended, jobs[i].cancelled, 2 * i);
		assert_false(pthread_equal(jobs[i].run_thread, pthread_self()));
	}
}

/* test_cancel_queued_never_runs - both workers blocked; a queued job that
 * is cancelled ends cancelled without running; the running ones end normally */
static void
test_cancel_queued_never_runs(void **state)
{
	static struct job block[2], queued;
	sem_t gate, started;
	int owner_a = 0, owner_b = 0;

	sem_init(&gate, 0, 0);
	sem_init(&started, 0, 0);
	for (int i = 0; i < 2; i++) {
		block[i] = (struct job){ .gate = &gate, .started = &started };
		submit_work_submit(fx->w, &owner_a, job_run, job_done, &block[i]);
	}
	sem_wait(&started);
	sem_wait(&started);
	queued = (struct job){ .in = 7 };
	submit_work_submit(fx->w, &owner_b, job_run, job_done, &queued);
	submit_work_cancel(fx->w, &owner_b);
	sem_post(&gate);
	sem_post(&gate);
	loop_until(3);
	assert_int_equal(atomic_load(&queued.ran), 0);
	assert_int_equal(queued.ended, 1);
	assert_int_equal(queued.cancelled, 1);
	for (int i = 0; i < 2; i++)
		assert_int_equal(block[i].cancelled, 0);
	sem_destroy(&gate);
	sem_destroy(&started);
}

/* test_cancel_running - a job cancelled while it runs still ends, cancelled */
static void
test_cancel_running(void **state)
{
	static struct job j;
	sem_t gate, started;
	int owner = 0;

	sem_init(&gate, 0, 0);
	sem_init(&started, 0, 0);
	j = (struct job){ .in = 3, .gate = &gate, .started = &started };
	submit_work_submit(fx->w, &owner, job_run, job_done, &j);
	sem_wait(&started);
	submit_work_cancel(fx->w, &owner);
	sem_post(&gate);
	loop_until(1);
	assert_int_equal(atomic_load(&j.ran), 1);
	assert_int_equal(j.ended, 1);
	assert_int_equal(j.cancelled, 1);
	sem_destroy(&gate);
	sem_destroy(&started);
}

/* test_done_cancels_finished_job - A's done frees "session" B while B's job
 * is finished too: B's job must end cancelled */
static void
test_done_cancels_finished_job(void **state)
{
	static struct job a, b;
	int owner_a = 0, owner_b = 0;

	a = (struct job){ .w = fx->w, .cancel_owner = &owner_b };
	b = (struct job){ 0 };
	submit_work_submit(fx->w, &owner_a, job_run, job_done, &a);
	submit_work_submit(fx->w, &owner_b, job_run, job_done, &b);
	while (atomic_load(&a.ran) == 0 || atomic_load(&b.ran) == 0)
		;	/* both finished before the loop looks */
	loop_until(2);
	assert_int_equal(a.cancelled, 0);
	assert_int_equal(b.cancelled, 1);
}

/* test_free_ends_everything - jobs never seen by the loop end cancelled */
static void
test_free_ends_everything(void **state)
{
	static struct job jobs[NJOBS];

	for (int i = 0; i < NJOBS; i++) {
		jobs[i] = (struct job){ .in = i };
		submit_work_submit(fx->w, &jobs[i], job_run, job_done, &jobs[i]);
	}
	submit_work_free(fx->w);
	fx->w = NULL;
	assert_int_equal(fx->ended, NJOBS);
	for (int i = 0; i < NJOBS; i++)
		assert_int_equal(jobs[i].cancelled, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_jobs_end_on_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_queued_never_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_done_cancels_finished_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_ends_everything, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
