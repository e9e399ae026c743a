/*
 * zsock - ZeroMQ sockets in a libevent loop.
 *
 * zsock_new creates every socket the same way: LINGER 0, send/receive HWM,
 * ZMQ_IMMEDIATE on DEALERs (a send with no connected peer fails at once with
 * EAGAIN instead of queueing for a peer that may never come), ROUTER_MANDATORY
 * and ROUTER_HANDOVER on ROUTERs. bind is retried a bounded number of times
 * (a restarted process may find its old ipc:// file); stale ipc files are removed.
 *
 * zwatch joins a socket to a libevent loop through ZMQ_FD. ZMQ_FD is edge
 * triggered: after any send on a watched socket call zwatch_kick so pending
 * input is not left unread (msg traffic through rpc.h does this for you).
 */
#ifndef PH_ZSOCK_H
#define PH_ZSOCK_H

#include <stdbool.h>
#include "msg.h"

struct event_base;

/* zsock_ctx - the process-wide ZeroMQ context (created on first use) */
void *zsock_ctx(void);
void zsock_ctx_term(void);

/* zsock_new - TYPE is ZMQ_DEALER/ROUTER/PUB/SUB; BIND or connect ENDPOINT.
 * IDENTITY (may be NULL) sets ZMQ_ROUTING_ID before connecting. NULL on error. */
void *zsock_new(int type, const char *endpoint, bool bind, const char *identity);
void zsock_close(void *sock);

struct zwatch;
/* zwatch_cb - one received Envelope; the callback owns env (msg_free it).
 * peer is the sender's routing id on ROUTER sockets, NULL otherwise. */
typedef void (*zwatch_cb)(void *arg, const struct zpeer *peer, Ph__Envelope *env);

struct zwatch *zwatch_new(struct event_base *base, void *sock, bool router,
    zwatch_cb cb, void *arg);
void zwatch_kick(struct zwatch *w);
void zwatch_free(struct zwatch *w);
void *zwatch_socket(struct zwatch *w);

#endif
