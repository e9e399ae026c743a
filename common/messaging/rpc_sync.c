/*
 * rpc_sync - a blocking request/reply (see rpc_sync.h). Blocking is fine
 * for its callers: they have no event loop and do one thing at a time.
 * Deadlines travel as real unix ms, like every other request.
 *
 * DIAGNOSTICS: none; the caller reports the failure.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "rpc_sync.h"
#include "zsock.h"

#define RPC_SYNC_REQUEST_ID 1
#define RPC_SYNC_SEND_RETRY_US 5000

/* wall_ms - the real clock in unix ms (never the test clock) */
static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* send_until - retry while no peer is connected, until END (mono ms) */
static int send_until(void *sock, const Ph__Envelope *req, uint64_t end)
{
	while (msg_send(sock, NULL, req) == -1) {
		if (errno != EAGAIN || clock_mono_ms() >= end)
			return -1;
		usleep(RPC_SYNC_SEND_RETRY_US);
	}
	return 0;
}

/* recv_until - the reply to our request, until END (mono ms) */
static Ph__Envelope *recv_until(void *sock, uint64_t end)
{
	zmq_pollitem_t it = { sock, 0, ZMQ_POLLIN, 0 };

	for (uint64_t now = clock_mono_ms(); now < end; now = clock_mono_ms()) {
		zmq_msg_t m;
		Ph__Envelope *env;
		if (zmq_poll(&it, 1, (long)(end - now)) <= 0)
			continue;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			continue;
		}
		env = msg_unpack(zmq_msg_data(&m), zmq_msg_size(&m));
		zmq_msg_close(&m);
		if (env != NULL && env->request_id == RPC_SYNC_REQUEST_ID)
			return env;
		msg_free(env);
	}
	return NULL;
}

/* rpc_sync_call - one request and its reply, blocking up to the timeout */
int rpc_sync_call(const char *endpoint, Ph__Envelope *req, unsigned timeout_ms,
    Ph__Envelope **rep)
{
	uint64_t end = clock_mono_ms() + timeout_ms;
	void *sock = zsock_new(ZMQ_DEALER, endpoint, false, NULL);

	*rep = NULL;
	if (sock == NULL)
		return -1;
	req->version = PH_PROTO_VERSION;
	req->request_id = RPC_SYNC_REQUEST_ID;
	req->deadline_ms = wall_ms() + timeout_ms;
	if (send_until(sock, req, end) == 0)
		*rep = recv_until(sock, end);
	zsock_close(sock);
	if (*rep == NULL) {
		errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}
