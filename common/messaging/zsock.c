/*
 * zsock - every ZeroMQ socket is made here, and joined to libevent here.
 *
 * ZMQ_FD signals "the socket's state may have changed", edge-triggered: the
 * watcher receives until EAGAIN after every wake-up and after every send
 * (zwatch_kick), at most ZWATCH_BATCH frames per turn so one busy socket cannot
 * starve the rest of the loop.
 *
 * DIAGNOSTICS: socket creation and bind failures are logged and returned as
 * NULL (the caller decides if that is fatal); malformed frames are dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <event2/event.h>
#include <zmq.h>

#include "fsdir.h"
#include "log.h"
#include "zsock.h"

#define ZSOCK_HWM 200000
#define ZSOCK_BIND_TRIES 20
#define ZWATCH_BATCH 512

static void *zctx;

void *
zsock_ctx(void)
{
	if (zctx == NULL) {
		zctx = zmq_ctx_new();
		if (zctx == NULL)
			fatal("zmq_ctx_new");
		zmq_ctx_set(zctx, ZMQ_IO_THREADS, 1);
	}
	return zctx;
}

void
zsock_ctx_term(void)
{
	if (zctx != NULL)
		zmq_ctx_term(zctx);
	zctx = NULL;
}

/* zsock_ipc_prepare - make the directory of an ipc:// endpoint, drop a stale file */
static void
zsock_ipc_prepare(const char *endpoint)
{
	if (strncmp(endpoint, "ipc://", 6) != 0 || endpoint[6] == '@')
		return;
	unlink(endpoint + 6);
	fsdir_make_for(endpoint + 6, 0755);	/* a failure shows in the bind */
}

static int
zsock_setint(void *s, int opt, int v)
{
	return zmq_setsockopt(s, opt, &v, sizeof(v));
}

/* zsock_bind_address - what to bind for ENDPOINT. One config names every
 * endpoint as its clients reach it ("tcp://queue-0:7001"); ZeroMQ binds only
 * addresses and interface names, so a tcp:// host that is not a numeric
 * address binds every interface (host "*", same port) instead. */
static void
zsock_bind_address(const char *endpoint, char *out, size_t len)
{
	const char *host = endpoint + 6, *colon = strrchr(endpoint, ':');
	unsigned char addr[16];
	char name[256];

	snprintf(out, len, "%s", endpoint);
	if (strncmp(endpoint, "tcp://", 6) != 0 || colon == NULL || colon < host ||
	    host[0] == '*' || host[0] == '[')
		return;
	snprintf(name, sizeof(name), "%.*s", (int)(colon - host), host);
	if (inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1)
		return;
	snprintf(out, len, "tcp://*%s", colon);
}

/* zsock_bind - bind with a bounded number of retries (a restarted process can
 * race its predecessor's teardown) */
static int
zsock_bind(void *s, const char *endpoint)
{
	char addr[512];

	zsock_bind_address(endpoint, addr, sizeof(addr));
	for (int i = 0; i < ZSOCK_BIND_TRIES; i++) {
		zsock_ipc_prepare(endpoint);
		if (zmq_bind(s, addr) == 0)
			return 0;
		log_warnx("bind %s: %s (try %d)", endpoint, zmq_strerror(errno), i + 1);
		usleep(100000);
	}
	return -1;
}

void *
zsock_new(int type, const char *endpoint, bool bind, const char *identity)
{
	void *s = zmq_socket(zsock_ctx(), type);

	if (s == NULL) {
		log_warnx("zmq_socket: %s", zmq_strerror(errno));
		return NULL;
	}
	zsock_setint(s, ZMQ_LINGER, 0);
	zsock_setint(s, ZMQ_SNDHWM, ZSOCK_HWM);
	zsock_setint(s, ZMQ_RCVHWM, ZSOCK_HWM);
	if (type == ZMQ_DEALER)
		zsock_setint(s, ZMQ_IMMEDIATE, 1);
	if (type == ZMQ_ROUTER) {
		zsock_setint(s, ZMQ_ROUTER_MANDATORY, 1);
		zsock_setint(s, ZMQ_ROUTER_HANDOVER, 1);
	}
	if (type == ZMQ_SUB)
		zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
	if (identity != NULL)
		zmq_setsockopt(s, ZMQ_ROUTING_ID, identity, strlen(identity));
	if (bind ? zsock_bind(s, endpoint) : zmq_connect(s, endpoint)) {
		log_warnx("%s %s: %s", bind ? "bind" : "connect", endpoint, zmq_strerror(errno));
		zmq_close(s);
		return NULL;
	}
	return s;
}

