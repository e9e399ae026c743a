/*
 * health - the answers to GET /health/ready and GET /health/live (for
 * Kubernetes probes, compose healthchecks, load balancers), and the tiny
 * plain-HTTP listener (libevent evhttp) that serves them for every process
 * without an HTTP listener of its own. ph-httpd answers the same two paths
 * on its HTTPS listener with health_answer.
 *
 *   /health/live   200 {"status":"live","process":NAME,"instance":N}: the
 *                  event loop answers
 *   /health/ready  200 {"status":"ready",...} when the process can do its
 *                  job now, else 503 {"status":"not ready",...,"reason":WHY}
 *   other paths    404; methods other than GET and HEAD: 405
 *
 * Config [health] (read by every process that has the listener):
 *   listen = 127.0.0.1:9800   "host:port" or "[v6]:port"; "off": no listener
 *   port_per_process = yes    yes: PORT is a base, and each process listens
 *                             on PORT + the offset of its kind + its instance
 *                             (ph-control +0, ph-ratelimiter +40, ph-queue
 *                             +80, ph-relay +120, ph-smtpd +160; at most 40
 *                             instances of a kind), so one machine holds a
 *                             whole installation; no: every process on PORT
 *                             itself (one process per container)
 */
#ifndef PH_HEALTH_H
#define PH_HEALTH_H

#include <stdbool.h>

struct event_base;
struct evhttp_request;
struct ph_config;

/* health_status - whether the process can do its job now, and if not why */
struct health_status {
	bool ready;
	const char *reason;	/* when not ready: "starting", "stopping", ... */
};
typedef void (*health_status_fn)(void *arg, struct health_status *st);

struct health;

/* health_new - the [health] listener of process NAME, INSTANCE; STATUS(ARG)
 * decides /health/ready. NULL when [health] listen = off. Fatal on a bad
 * [health] section, a kind without a port (NAME unknown, instance >= 40)
 * or an address that cannot be bound. */
struct health *health_new(struct event_base *base, const struct ph_config *cfg,
    const char *name, int instance, health_status_fn status, void *arg);
/* health_free - close the listener; NULL is fine */
void health_free(struct health *h);
/* health_answer - when PATH is /health/ready or /health/live, reply to REQ
 * (from ST for ready) and return 1; else 0 and REQ is left alone */
int health_answer(struct evhttp_request *req, const char *path, const char *name,
    int instance, const struct health_status *st);

#endif
