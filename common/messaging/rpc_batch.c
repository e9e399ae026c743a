/*
 * rpc_batch - the calls of one batched request (see rpc_batch.h).
 */
#include <stdlib.h>

#include "log.h"
#include "rpc.h"
#include "rpc_batch.h"

struct rpc_batch *
rpc_batch_new(struct rpc_client *rpc, size_t shard, size_t max)
{
	struct rpc_batch *b = calloc(1, sizeof(*b) + max * sizeof(b->calls[0]));

	if (b == NULL)
		fatal_nomem("rpc_batch");
	b->rpc = rpc;
	b->shard = shard;
	return b;
}

size_t
rpc_batch_add(struct rpc_batch *b, void *call)
{
	b->calls[b->n] = call;
	return b->n++;
}

int
rpc_batch_call(struct rpc_batch *b, Ph__Envelope *req, unsigned timeout_ms,
    rpc_cb cb, void (*unsent)(void *call))
{
	if (rpc_call(b->rpc, req, timeout_ms, cb, b) < 0) {
		for (size_t i = 0; i < b->n; i++)
			unsent(b->calls[i]);
		free(b);
		return -1;
	}
	b->live = b->n;
	return 0;
}

void
rpc_batch_forget(struct rpc_batch *b, size_t slot)
{
	b->calls[slot] = NULL;
	if (--b->live == 0 && !b->replying) {
		rpc_cancel(b->rpc, b);
		free(b);
	}
}

void
rpc_batch_replying(struct rpc_batch *b)
{
	b->replying = true;
}

void *
rpc_batch_take(struct rpc_batch *b, size_t slot)
{
	void *call = b->calls[slot];

	b->calls[slot] = NULL;
	return call;
}