void
zsock_close(void *sock)
{
	if (sock != NULL)
		zmq_close(sock);
}

struct zwatch {
	void *sock;
	bool router;
	struct event *ev;
	zwatch_cb cb;
	void *arg;
};

/* zwatch_recv_frame - one frame into a fresh message; 0 or -1 (EAGAIN) */
static int
zwatch_recv_frame(void *sock, zmq_msg_t *m)
{
	zmq_msg_init(m);
	if (zmq_msg_recv(m, sock, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(m);
		return -1;
	}
	return 0;
}

/* zwatch_drain_rest - discard the remaining frames of a malformed multipart */
static void
zwatch_drain_rest(void *sock, zmq_msg_t *last)
{
	while (zmq_msg_more(last)) {
		zmq_msg_close(last);
		if (zwatch_recv_frame(sock, last) < 0)
			return;
	}
	zmq_msg_close(last);
}

/* zwatch_recv_one - receive one logical message and hand it to the callback.
 * Returns 0 when a message was consumed, -1 when none was waiting. */
static int
zwatch_recv_one(struct zwatch *w)
{
	struct zpeer peer = { 0 };
	zmq_msg_t m;
	Ph__Envelope *env;

	if (zwatch_recv_frame(w->sock, &m) < 0)
		return -1;
	if (w->router) {
		size_t len = zmq_msg_size(&m);
		if (!zmq_msg_more(&m) || len == 0 || len > sizeof(peer.id)) {
			zwatch_drain_rest(w->sock, &m);
			return 0;
		}
		peer.len = len;
		memcpy(peer.id, zmq_msg_data(&m), len);
		zmq_msg_close(&m);
		if (zwatch_recv_frame(w->sock, &m) < 0)
			return 0;
	}
	if (zmq_msg_more(&m)) {
		zwatch_drain_rest(w->sock, &m);
		return 0;
	}
	env = msg_unpack(zmq_msg_data(&m), zmq_msg_size(&m));
	zmq_msg_close(&m);
	if (env != NULL)
		w->cb(w->arg, w->router ? &peer : NULL, env);
	return 0;
}

static void
zwatch_on_fd(evutil_socket_t fd, short what, void *arg)
{
	struct zwatch *w = arg;

	/* Receive until EAGAIN rather than asking ZMQ_EVENTS before each
	 * message: a non-blocking receive that finds nothing processes the
	 * socket's pending commands, which re-arms ZMQ_FD just as the ZMQ_EVENTS
	 * query would, and the messages in between cost no extra system call. */
	for (int i = 0; i < ZWATCH_BATCH; i++)
		if (zwatch_recv_one(w) < 0)
			return;
	event_active(w->ev, EV_READ, 0);	/* more waiting: continue next turn */
}

struct zwatch *
zwatch_new(struct event_base *base, void *sock, bool router, zwatch_cb cb, void *arg)
{
	struct zwatch *w = calloc(1, sizeof(*w));
	int fd;
	size_t len = sizeof(fd);

	if (w == NULL)
		fatal_nomem(__func__);
	if (zmq_getsockopt(sock, ZMQ_FD, &fd, &len) < 0)
		fatalx("ZMQ_FD: %s", zmq_strerror(errno));
	w->sock = sock;
	w->router = router;
	w->cb = cb;
	w->arg = arg;
	w->ev = event_new(base, fd, EV_READ | EV_PERSIST, zwatch_on_fd, w);
	event_add(w->ev, NULL);
	event_active(w->ev, EV_READ, 0);
	return w;
}

void
zwatch_kick(struct zwatch *w)
{
	event_active(w->ev, EV_READ, 0);
}

void
zwatch_free(struct zwatch *w)
{
	if (w == NULL)
		return;
	event_free(w->ev);
	free(w);
}

void *
zwatch_socket(struct zwatch *w)
{
	return w->sock;
}
