/*
 * fake_peers - the ratelimiter and queue clients of the submission
 * pipeline's unit tests (test_submit, and test_smtp_session behind it),
 * replaced with -Wl,--wrap (the submit_fake_peers library carries the
 * options): a tenant-limit check or an enqueue is remembered and answered
 * later, by fake_peers_step(), as the loop would; a one-limit check (SMTP's
 * auth-failure count) is answered at once.
 */
#ifndef FAKE_PEERS_H
#define FAKE_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue_client.h"
#include "ratelimit.h"
#include "rl_client.h"

struct fake_peers {
	/* tenant limits: the last check, and what the fake answers */
	rl_cb rl_cb;
	void *rl_arg;
	int rl_calls;
	char rl_shard[RATELIMIT_KEY_MAX];
	uint64_t rl_cost;
	char rl_key0[RATELIMIT_KEY_MAX];
	uint64_t rl_limit0;
	struct rl_result rl_result;
	/* auth failures per client IP */
	int authfail;
	char authfail_key[RATELIMIT_KEY_MAX];
	bool authfail_over;
	/* the queue: the last request, and what the fake answers */
	queue_enqueue_cb q_cb;
	void *q_arg;
	int q_ok;
	int enqueued;			/* answered enqueues, ids Q1, Q2, ... */
	char source[16], tenant[128], message_id[256], header_from[256], subject[256];
	char compartment[64], selector[64], mail_from[256];
	char rcpts[512];		/* "a,b" */
	size_t nrcpt;
	char *body;			/* a copy */
};

extern struct fake_peers fake;

/* fake_peers_reset - nothing pending; the fakes allow and store */
void fake_peers_reset(void);
/* fake_peers_step - answer the oldest pending call; false when none */
bool fake_peers_step(void);

#endif
