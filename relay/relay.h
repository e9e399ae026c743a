/*
 * relay - ph-relay, the outbound delivery worker: its configuration, the
 * process context shared by its modules, and the delivery task (one
 * DeliveryTask from a queue shard, with the per-recipient results of this
 * attempt).
 *
 * Modules: relay_run (queue flow, credits, hello), relay_task (results and
 * the relayed log), relay_dest (per-destination queues and connection pools),
 * relay_session (SMTP client), relay_dns (c-ares), relay_route (static
 * routes), relay_reply (pure SMTP helpers), relay_tls (STARTTLS),
 * relay_throttle (per-destination throttles from ph-ratelimiter).
 */
#ifndef PH_RELAY_H
#define PH_RELAY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include "config.h"
#include "envelope.pb-c.h"
#include "relay_route.h"

struct proc;
struct policy;
struct relay_dns;
struct relay_dests;
struct relay_throttle;
struct relay_tls_policies;
struct rpc_client;
struct event;
struct event_base;
typedef struct ssl_ctx_st SSL_CTX;

/* relay_config - the [relay] section */
struct relay_config {
	long long credits;		/* tasks in flight per shard */
	struct strvec routes;		/* "domain=host:port" */
	struct strvec dns_servers;	/* "ip:port"; empty = resolv.conf */
	long long dns_timeout_ms;
	long long dns_cache_ms;		/* longest reuse of a DNS answer (TTL cap) */
	long long dns_negative_ms;	/* NXDOMAIN reuse when no SOA says */
	long long mx_port;		/* port of MX hosts (25; tests change it) */
	long long idle_timeout_ms;
	long long max_conns;		/* per destination */
	long long initial_conns;	/* slow start: first connection window */
	long long backoff_min_ms;	/* first delay of a failing destination */
	long long backoff_max_ms;
	long long connect_timeout_ms;
	long long command_timeout_ms;
	long long data_timeout_ms;
	long long hello_interval_ms;
	char *hostname;			/* EHLO name */
	bool starttls;			/* STARTTLS where the policy is "may" */
	struct strvec tls_policy;	/* "domain=may|encrypt|verify" */
	char *tls_ca_file;		/* for verify; "" = system store */
	bool use_policy;		/* routes from ph-control's policy store */
	long long dest_rate;		/* messages per window per destination, 0 = off */
	long long dest_conn_rate;	/* new connections per window, 0 = off */
	long long dest_window_ms;	/* of both throttles (relay_throttle.h) */
	long long dest_hold_ms;		/* longest wait of a throttled task */
};

/* relay_shard - one queue shard we take tasks from */
struct relay_shard {
	struct relay *relay;
	struct rpc_client *rpc;
	const char *endpoint;
	unsigned inflight;		/* tasks received, result not yet sent */
	Ph__TaskResult **results;	/* to send at the end of this loop turn */
	size_t nresults, capresults;
};

/* relay - the process context */
struct relay {
	struct proc *proc;
	struct event_base *base;
	struct relay_config cfg;
	struct relay_routes routes;
	struct ph_endpoints ep;
	char relay_id[64];
	uint64_t incarnation;
	struct relay_shard *shards;
	size_t nshards;
	struct policy *policy;
	struct relay_dns *dns;
	struct relay_dests *dests;
	struct relay_throttle *throttle;	/* NULL when off */
	SSL_CTX *tls_ctx;		/* no certificate check (may, encrypt) */
	SSL_CTX *tls_verify_ctx;	/* checks certificates (policy verify) */
	struct relay_tls_policies *tls_policies;
	struct event *hello_timer;
	struct event *hello_retry;
	struct event *results_ev;	/* end of the loop turn: send the results */
	bool started;			/* hellos sent, tasks flowing */
};

/* relay_rcpt - one recipient of a task and its outcome in this attempt */
struct relay_rcpt {
	uint32_t index;
	const char *address;		/* points into the task's envelope */
	Ph__Outcome outcome;		/* UNSPECIFIED until known */
	bool accepted;			/* RCPT got 2xx, waiting for the data reply */
	char *reply;
};

/* relay_task - a DeliveryTask being worked on */
struct relay_task {
	struct relay *relay;
	struct relay_shard *shard;
	Ph__Envelope *env;		/* owned */
	const Ph__DeliveryTask *t;	/* env's body */
	struct relay_rcpt *rcpts;
	size_t n;
	unsigned requeues;		/* connection losses before the data */
	char remote_host[320];		/* "host (ip)" of the last attempt */
	char tls_version[32];
	char tls_cipher[64];
	uint64_t start_mono;
	TAILQ_ENTRY(relay_task) entry;	/* in its destination's queue */
};

/* relay_run - the process: set up, report READY, run the loop */
int relay_run(struct proc *p);

/* relay_task_new - wrap ENV (taken) received from SHARD; NULL on bad input */
struct relay_task *relay_task_new(struct relay *r, struct relay_shard *shard,
    Ph__Envelope *env);
/* relay_task_set - outcome of recipient I unless already known */
void relay_task_set(struct relay_task *t, size_t i, Ph__Outcome o,
    const char *reply);
/* relay_task_set_rest - OUTCOME for every recipient not yet known */
void relay_task_set_rest(struct relay_task *t, Ph__Outcome o, const char *reply);
/* relay_task_done - report the result to the shard, log, free */
void relay_task_done(struct relay_task *t);
/* relay_task_free - drop without reporting (shutdown) */
void relay_task_free(struct relay_task *t);
/* relay_results_flush - the results of this loop turn, one TaskResultBatch
 * per shard (relay->results_ev runs it; also before shutdown) */
void relay_results_flush(struct relay *r);

#endif
