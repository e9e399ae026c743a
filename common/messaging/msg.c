/*
 * msg - the catalogue: pack, send, unpack and name ph.Envelope frames.
 *
 * DIAGNOSTICS: an undecodable frame is logged (with its length) and counted;
 * it never aborts the receiver.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "log.h"
#include "msg.h"

static unsigned long msg_bad_frames;

const char *
msg_body_name(Ph__Envelope__BodyCase c)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field(&ph__envelope__descriptor, (unsigned)c);
	if (c == PH__ENVELOPE__BODY__NOT_SET || f == NULL)
		return "(none)";
	return f->name;
}

void *
msg_copy(const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	ProtobufCMessage *copy;

	if (buf == NULL)
		fatal_nomem("msg_copy");
	protobuf_c_message_pack(m, buf);
	copy = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
	free(buf);
	if (copy == NULL)
		fatal_nomem("msg_copy");
	return copy;
}

const char *
msg_outcome_name(Ph__Outcome o)
{
	switch (o) {
	case PH__OUTCOME__OUTCOME_DELIVERED:
		return "delivered";
	case PH__OUTCOME__OUTCOME_DEFERRED:
		return "deferred";
	case PH__OUTCOME__OUTCOME_FAILED:
		return "failed";
	default:
		return "unspecified";
	}
}

void
msg_init(Ph__Envelope *env)
{
	ph__envelope__init(env);
	env->version = PH_PROTO_VERSION;
}

/* msg_free_buf - ZeroMQ's free callback for heap-packed frames */
static void
msg_free_buf(void *data, void *hint)
{
	free(data);
}

int
msg_send(void *sock, const struct zpeer *peer, const Ph__Envelope *env)
{
	size_t len = ph__envelope__get_packed_size(env);
	uint8_t stack[4096], *buf = len <= sizeof(stack) ? stack : malloc(len);
	zmq_msg_t m;
	int rc;

	if (buf == NULL)
		return -1;
	ph__envelope__pack(env, buf);
	if (log_debug_enabled())
		log_debug("ipc send %s (%zu bytes) id=%llu", msg_body_name(env->body_case),
		    len, (unsigned long long)env->request_id);
	if (peer != NULL && zmq_send(sock, peer->id, peer->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
		if (buf != stack)
			free(buf);
		return -1;
	}
	if (buf == stack)
		return zmq_send(sock, buf, len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
	zmq_msg_init_data(&m, buf, len, msg_free_buf, NULL);	/* ZeroMQ owns buf now */
	rc = zmq_msg_send(&m, sock, ZMQ_DONTWAIT);
	if (rc < 0) {
		int saved = errno;
		zmq_msg_close(&m);
		errno = saved;
		return -1;
	}
	return 0;
}

Ph__Envelope *
msg_unpack(const void *data, size_t len)
{
	Ph__Envelope *env = ph__envelope__unpack(NULL, len, data);

	if (env == NULL) {
		msg_bad_frames++;
		log_warnx("ipc: undecodable frame of %zu bytes (%lu so far)", len, msg_bad_frames);
		return NULL;
	}
	if (log_debug_enabled())
		log_debug("ipc recv %s (%zu bytes) id=%llu", msg_body_name(env->body_case),
		    len, (unsigned long long)env->request_id);
	return env;
}

void
msg_free(Ph__Envelope *env)
{
	if (env != NULL)
		ph__envelope__free_unpacked(env, NULL);
}

void
msg_status_ok(Ph__Status *st)
{
	ph__status__init(st);
	st->ok = 1;
}

void
msg_status_err(Ph__Status *st, Ph__ErrorCode code, const char *message)
{
	ph__status__init(st);
	st->ok = 0;
	st->code = code;
	st->message = (char *)(message ? message : "");
}
