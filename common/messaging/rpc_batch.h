/*
 * rpc_batch - the calls of one batched request (rl_client's RateCheckBatch,
 * queue_client's EnqueueBatch): one rpc_call carries many callers' requests
 * and its reply has an entry per caller, by slot.
 *
 * A caller may go away (cancel) while the batch is in flight: its slot is
 * emptied, and when no caller is left the rpc is cancelled and the batch
 * freed. While the reply is being handed out (rpc_batch_replying) callbacks
 * may cancel other callers of the same batch; the reply handler frees it.
 */
#ifndef PH_RPC_BATCH_H
#define PH_RPC_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "rpc.h"

struct rpc_batch {
	struct rpc_client *rpc;		/* where it went */
	size_t shard;			/* the owner's index of RPC */
	size_t n, live;			/* slots used; callers still waiting */
	bool replying;
	void *calls[];			/* by slot; NULL: gone */
};

/* rpc_batch_new - an empty batch for up to MAX callers to RPC; fatal when
 * out of memory */
struct rpc_batch *rpc_batch_new(struct rpc_client *rpc, size_t shard, size_t max);
/* rpc_batch_add - CALL takes the next slot; returns it */
size_t rpc_batch_add(struct rpc_batch *b, void *call);
/* rpc_batch_call - send REQ (its body holds every caller's request, by
 * slot) with rpc_call(B->rpc, ..., CB, B): 0, then every caller waits; or,
 * when it cannot be sent, -1 after UNSENT ran for each caller and B was
 * freed */
int rpc_batch_call(struct rpc_batch *b, Ph__Envelope *req, unsigned timeout_ms,
    rpc_cb cb, void (*unsent)(void *call));
/* rpc_batch_forget - the caller at SLOT went away; frees B (cancelling its
 * rpc) when it was the last one and no reply is being handed out */
void rpc_batch_forget(struct rpc_batch *b, size_t slot);
/* rpc_batch_replying - the reply handler starts: it frees B at the end */
void rpc_batch_replying(struct rpc_batch *b);
/* rpc_batch_take - in the reply handler: the caller at SLOT (NULL when it
 * went away), its slot emptied */
void *rpc_batch_take(struct rpc_batch *b, size_t slot);

#endif
