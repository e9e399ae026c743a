/*
 * rpc_sync - one blocking request/reply, for programs without an event loop
 * (phctl): a DEALER to the endpoint, the send retried while the peer is not
 * connected yet (DEALERs are ZMQ_IMMEDIATE), then a wait for the reply to
 * this request, everything within one timeout.
 */
#ifndef PH_RPC_SYNC_H
#define PH_RPC_SYNC_H

#include "msg.h"

/* rpc_sync_call - send REQ (version, request_id and deadline are set here)
 * to ENDPOINT and wait up to TIMEOUT_MS for its reply. 0 with *REP set (the
 * caller msg_frees it); -1 with *REP NULL when the socket could not be made
 * (errno from ZeroMQ) or no reply came in time (errno ETIMEDOUT). */
int rpc_sync_call(const char *endpoint, Ph__Envelope *req, unsigned timeout_ms,
    Ph__Envelope **rep);

#endif
