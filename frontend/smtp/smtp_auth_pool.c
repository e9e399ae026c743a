/*
 * smtp_auth_pool - worker threads for scrypt password checks.
 *
 * Jobs sit on a FIFO (todo) under one mutex; a worker pops one, runs
 * crypto_scrypt_verify without the lock, wipes the password copy, moves the
 * job to the done list and writes one byte to the wake-up pipe. The loop's
 * pipe event drains the done list and runs each callback whose job was not
 * cancelled. Cancelling only marks a job (cb = NULL): a worker may be using it.
 *
 * DIAGNOSTICS: failure to create the threads or the pipe is returned as NULL
 * (the caller's fatal); nothing else is logged.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "crypto.h"
#include "smtp_auth_pool.h"

#define AUTH_POOL_MAX_THREADS 16
#define AUTH_SALT_MAX 64

struct auth_job {
	struct auth_job *next;
	smtp_auth_cb cb;		/* NULL once cancelled */
	void *arg;
	char *password;
	uint8_t salt[AUTH_SALT_MAX], hash[CRYPTO_SCRYPT_LEN];
	size_t saltlen, hashlen;
	int ok;
};

struct smtp_auth_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct auth_job *todo, **todo_tail, *done, *busy[AUTH_POOL_MAX_THREADS];
	pthread_t threads[AUTH_POOL_MAX_THREADS];
	int nthreads;
	int stop;
	int pipe[2];
	struct event *ev;
};

/* auth_job_free - wipe the password and release */
static void
auth_job_free(struct auth_job *j)
{
	OPENSSL_clear_free(j->password, strlen(j->password));
	OPENSSL_cleanse(j, sizeof(*j));
	free(j);
}

/* auth_pool_pop - the next job for worker SLOT, NULL when stopping */
static struct auth_job *
auth_pool_pop(struct smtp_auth_pool *p, int slot)
{
	struct auth_job *j;

	pthread_mutex_lock(&p->mu);
	while (!p->stop && p->todo == NULL)
		pthread_cond_wait(&p->cv, &p->mu);
	if ((j = p->stop ? NULL : p->todo) != NULL) {
		if ((p->todo = j->next) == NULL)
			p->todo_tail = &p->todo;
		p->busy[slot] = j;
	}
	pthread_mutex_unlock(&p->mu);
	return j;
}

/* auth_pool_worker - verify jobs until stopped */
static void *
auth_pool_worker(void *arg)
{
	struct smtp_auth_pool *p = arg;
	struct auth_job *j;
	int slot;

	pthread_mutex_lock(&p->mu);
	for (slot = 0; !pthread_equal(p->threads[slot], pthread_self()); slot++)
		;
	pthread_mutex_unlock(&p->mu);
	while ((j = auth_pool_pop(p, slot)) != NULL) {
		j->ok = crypto_scrypt_verify(j->password, j->salt, j->saltlen,
		    j->hash, j->hashlen) == 1;
		OPENSSL_cleanse(j->password, strlen(j->password));
		pthread_mutex_lock(&p->mu);
		p->busy[slot] = NULL;
		j->next = p->done;
		p->done = j;
		pthread_mutex_unlock(&p->mu);
		if (write(p->pipe[1], "", 1) < 0) {
			/* the pipe is full: the loop has wake-ups pending anyway */
		}
	}
	return NULL;
}

/* auth_pool_wake - the loop side: run the callbacks of finished jobs */
static void
auth_pool_wake(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_auth_pool *p = arg;
	struct auth_job *j, *next, *rev = NULL;
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&p->mu);
	for (j = p->done; j; j = next) {	/* oldest first */
		next = j->next;
		j->next = rev;
		rev = j;
	}
	p->done = NULL;
	pthread_mutex_unlock(&p->mu);
	for (j = rev; j; j = next) {
		next = j->next;
		if (j->cb)
			j->cb(j->arg, j->ok);
		auth_job_free(j);
	}
}

/* smtp_auth_pool_new - NTHREADS workers and the wake-up pipe */
struct smtp_auth_pool *
smtp_auth_pool_new(struct event_base *base, int nthreads)
{
	struct smtp_auth_pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->todo_tail = &p->todo;
	p->pipe[0] = p->pipe[1] = -1;
	if (pipe2(p->pipe, O_NONBLOCK | O_CLOEXEC) < 0 ||
	    (p->ev = event_new(base, p->pipe[0], EV_READ | EV_PERSIST, auth_pool_wake, p)) == NULL ||
	    event_add(p->ev, NULL) < 0)
		goto error;
	if (nthreads > AUTH_POOL_MAX_THREADS)
		nthreads = AUTH_POOL_MAX_THREADS;
	pthread_mutex_lock(&p->mu);
	for (; p->nthreads < nthreads; p->nthreads++)
		if (pthread_create(&p->threads[p->nthreads], NULL, auth_pool_worker, p) != 0)
			break;
	pthread_mutex_unlock(&p->mu);
	if (p->nthreads == 0)
		goto error;
	return p;
error:
	smtp_auth_pool_free(p);
	return NULL;
}

/* auth_pool_free_list - release a list of jobs */
static void
auth_pool_free_list(struct auth_job *j)
{
	struct auth_job *next;

	for (; j; j = next) {
		next = j->next;
		auth_job_free(j);
	}
}

/* smtp_auth_pool_free - join the workers, drop every job */
void
smtp_auth_pool_free(struct smtp_auth_pool *p)
{
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	for (i = 0; i < p->nthreads; i++)
		if (p->busy[i])
			auth_job_free(p->busy[i]);
	auth_pool_free_list(p->todo);
	auth_pool_free_list(p->done);
	if (p->ev)
		event_free(p->ev);
	if (p->pipe[0] >= 0)
		close(p->pipe[0]);
	if (p->pipe[1] >= 0)
		close(p->pipe[1]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* smtp_auth_pool_check - queue one verification */
int
smtp_auth_pool_check(struct smtp_auth_pool *p, const char *password,
    const uint8_t *salt, size_t saltlen, const uint8_t *hash, size_t hashlen,
    smtp_auth_cb cb, void *arg)
{
	struct auth_job *j = calloc(1, sizeof(*j));

	if (j == NULL || (j->password = strdup(password)) == NULL) {
		free(j);
		return -1;
	}
	j->saltlen = saltlen < AUTH_SALT_MAX ? saltlen : AUTH_SALT_MAX;
	j->hashlen = hashlen < CRYPTO_SCRYPT_LEN ? hashlen : CRYPTO_SCRYPT_LEN;
	memcpy(j->salt, salt, j->saltlen);
	memcpy(j->hash, hash, j->hashlen);
	j->cb = cb;
	j->arg = arg;
	pthread_mutex_lock(&p->mu);
	*p->todo_tail = j;
	p->todo_tail = &j->next;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* auth_pool_cancel_list - mark the jobs of ARG in list J */
static void
auth_pool_cancel_list(struct auth_job *j, void *arg)
{
	for (; j; j = j->next)
		if (j->arg == arg)
			j->cb = NULL;
}

/* smtp_auth_pool_cancel - forget ARG's jobs wherever they are */
void
smtp_auth_pool_cancel(struct smtp_auth_pool *p, void *arg)
{
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	auth_pool_cancel_list(p->todo, arg);
	auth_pool_cancel_list(p->done, arg);
	for (i = 0; i < p->nthreads; i++)
		if (p->busy[i] && p->busy[i]->arg == arg)
			p->busy[i]->cb = NULL;
	pthread_mutex_unlock(&p->mu);
}
