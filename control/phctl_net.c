/*
 * phctl_net - one blocking request/reply for the CLI: a DEALER from zsock_new,
 * the send retried while the peer is not connected yet (zsock DEALERs are
 * ZMQ_IMMEDIATE), zmq_poll for the reply, everything within the timeout.
 * Blocking is fine here: phctl has no event loop and does one thing.
 *
 * DIAGNOSTICS: an unreachable peer, a timeout or a refusal is printed on
 * stderr and returned as -1.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "phctl.h"
#include "zsock.h"

#define PHCTL_REQUEST_ID 1

/* phctl_err - a message on stderr */
int phctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("phctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return PHCTL_EXIT_ERR;
}

/* wall_ms - deadlines travel as real unix ms (never the test clock) */
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
		usleep(5000);
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
		if (env != NULL && env->request_id == PHCTL_REQUEST_ID)
			return env;
		msg_free(env);
	}
	return NULL;
}

/* phctl_call - one request and its reply, blocking up to the timeout */
int phctl_call(struct phctl *ph, const char *endpoint, Ph__Envelope *req,
    Ph__Envelope **rep)
{
	uint64_t end = clock_mono_ms() + ph->timeout_ms;
	void *sock = zsock_new(ZMQ_DEALER, endpoint, false, NULL);

	if (sock == NULL)
		return phctl_err("cannot connect to %s", endpoint), -1;
	req->version = PH_PROTO_VERSION;
	req->request_id = PHCTL_REQUEST_ID;
	req->deadline_ms = wall_ms() + ph->timeout_ms;
	*rep = NULL;
	if (send_until(sock, req, end) == 0)
		*rep = recv_until(sock, end);
	zsock_close(sock);
	if (*rep == NULL)
		return phctl_err("no answer from %s within %u ms", endpoint, ph->timeout_ms), -1;
	return 0;
}

/* status_err - print a refusal carried by ST */
static int status_err(const Ph__Status *st)
{
	return phctl_err("%s", st != NULL && st->message[0] ? st->message : "request failed");
}

/* phctl_policy - a control request whose reply must be ok */
int phctl_policy(struct phctl *ph, Ph__Envelope *req, Ph__Envelope **rep)
{
	const Ph__Status *st = NULL;

	if (phctl_call(ph, ph->ep.control, req, rep) == -1)
		return -1;
	if ((*rep)->body_case == PH__ENVELOPE__BODY_POLICY_REPLY) {
		st = (*rep)->policy_reply->status;
		if (st != NULL && st->ok)
			return 0;
	} else if ((*rep)->body_case == PH__ENVELOPE__BODY_STATUS) {
		st = (*rep)->status;
	}
	status_err(st);
	msg_free(*rep);
	*rep = NULL;
	return -1;
}
