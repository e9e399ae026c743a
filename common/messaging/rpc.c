/*
 * rpc - request/reply with deadlines over DEALER/ROUTER, and a publisher.
 *
 * Client: pending calls sit in a hash table keyed by request_id, each with a
 * timer on the request's deadline; the reply handler pops the entry and runs
 * its callback. A reply that arrives after its deadline finds no entry and is
 * dropped (logged at debug): with deadlines that is normal, not a bug.
 *
 * Server: a request whose deadline passed before it was read is dropped
 * unanswered (its caller has moved on), one of another protocol version gets
 * Status ERR_VERSION.
 *
 * DIAGNOSTICS: send failures return -1 to the caller; nothing here is fatal
 * but a failure to create the socket at start (fatal in the caller's setup).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <event2/event.h>
#include <zmq.h>

#include "log.h"
#include "rpc.h"
#include "zsock.h"

/* rpc_wall_ms - deadlines use the real clock, never the test clock offset */
static uint64_t
rpc_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct rpc_pending {
	uint64_t id;
	rpc_cb cb;
	void *arg;
	struct event *timer;
	struct rpc_client *client;
	struct rpc_pending *next;	/* hash chain */
};

#define RPC_TIMEOUTS 8

struct rpc_client {
	struct event_base *base;
	void *sock;
	struct zwatch *watch;
	char *endpoint;
	uint64_t next_id;
	struct rpc_pending **buckets;
	size_t nbuckets, count;
	rpc_push_cb push_cb;
	void *push_arg;
	struct { unsigned ms; const struct timeval *tv; } timeouts[RPC_TIMEOUTS];
};

static size_t
rpc_bucket(const struct rpc_client *c, uint64_t id)
{
	return (size_t)(id * 0x9E3779B97F4A7C15ull >> 17) & (c->nbuckets - 1);
}

static void
rpc_table_grow(struct rpc_client *c)
{
	size_t n = c->nbuckets * 2;
	struct rpc_pending **b = calloc(n, sizeof(*b));

	if (b == NULL)
		fatal_nomem(__func__);
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct rpc_pending *p = c->buckets[i], *next; p; p = next) {
			next = p->next;
			size_t h = (size_t)(p->id * 0x9E3779B97F4A7C15ull >> 17) & (n - 1);
			p->next = b[h];
			b[h] = p;
		}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

static void
rpc_table_put(struct rpc_client *c, struct rpc_pending *p)
{
	if (c->count >= c->nbuckets)
		rpc_table_grow(c);
	size_t h = rpc_bucket(c, p->id);
	p->next = c->buckets[h];
	c->buckets[h] = p;
	c->count++;
}

/* rpc_table_pop - unlink and return the entry for ID, NULL if none */
static struct rpc_pending *
rpc_table_pop(struct rpc_client *c, uint64_t id)
{
	for (struct rpc_pending **pp = &c->buckets[rpc_bucket(c, id)]; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			struct rpc_pending *p = *pp;
			*pp = p->next;
			c->count--;
			return p;
		}
	return NULL;
}

static void
rpc_pending_free(struct rpc_pending *p)
{
	event_free(p->timer);
	free(p);
}

static void
rpc_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct rpc_pending *p = arg;
	struct rpc_client *c = p->client;

	if (rpc_table_pop(c, p->id) != p)
		panic("rpc: timer for a request not in the table");
	log_debug("rpc %s: request %llu timed out", c->endpoint, (unsigned long long)p->id);
	rpc_cb cb = p->cb;
	void *cbarg = p->arg;
	rpc_pending_free(p);
	cb(cbarg, NULL);
}

