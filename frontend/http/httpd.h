/*
 * httpd - the ph-httpd server context: its [httpd] configuration, the clients
 * of the other services (policy replica, ratelimiter, queue shards, ph-control
 * for the control-plane API), the TLS context, the evhttp server and the list
 * of calls in progress. httpd_run() is the process's entry.
 */
#ifndef HTTPD_H
#define HTTPD_H

#include <stdbool.h>
#include <sys/queue.h>
#include <openssl/ssl.h>

#include "config.h"
#include "ratelimit.h"

struct evhttp;
struct proc;
struct policy;
struct rl_client;
struct queue_client;
struct rpc_client;
struct serve_gate;
struct http_call;
struct http_wr_store;
struct submit_service;

/* httpd_conf - the [httpd] section */
struct httpd_conf {
	struct strvec listen;
	char *hostname;			/* "" = gethostname() */
	long long max_message_size;	/* 413 above this */
	long long max_request_size;	/* evhttp drops bodies above this */
	long long idle_timeout;		/* ms, keep-alive connections */
	long long clock_skew;		/* ms, allowed Date offset */
	long long client_rate;		/* requests per client key ... */
	long long client_rate_window;	/* ... in this many ms (429 above) */
	long long default_per_minute;
	long long default_per_day;
	long long ratelimit_timeout;	/* ms */
	long long queue_timeout;	/* ms */
	long long control_timeout;	/* ms */
	char *http_submit_endpoint;	/* GET /configuration; "" = https://hostname:port */
	char *smtp_submit_endpoint;
	long long work_requests;	/* work requests kept in memory ... */
	long long work_request_ttl;	/* ... for this many ms */
	long long worker_threads;	/* submit_work: DKIM signing */
};

LIST_HEAD(http_call_list, http_call);

struct httpd {
	struct httpd_conf conf;
	struct ratelimit_conf lc;	/* [ratelimit]: http_fail_open */
	char hostname[256];
	struct event_base *base;
	struct proc *proc;
	struct policy *policy;
	struct rl_client *rl;
	struct queue_client *queue;
	struct rpc_client *control;
	struct serve_gate *gate;	/* may it serve? (serve_gate.h) */
	SSL_CTX *ssl;
	struct evhttp *http;
	struct http_call_list calls;
	struct http_wr_store *wrs;	/* work requests (http_workreq.h) */
	struct submit_service *submit;	/* the submission pipeline (and its workers) */
};

/* httpd_config_rows - the [httpd] row table filling CONF */
const struct config_row *httpd_config_rows(struct httpd_conf *conf);
/* httpd_serving - requests may go on now; else 503 (serve_gate.h) */
bool httpd_serving(const struct httpd *hd);
/* httpd_run - the process: config, clients, listeners, loop; exit code */
int httpd_run(struct proc *p);

#endif
