/*
 * msg - the message catalogue: every frame between processes is one packed
 * ph.Envelope (proto/envelope.proto) whose oneof body names the message.
 *
 * Ownership: msg_send packs into a heap buffer that ZeroMQ owns from then on
 * (freed by ZeroMQ, or by msg_send itself when sending fails). The Envelope
 * struct passed in stays the caller's. An Envelope returned by msg_unpack is
 * freed with msg_free exactly once.
 */
#ifndef PH_MSG_H
#define PH_MSG_H

#include <stddef.h>
#include <stdint.h>
#include "envelope.pb-c.h"

/*
 * PH_PROTO_VERSION - bump on any change an older peer cannot read. Never reuse
 * or renumber a field in proto/; adding fields or messages needs no bump.
 */
#define PH_PROTO_VERSION 2

/* zpeer - a ROUTER routing id (who sent a request / who gets the reply) */
struct zpeer {
	size_t len;
	uint8_t id[255];
};

const char *msg_body_name(Ph__Envelope__BodyCase c);
/* msg_copy - a deep copy of M (packed and unpacked again), freed with
 * protobuf_c_message_free_unpacked; fatal when out of memory */
void *msg_copy(const ProtobufCMessage *m);
/* msg_outcome_name - "delivered", "deferred", "failed" (event logs, phctl) */
const char *msg_outcome_name(Ph__Outcome o);

/* msg_send - pack and send on SOCK (non-blocking); PEER is the routing id frame
 * for ROUTER sockets, NULL otherwise. 0, or -1 with errno (EAGAIN: HWM reached
 * or no connected peer; EHOSTUNREACH: unknown ROUTER peer). */
int msg_send(void *sock, const struct zpeer *peer, const Ph__Envelope *env);

/* msg_unpack - NULL for a frame that is not a valid Envelope (counted, logged) */
Ph__Envelope *msg_unpack(const void *data, size_t len);
void msg_free(Ph__Envelope *env);

/* msg_init - env with version set, request_id/deadline 0, body not set */
void msg_init(Ph__Envelope *env);

/* status helpers: fill a Ph__Status */
void msg_status_ok(Ph__Status *st);
void msg_status_err(Ph__Status *st, Ph__ErrorCode code, const char *message);

#endif