static void
rpc_client_on_msg(void *arg, const struct zpeer *peer, Ph__Envelope *env)
{
	struct rpc_client *c = arg;
	struct rpc_pending *p;

	if (env->request_id == 0) {
		if (c->push_cb != NULL) {
			c->push_cb(c->push_arg, env);
			return;
		}
		log_warnx("rpc %s: unexpected %s", c->endpoint, msg_body_name(env->body_case));
		msg_free(env);
		return;
	}
	p = rpc_table_pop(c, env->request_id);
	if (p == NULL) {
		log_debug("rpc %s: late reply %llu dropped", c->endpoint,
		    (unsigned long long)env->request_id);
		msg_free(env);
		return;
	}
	rpc_cb cb = p->cb;
	void *cbarg = p->arg;
	rpc_pending_free(p);
	cb(cbarg, env);
	msg_free(env);
}

struct rpc_client *
rpc_client_new(struct event_base *base, const char *endpoint, const char *identity)
{
	struct rpc_client *c = calloc(1, sizeof(*c));

	if (c == NULL)
		fatal_nomem(__func__);
	c->sock = zsock_new(ZMQ_DEALER, endpoint, false, identity);
	if (c->sock == NULL) {
		free(c);
		return NULL;
	}
	c->base = base;
	c->endpoint = strdup(endpoint);
	c->nbuckets = 64;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	c->next_id = (uint64_t)rpc_wall_ms() << 16;	/* ids differ across restarts */
	c->watch = zwatch_new(base, c->sock, false, rpc_client_on_msg, c);
	return c;
}

void
rpc_client_free(struct rpc_client *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct rpc_pending *p = c->buckets[i], *next; p; p = next) {
			next = p->next;
			rpc_pending_free(p);
		}
	free(c->buckets);
	zwatch_free(c->watch);
	zsock_close(c->sock);
	free(c->endpoint);
	free(c);
}

void
rpc_client_on_push(struct rpc_client *c, rpc_push_cb cb, void *arg)
{
	c->push_cb = cb;
	c->push_arg = arg;
}

const char *
rpc_client_endpoint(const struct rpc_client *c)
{
	return c->endpoint;
}

/* rpc_common_timeout - libevent's O(1) timer queue for a repeated duration */
static const struct timeval *
rpc_common_timeout(struct rpc_client *c, unsigned ms)
{
	static struct timeval fallback;
	for (int i = 0; i < RPC_TIMEOUTS; i++) {
		if (c->timeouts[i].tv != NULL && c->timeouts[i].ms == ms)
			return c->timeouts[i].tv;
		if (c->timeouts[i].tv == NULL) {
			struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
			c->timeouts[i].ms = ms;
			c->timeouts[i].tv = event_base_init_common_timeout(c->base, &tv);
			return c->timeouts[i].tv;
		}
	}
	fallback.tv_sec = ms / 1000;
	fallback.tv_usec = (ms % 1000) * 1000;
	return &fallback;
}

int
rpc_call(struct rpc_client *c, Ph__Envelope *req, unsigned timeout_ms, rpc_cb cb, void *arg)
{
	struct rpc_pending *p;

	req->version = PH_PROTO_VERSION;
	req->request_id = ++c->next_id;
	req->deadline_ms = rpc_wall_ms() + timeout_ms;
	if (msg_send(c->sock, NULL, req) < 0) {
		log_debug("rpc %s: send %s: %s", c->endpoint,
		    msg_body_name(req->body_case), zmq_strerror(errno));
		return -1;
	}
	zwatch_kick(c->watch);
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		fatal_nomem(__func__);
	p->id = req->request_id;
	p->cb = cb;
	p->arg = arg;
	p->client = c;
	p->timer = evtimer_new(c->base, rpc_on_timeout, p);
	evtimer_add(p->timer, rpc_common_timeout(c, timeout_ms));
	rpc_table_put(c, p);
	return 0;
}

void
rpc_cancel(struct rpc_client *c, void *arg)
{
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct rpc_pending **pp = &c->buckets[i]; *pp;) {
			struct rpc_pending *p = *pp;
			if (p->arg != arg) {
				pp = &p->next;
				continue;
			}
			*pp = p->next;
			c->count--;
			rpc_pending_free(p);
		}
}

