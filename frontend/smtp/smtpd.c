/*
 * smtpd - ph-smtpd: the SMTP front door. Reads [smtpd], connects the policy
 * replica, the ratelimiter and queue clients, and runs the loop; the
 * listeners open, and READY is reported, only once the serve gate opens
 * (serve_gate.h: replica loaded, a queue shard and every ratelimiter shard
 * answering). While the gate is closed again later (replica or every queue
 * shard lost) new connections and commits get "421 4.3.2 Service not
 * available, try again later" (smtp_session.c); /health/ready on the
 * [health] listener says 503 with the reason. On SIGTERM: stop accepting,
 * say 421 to every session at a prompt (or in DATA), let sessions whose message is being committed finish, exit
 * when the last session is gone (or after the grace period).
 *
 * Config [smtpd] (defaults):
 *   listen = 127.0.0.1:2525           (relay-style: trusted networks, STARTTLS)
 *   submission_listen = 127.0.0.1:2587   (STARTTLS, AUTH required)
 *   tls_listen = 127.0.0.1:2465       (implicit TLS, AUTH required)
 *   auth_fail_limit = 10              auth_fail_window = 300s
 *   worker_threads = 2                (threads for scrypt and DKIM signing)
 *   hostname = (gethostname)
 *   max_message_size = 2097152        max_recipients = 1000
 *   command_timeout = 300s            data_timeout = 300s
 *   max_connections = 1000            max_connections_per_ip = 100
 *   trusted_networks = 127.0.0.0/8, ::1/128     trusted_tenant = default
 *   default_per_minute = 18000        default_per_day = 50000
 *   ratelimit_timeout = 2000ms        queue_timeout = 5000ms
 *
 * TLS: certificate and key from [tls] cert_file/key_file (the supervisor
 * creates a self-signed pair on first start); TLS 1.2 minimum, no
 * renegotiation (common/tls.c).
 *
 * DIAGNOSTICS: bad config, a certificate that cannot be loaded or a listen
 * address that cannot be bound is fatal.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "log.h"
#include "policy.h"
#include "proc.h"
#include "tls.h"
#include "queue_client.h"
#include "rl_client.h"
#include "serve_gate.h"
#include "smtp_acl.h"
#include "smtp_listener.h"
#include "smtp_session.h"
#include "smtpd.h"
#include "strmap.h"
#include "submit.h"

/* smtpd_config_rows - the [smtpd] table */
const struct config_row *
smtpd_config_rows(struct smtpd_conf *c)
{
	static struct config_row rows[24];
	const struct config_row r[] = {
		{ "listen", CFG_LIST, 0, -1, CONFIG_SMTPD_LISTEN, &c->listen },
		{ "submission_listen", CFG_LIST, 0, -1, CONFIG_SMTPD_SUBMISSION_LISTEN,
		    &c->submission_listen },
		{ "tls_listen", CFG_LIST, 0, -1, CONFIG_SMTPD_TLS_LISTEN, &c->tls_listen },
		{ "auth_fail_limit", CFG_INT, 1, 1000000, "10", &c->auth_fail_limit },
		{ "auth_fail_window", CFG_MS, 1000, 86400000, "300s", &c->auth_fail_window },
		{ "worker_threads", CFG_INT, 1, 16, "2", &c->worker_threads },
		{ "hostname", CFG_STR, 0, -1, "", &c->hostname },
		{ "max_message_size", CFG_SIZE, 1024, 1LL << 30, "2097152", &c->max_message_size },
		{ "command_timeout", CFG_MS, 1000, 86400000, "300s", &c->command_timeout },
		{ "data_timeout", CFG_MS, 1000, 86400000, "300s", &c->data_timeout },
		{ "max_connections", CFG_INT, 1, 1000000, "1000", &c->max_connections },
		{ "max_connections_per_ip", CFG_INT, 1, 1000000, "100", &c->max_connections_per_ip },
		{ "max_recipients", CFG_INT, 1, 100000, "1000", &c->max_recipients },
		{ "trusted_networks", CFG_LIST, 0, -1, "127.0.0.0/8, ::1/128", &c->trusted_networks },
		{ "trusted_tenant", CFG_STR, 0, -1, "default", &c->trusted_tenant },
		{ "default_per_minute", CFG_INT, 1, 1LL << 40, "18000", &c->default_per_minute },
		{ "default_per_day", CFG_INT, 1, 1LL << 40, "50000", &c->default_per_day },
		{ "ratelimit_timeout", CFG_MS, 10, 60000, "2000ms", &c->ratelimit_timeout },
		{ "queue_timeout", CFG_MS, 10, 120000, "5000ms", &c->queue_timeout },
		{ NULL, 0, 0, 0, NULL, NULL },
	};

	memcpy(rows, r, sizeof(r));
	return rows;
}

/* smtpd_session_gone - per-IP count, and the end of a graceful stop */
void
smtpd_session_gone(struct smtpd *sd, const char *ip)
{
	uintptr_t n = (uintptr_t)strmap_get(sd->per_ip, ip);

	if (n > 1)
		strmap_put(sd->per_ip, ip, (void *)(n - 1));
	else if (n == 1)
		strmap_del(sd->per_ip, ip);
	if (sd->stopping && sd->nsessions == 0 && sd->proc)
		proc_stop_done(sd->proc);
}

/* smtpd_on_stop - SIGTERM: 1 while sessions remain (proc waits for us) */
static int
smtpd_on_stop(void *arg)
{
	struct smtpd *sd = arg;
	struct smtp_session *s, *next;

	sd->stopping = true;
	smtp_listener_close(sd);
	for (s = LIST_FIRST(&sd->sessions); s; s = next) {
		next = LIST_NEXT(s, entry);
		smtp_session_shutdown(s);
	}
	log_info("smtp: stopping, %zu sessions to finish", sd->nsessions);
	return sd->nsessions > 0 ? 1 : 0;
}

