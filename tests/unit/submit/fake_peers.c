/*
 * fake_peers - fake ratelimiter and queue clients (see fake_peers.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_peers.h"

struct fake_peers fake;

/* keep - a copy of S (NULL: "") into BUF */
#define KEEP(buf, s) snprintf((buf), sizeof(buf), "%s", (s) ? (s) : "")

void __wrap_rl_client_take(struct rl_client *c, const char *shard_key,
    const Ph__RateLimit *const *limits, size_t n, uint64_t cost, rl_cb cb, void *arg);
void __wrap_rl_client_cancel(struct rl_client *c, void *arg);
void __wrap_queue_client_enqueue(struct queue_client *c, Ph__EnqueueRequest *req,
    queue_enqueue_cb cb, void *arg);
void __wrap_queue_client_cancel(struct queue_client *c, void *arg);

/* __wrap_rl_client_take - one limit: an auth failure, answered now; else
 * the tenant's limits, answered by fake_peers_step */
void
__wrap_rl_client_take(struct rl_client *c, const char *shard_key,
    const Ph__RateLimit *const *limits, size_t n, uint64_t cost, rl_cb cb, void *arg)
{
	static const struct rl_result allowed = { RL_ALLOWED, -1, 0, 0 };
	static const struct rl_result denied = { RL_DENIED, 0, 3, 1000 };

	if (n == 1) {
		fake.authfail++;
		KEEP(fake.authfail_key, shard_key);
		cb(arg, fake.authfail_over ? &denied : &allowed);
		return;
	}
	fake.rl_calls++;
	fake.rl_cb = cb;
	fake.rl_arg = arg;
	fake.rl_cost = cost;
	KEEP(fake.rl_shard, shard_key);
	KEEP(fake.rl_key0, limits[0]->key);
	fake.rl_limit0 = limits[0]->limit;
}

/* __wrap_rl_client_cancel - the pending check of ARG is forgotten */
void
__wrap_rl_client_cancel(struct rl_client *c, void *arg)
{
	if (fake.rl_arg == arg)
		fake.rl_cb = NULL;
}

/* __wrap_queue_client_enqueue - a copy of what the queue would store */
void
__wrap_queue_client_enqueue(struct queue_client *c, Ph__EnqueueRequest *req,
    queue_enqueue_cb cb, void *arg)
{
	size_t i, n = 0;

	fake.q_cb = cb;
	fake.q_arg = arg;
	KEEP(fake.source, req->source);
	KEEP(fake.tenant, req->tenant_id);
	KEEP(fake.message_id, req->message_id);
	KEEP(fake.header_from, req->header_from);
	KEEP(fake.subject, req->subject);
	KEEP(fake.compartment, req->compartment_id);
	KEEP(fake.selector, req->dkim_selector);
	KEEP(fake.mail_from, req->mail_from);
	fake.rcpts[0] = '\0';
	for (i = 0; i < req->n_rcpts; i++)
		n += (size_t)snprintf(fake.rcpts + n, sizeof(fake.rcpts) - n, "%s%s",
		    i ? "," : "", req->rcpts[i]);
	fake.nrcpt = req->n_rcpts;
	free(fake.body);
	fake.body = strndup((const char *)req->body.data, req->body.len);
}

/* __wrap_queue_client_cancel - the pending enqueue of ARG is forgotten */
void
__wrap_queue_client_cancel(struct queue_client *c, void *arg)
{
	if (fake.q_arg == arg)
		fake.q_cb = NULL;
}

/* fake_peers_reset - a clean slate */
void
fake_peers_reset(void)
{
	free(fake.body);
	memset(&fake, 0, sizeof(fake));
	fake.rl_result = (struct rl_result){ RL_ALLOWED, -1, 0, 0 };
	fake.q_ok = 1;
}

/* fake_peers_step - the ratelimiter's answer first, then the queue's */
bool
fake_peers_step(void)
{
	char id[32];

	if (fake.rl_cb) {
		rl_cb cb = fake.rl_cb;

		fake.rl_cb = NULL;
		cb(fake.rl_arg, &fake.rl_result);
		return true;
	}
	if (fake.q_cb) {
		queue_enqueue_cb cb = fake.q_cb;

		fake.q_cb = NULL;
		snprintf(id, sizeof(id), "Q%d", ++fake.enqueued);
		cb(fake.q_arg, fake.q_ok, fake.q_ok ? id : NULL);
		return true;
	}
	return false;
}