int
rpc_send(struct rpc_client *c, Ph__Envelope *msg)
{
	msg->version = PH_PROTO_VERSION;
	msg->request_id = 0;
	if (msg_send(c->sock, NULL, msg) < 0)
		return -1;
	zwatch_kick(c->watch);
	return 0;
}

size_t
rpc_pending(const struct rpc_client *c)
{
	return c->count;
}

/* ---- server ---- */

struct rpc_server {
	void *sock;
	struct zwatch *watch;
	rpc_handler handler;
	void *arg;
	unsigned long expired, version_mismatch;
};

static void
rpc_server_on_msg(void *arg, const struct zpeer *peer, Ph__Envelope *env)
{
	struct rpc_server *s = arg;

	if (env->version != PH_PROTO_VERSION) {
		s->version_mismatch++;
		log_warnx("rpc: %s of protocol version %u refused (ours %u)",
		    msg_body_name(env->body_case), env->version, PH_PROTO_VERSION);
		if (env->request_id != 0)
			rpc_reply_status(s, peer, env->request_id, PH__ERROR_CODE__ERR_VERSION,
			    "protocol version mismatch");
		msg_free(env);
		return;
	}
	if (env->deadline_ms != 0 && env->deadline_ms < rpc_wall_ms()) {
		s->expired++;
		log_debug("rpc: expired %s dropped", msg_body_name(env->body_case));
		msg_free(env);
		return;
	}
	s->handler(s->arg, s, peer, env);
}

struct rpc_server *
rpc_server_new(struct event_base *base, const char *endpoint, rpc_handler handler, void *arg)
{
	struct rpc_server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		fatal_nomem(__func__);
	s->sock = zsock_new(ZMQ_ROUTER, endpoint, true, NULL);
	if (s->sock == NULL) {
		free(s);
		return NULL;
	}
	s->handler = handler;
	s->arg = arg;
	s->watch = zwatch_new(base, s->sock, true, rpc_server_on_msg, s);
	return s;
}

void
rpc_server_free(struct rpc_server *s)
{
	if (s == NULL)
		return;
	zwatch_free(s->watch);
	zsock_close(s->sock);
	free(s);
}

int
rpc_reply(struct rpc_server *s, const struct zpeer *peer, uint64_t request_id,
    Ph__Envelope *rep)
{
	int rc;

	rep->version = PH_PROTO_VERSION;
	rep->request_id = request_id;
	rep->deadline_ms = 0;
	rc = msg_send(s->sock, peer, rep);
	if (rc < 0)
		log_debug("rpc: reply %s: %s", msg_body_name(rep->body_case), zmq_strerror(errno));
	zwatch_kick(s->watch);
	return rc;
}

int
rpc_reply_status(struct rpc_server *s, const struct zpeer *peer, uint64_t request_id,
    Ph__ErrorCode code, const char *message)
{
	Ph__Envelope rep;
	Ph__Status st;

	msg_init(&rep);
	msg_status_err(&st, code, message);
	rep.body_case = PH__ENVELOPE__BODY_STATUS;
	rep.status = &st;
	return rpc_reply(s, peer, request_id, &rep);
}

int
rpc_push(struct rpc_server *s, const struct zpeer *peer, Ph__Envelope *msg)
{
	return rpc_reply(s, peer, 0, msg);
}

void *
rpc_pub_new(const char *endpoint)
{
	return zsock_new(ZMQ_PUB, endpoint, true, NULL);
}

void *
rpc_sub_new(const char *endpoint)
{
	return zsock_new(ZMQ_SUB, endpoint, false, NULL);
}

int
rpc_publish(void *pub, Ph__Envelope *msg)
{
	msg->version = PH_PROTO_VERSION;
	return msg_send(pub, NULL, msg);
}
