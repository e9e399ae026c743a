/*
 * smtpd - the ph-smtpd server context: its [smtpd] configuration, the clients
 * of the other services (policy replica, ratelimiter, queue shards), the
 * listeners and the list of live sessions. smtpd_run() is the process's entry.
 */
#ifndef SMTPD_H
#define SMTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>

#include <openssl/ssl.h>

#include "config.h"

struct event;
struct event_base;
struct proc;
struct policy;
struct rl_client;
struct queue_client;
struct serve_gate;
struct smtp_acl;
struct smtp_listener;
struct smtp_session;
struct strmap;
struct submit_service;

/* smtpd_conf - the [smtpd] section */
struct smtpd_conf {
	struct strvec listen;			/* relay port: trusted networks, STARTTLS */
	struct strvec submission_listen;	/* STARTTLS + AUTH */
	struct strvec tls_listen;		/* implicit TLS + AUTH */
	char *hostname;			/* "" = gethostname() */
	long long max_message_size;
	long long command_timeout;	/* ms */
	long long data_timeout;		/* ms */
	long long max_connections;
	long long max_connections_per_ip;
	long long max_recipients;
	struct strvec trusted_networks;
	char *trusted_tenant;
	long long default_per_minute;
	long long default_per_day;
	long long ratelimit_timeout;	/* ms */
	long long queue_timeout;	/* ms */
	long long auth_fail_limit;	/* failed AUTHs / refused senders per client IP ... */
	long long auth_fail_window;	/* ... in this many ms */
	long long worker_threads;	/* submit_work: scrypt, DKIM signing */
};

LIST_HEAD(smtp_session_list, smtp_session);

struct smtpd {
	struct smtpd_conf conf;
	char hostname[256];
	struct event_base *base;
	struct proc *proc;		/* NULL in unit tests */
	struct policy *policy;		/* NULL = not available */
	struct rl_client *rl;
	struct queue_client *queue;
	struct serve_gate *gate;	/* may it serve? NULL in unit tests: yes */
	SSL_CTX *tls;			/* NULL in unit tests: no STARTTLS */
	struct submit_service *submit;	/* the submission pipeline, with the worker
					 * pool for CPU-heavy jobs off the loop */
	struct smtp_acl *trusted;
	struct smtp_listener *listeners;
	struct smtp_session_list sessions;
	struct smtp_session_list flushq;	/* sessions with replies to write */
	struct event *flush_ev;		/* made active by the first reply of a turn */
	size_t nsessions;
	struct strmap *per_ip;		/* client ip -> live sessions (uintptr_t) */
	bool stopping;
};

/* smtpd_config_rows - the [smtpd] row table filling CONF */
const struct config_row *smtpd_config_rows(struct smtpd_conf *conf);
/* smtpd_serving - new connections and commits may go on now (serve_gate.h) */
bool smtpd_serving(const struct smtpd *sd);
/* smtpd_session_gone - a session was freed: counters, shutdown progress */
void smtpd_session_gone(struct smtpd *sd, const char *ip);
/* smtpd_run - the process: config, clients, listeners, loop; exit code */
int smtpd_run(struct proc *p);

#endif