/* smtpd_tls - the server context for STARTTLS and implicit TLS */
static void
smtpd_tls(struct smtpd *sd, struct proc *p)
{
	struct tls_files tf;
	char *err = NULL;

	if (tls_config(p->cfg, &tf, &err) < 0)
		fatalx("%s", err);
	if ((sd->tls = tls_server_ctx(tf.cert, tf.key)) == NULL)
		fatalx("cannot load the TLS certificate %s / key %s", tf.cert, tf.key);
	free(tf.cert);
	free(tf.key);
	free(tf.hostname);
}

/* smtpd_on_flush - end of a loop turn's callbacks: write the replies */
static void
smtpd_on_flush(evutil_socket_t fd, short what, void *arg)
{
	smtp_sessions_flush(arg);
}

/* smtpd_setup - config and the process-local state */
static void
smtpd_setup(struct smtpd *sd, struct proc *p)
{
	const char *bad = NULL;
	char *err = NULL;

	if (config_apply(p->cfg, "smtpd", smtpd_config_rows(&sd->conf), &err) < 0)
		fatalx("%s", err);
	if (sd->conf.hostname && *sd->conf.hostname)
		snprintf(sd->hostname, sizeof(sd->hostname), "%s", sd->conf.hostname);
	else if (gethostname(sd->hostname, sizeof(sd->hostname) - 1) < 0)
		snprintf(sd->hostname, sizeof(sd->hostname), "localhost");
	if ((sd->trusted = smtp_acl_new(&sd->conf.trusted_networks, &bad)) == NULL)
		fatalx("[smtpd] trusted_networks: bad entry \"%s\"", bad ? bad : "?");
	if ((sd->per_ip = strmap_new()) == NULL)
		fatal_nomem(__func__);
	smtpd_tls(sd, p);
	sd->base = p->base;
	sd->proc = p;
	LIST_INIT(&sd->sessions);
	LIST_INIT(&sd->flushq);
	if ((sd->flush_ev = event_new(p->base, -1, 0, smtpd_on_flush, sd)) == NULL)
		fatal_nomem(__func__);
}

/* smtpd_peers - the policy replica and the clients of the other services */
static void
smtpd_peers(struct smtpd *sd, struct proc *p, struct ph_endpoints *ep)
{
	char *err = NULL;

	if (config_endpoints(p->cfg, ep, &err) < 0)
		fatalx("%s", err);
	if ((sd->policy = policy_new(p->base, ep->control, ep->control_pub)) == NULL)
		fatalx("cannot create the policy replica");
	sd->rl = rl_client_new(p->base, &ep->ratelimiter, (unsigned)sd->conf.ratelimit_timeout);
	sd->queue = queue_client_new(p->base, &ep->queue, (unsigned)sd->conf.queue_timeout);
	if (sd->rl == NULL || sd->queue == NULL)
		fatalx("cannot create the ratelimiter or queue client");
	sd->submit = submit_service_xnew(p->base, &(struct submit_conf){ sd->policy, sd->rl,
	    sd->queue, sd->hostname, (size_t)sd->conf.max_message_size,
	    (uint64_t)sd->conf.default_per_minute, (uint64_t)sd->conf.default_per_day,
	    (int)sd->conf.worker_threads });
}

/* smtpd_conf_free - what config_apply and config_endpoints allocated */
static void
smtpd_conf_free(struct smtpd_conf *c, struct ph_endpoints *ep)
{
	strvec_clear(&c->listen);
	strvec_clear(&c->submission_listen);
	strvec_clear(&c->tls_listen);
	strvec_clear(&c->trusted_networks);
	free(c->hostname);
	free(c->trusted_tenant);
	free(ep->control);
	free(ep->control_pub);
	strvec_clear(&ep->ratelimiter);
	strvec_clear(&ep->queue);
}

/* smtpd_serving - the gate is open (always without one: unit tests) */
bool
smtpd_serving(const struct smtpd *sd)
{
	return sd->gate == NULL || serve_gate_open(sd->gate, NULL);
}

/* smtpd_listen - the serve gate opened for the first time */
static void
smtpd_listen(void *arg)
{
	if (smtp_listener_open(arg) < 0)
		fatalx("cannot open the SMTP listeners");
}

/* smtpd_run - ph-smtpd's entry: sockets, peers, handlers, loop */
int
smtpd_run(struct proc *p)
{
	struct smtpd sd;
	struct ph_endpoints ep;
	int rc;

	memset(&sd, 0, sizeof(sd));
	memset(&ep, 0, sizeof(ep));
	smtpd_setup(&sd, p);
	smtpd_peers(&sd, p, &ep);
	sd.gate = serve_gate_new(p, sd.policy, sd.queue, sd.rl, smtpd_listen, &sd);
	proc_health(p);
	proc_on_stop(p, smtpd_on_stop, &sd);
	rc = proc_run(p);
	while (!LIST_EMPTY(&sd.sessions))
		smtp_session_free(LIST_FIRST(&sd.sessions));
	smtp_listener_close(&sd);
	event_free(sd.flush_ev);
	submit_service_free(sd.submit);
	SSL_CTX_free(sd.tls);
	queue_client_free(sd.queue);
	rl_client_free(sd.rl);
	policy_free(sd.policy);
	serve_gate_free(sd.gate);
	smtp_acl_free(sd.trusted);
	strmap_free(sd.per_ip, NULL);
	smtpd_conf_free(&sd.conf, &ep);
	return rc;
}
