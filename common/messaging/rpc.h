/*
 * rpc - request/reply over DEALER (client) and ROUTER (server) with a table of
 * pending requests, each with a deadline. Nothing here blocks: a call returns at
 * once and its callback runs later, from the event loop, exactly once: with the
 * reply, or with NULL when the deadline passed or the peer could not be reached.
 *
 * Requests carry deadline_ms (unix ms); a server drops a request whose deadline
 * has passed before it is handled (the client has given up on it already) and
 * answers a request of another protocol version with Status ERR_VERSION.
 */
#ifndef PH_RPC_H
#define PH_RPC_H

#include <stdbool.h>
#include <stdint.h>
#include "msg.h"

struct event_base;

/* ---- client ---- */
struct rpc_client;
/* rpc_cb - REPLY is NULL on timeout/unreachable; it is freed after the callback */
typedef void (*rpc_cb)(void *arg, Ph__Envelope *reply);
/* rpc_push_cb - a message that is not a reply to a pending call (request_id 0);
 * the callback owns env */
typedef void (*rpc_push_cb)(void *arg, Ph__Envelope *env);

/* rpc_client_new - a DEALER connected to ENDPOINT; IDENTITY may be NULL */
struct rpc_client *rpc_client_new(struct event_base *base, const char *endpoint,
    const char *identity);
void rpc_client_free(struct rpc_client *c);
void rpc_client_on_push(struct rpc_client *c, rpc_push_cb cb, void *arg);
const char *rpc_client_endpoint(const struct rpc_client *c);

/* rpc_call - send REQ (request_id and deadline are set here) and call CB once.
 * 0 when sent; -1 when it could not be sent (CB is then never called). */
int rpc_call(struct rpc_client *c, Ph__Envelope *req, unsigned timeout_ms,
    rpc_cb cb, void *arg);
/* rpc_cancel - forget every pending call made with ARG (its callbacks never run) */
void rpc_cancel(struct rpc_client *c, void *arg);
/* rpc_send - one-way message (request_id 0). 0 or -1. */
int rpc_send(struct rpc_client *c, Ph__Envelope *msg);
size_t rpc_pending(const struct rpc_client *c);

/* ---- server ---- */
struct rpc_server;
/* rpc_handler - one request; the handler owns req (msg_free it) and replies
 * now or later with rpc_reply(srv, peer, req->request_id, ...). */
typedef void (*rpc_handler)(void *arg, struct rpc_server *srv,
    const struct zpeer *peer, Ph__Envelope *req);

struct rpc_server *rpc_server_new(struct event_base *base, const char *endpoint,
    rpc_handler handler, void *arg);
void rpc_server_free(struct rpc_server *s);
/* rpc_reply - send REP to PEER as the reply to REQUEST_ID. 0 or -1. */
int rpc_reply(struct rpc_server *s, const struct zpeer *peer, uint64_t request_id,
    Ph__Envelope *rep);
/* rpc_reply_status - reply with a bare Status (errors) */
int rpc_reply_status(struct rpc_server *s, const struct zpeer *peer,
    uint64_t request_id, Ph__ErrorCode code, const char *message);
/* rpc_push - unsolicited message to PEER (request_id 0). 0 or -1. */
int rpc_push(struct rpc_server *s, const struct zpeer *peer, Ph__Envelope *msg);

/* ---- publisher (one-way fan-out, e.g. policy change notices) ---- */
void *rpc_pub_new(const char *endpoint);
int rpc_publish(void *pub, Ph__Envelope *msg);
/* rpc_sub_new - a subscriber connected to a publisher's ENDPOINT, subscribed
 * to everything (watch it with zwatch_new; close it with zsock_close) */
void *rpc_sub_new(const char *endpoint);

#endif
