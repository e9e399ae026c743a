/*
 * httpd - ph-httpd: the HTTPS front door (OCI-compatible data plane and
 * control plane). Reads [httpd], connects the policy replica, the ratelimiter,
 * the queue shards and ph-control, and serves HTTP/1.1 with keep-alive over
 * OpenSSL bufferevents (libevent evhttp) on every listen address, opened with
 * SO_REUSEPORT so several instances share a port. The listeners open, and
 * READY is reported, only once the serve gate opens (serve_gate.h); while it
 * is closed again later every request but the health paths gets 503
 * ServiceUnavailable with retry-after (http_route.c). GET /health/ready and
 * /health/live are answered on the same listeners without a signature.
 *
 * Config [httpd] (defaults):
 *   listen = 127.0.0.1:8443             hostname = (gethostname)
 *   max_message_size = 2097152          max_request_size = 16m
 *   idle_timeout = 60s                  clock_skew = 300s
 *   client_rate = 6000                  client_rate_window = 60s
 *   default_per_minute = 18000          default_per_day = 50000
 *   ratelimit_timeout = 2000ms          queue_timeout = 5000ms
 *   control_timeout = 5000ms
 *   http_submit_endpoint = (https://<first listen address>)
 *   smtp_submit_endpoint = (the first [smtpd] submission listener, http_control.h)
 *   work_requests = 10000               work_request_ttl = 86400s
 *   worker_threads = 2                  (threads for DKIM signing)
 * The certificate and key come from [tls] (tls.h); whether the per-client
 * request rate fails open from [ratelimit] http_fail_open (ratelimit.h).
 *
 * DIAGNOSTICS: bad config, unusable certificate or a listen address that
 * cannot be bound is fatal.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "http_call.h"
#include "http_route.h"
#include "http_workreq.h"
#include "httpd.h"
#include "log.h"
#include "policy.h"
#include "proc.h"
#include "queue_client.h"
#include "rl_client.h"
#include "rpc.h"
#include "serve_gate.h"
#include "submit.h"
#include "tls.h"

/* httpd_config_rows - the [httpd] table */
const struct config_row *httpd_config_rows(struct httpd_conf *c)
{
	static struct config_row rows[20];
	const struct config_row r[] = {
		{ "listen", CFG_LIST, 0, -1, "127.0.0.1:8443", &c->listen },
		{ "hostname", CFG_STR, 0, -1, "", &c->hostname },
		{ "max_message_size", CFG_SIZE, 1024, 1LL << 30, "2097152", &c->max_message_size },
		{ "max_request_size", CFG_SIZE, 4096, 1LL << 31, "16m", &c->max_request_size },
		{ "idle_timeout", CFG_MS, 1000, 86400000, "60s", &c->idle_timeout },
		{ "clock_skew", CFG_MS, 1000, 86400000, "300s", &c->clock_skew },
		{ "client_rate", CFG_INT, 1, 1LL << 40, "6000", &c->client_rate },
		{ "client_rate_window", CFG_MS, 1000, 86400000, "60s", &c->client_rate_window },
		{ "default_per_minute", CFG_INT, 1, 1LL << 40, "18000", &c->default_per_minute },
		{ "default_per_day", CFG_INT, 1, 1LL << 40, "50000", &c->default_per_day },
		{ "ratelimit_timeout", CFG_MS, 10, 60000, "2000ms", &c->ratelimit_timeout },
		{ "queue_timeout", CFG_MS, 10, 120000, "5000ms", &c->queue_timeout },
		{ "control_timeout", CFG_MS, 10, 120000, "5000ms", &c->control_timeout },
		{ "http_submit_endpoint", CFG_STR, 0, -1, "", &c->http_submit_endpoint },
		{ "smtp_submit_endpoint", CFG_STR, 0, -1, "", &c->smtp_submit_endpoint },
		{ "work_requests", CFG_INT, 1, 10000000, "10000", &c->work_requests },
		{ "work_request_ttl", CFG_MS, 1000, 30LL * 86400000, "86400s", &c->work_request_ttl },
		{ "worker_threads", CFG_INT, 1, 16, "2", &c->worker_threads },
		{ NULL, 0, 0, 0, NULL, NULL },
	};

	memcpy(rows, r, sizeof(r));
	return rows;
}

/* httpd_bev - every accepted connection speaks TLS */
static struct bufferevent *httpd_bev(struct event_base *base, void *arg)
{
	struct httpd *hd = arg;
	SSL *ssl = SSL_new(hd->ssl);

	if (ssl == NULL)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
}

/* httpd_listen_one - "host:port" or "[v6]:port" */
static int httpd_listen_one(struct httpd *hd, const char *spec)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	struct evconnlistener *lev;

	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) != 0) {
		log_warnx("[httpd] listen: cannot parse \"%s\"", spec);
		return -1;
	}
	lev = evconnlistener_new_bind(hd->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_EXEC, 1024,
	    (struct sockaddr *)&ss, sslen);
	if (lev == NULL) {
		log_warn("[httpd] listen: cannot bind %s", spec);
		return -1;
	}
	if (evhttp_bind_listener(hd->http, lev) == NULL) {
		evconnlistener_free(lev);
		return -1;
	}
	log_info("https: listening on %s", spec);
	return 0;
}

/* httpd_listen - the serve gate opened for the first time: every [httpd]
 * listen address (fatal when one cannot be bound) */
static void httpd_listen(void *arg)
{
	struct httpd *hd = arg;

	for (size_t i = 0; i < hd->conf.listen.n; i++)
		if (httpd_listen_one(hd, hd->conf.listen.v[i]) < 0)
			fatalx("cannot open the HTTPS listeners");
}

/* httpd_server - the TLS context and the evhttp server (not listening yet) */
static void httpd_server(struct httpd *hd, struct proc *p)
{
	struct tls_files tf;
	char *err = NULL;

	if (tls_config(p->cfg, &tf, &err) < 0)
		fatalx("%s", err);
	if (tls_selfsigned_ensure(tf.cert, tf.key, tf.hostname) < 0 ||
	    (hd->ssl = tls_server_ctx(tf.cert, tf.key)) == NULL)
		fatalx("[tls] cannot load %s / %s", tf.cert, tf.key);
	free(tf.cert);
	free(tf.key);
	free(tf.hostname);
	if ((hd->http = evhttp_new(hd->base)) == NULL)
		fatal_nomem(__func__);
	evhttp_set_bevcb(hd->http, httpd_bev, hd);
	evhttp_set_gencb(hd->http, http_route_request, hd);
	evhttp_set_max_body_size(hd->http, hd->conf.max_request_size);
	evhttp_set_max_headers_size(hd->http, 64 * 1024);
	evhttp_set_timeout(hd->http, (int)(hd->conf.idle_timeout / 1000));
	evhttp_set_allowed_methods(hd->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
}

/* httpd_serving - the gate is open */
bool httpd_serving(const struct httpd *hd)
{
	return serve_gate_open(hd->gate, NULL);
}

/* httpd_setup - config and process-local state */
static void httpd_setup(struct httpd *hd, struct proc *p)
{
	char *err = NULL;

	if (config_apply(p->cfg, "httpd", httpd_config_rows(&hd->conf), &err) < 0 ||
	    ratelimit_config(p->cfg, &hd->lc, &err) < 0)
		fatalx("%s", err);
	if (hd->conf.hostname && *hd->conf.hostname)
		snprintf(hd->hostname, sizeof(hd->hostname), "%s", hd->conf.hostname);
	else if (gethostname(hd->hostname, sizeof(hd->hostname) - 1) < 0)
		snprintf(hd->hostname, sizeof(hd->hostname), "localhost");
	if (*hd->conf.http_submit_endpoint == '\0' && hd->conf.listen.n > 0) {
		free(hd->conf.http_submit_endpoint);
		if (asprintf(&hd->conf.http_submit_endpoint, "https://%s", hd->conf.listen.v[0]) < 0)
			fatal_nomem(__func__);
	}
	hd->wrs = http_wr_store_new((size_t)hd->conf.work_requests,
	    (uint64_t)hd->conf.work_request_ttl);
	if (hd->wrs == NULL)
		fatal_nomem(__func__);
	hd->base = p->base;
	hd->proc = p;
	LIST_INIT(&hd->calls);
}

/* httpd_peers - the policy replica and the clients of the other services */
static void httpd_peers(struct httpd *hd, struct proc *p, struct ph_endpoints *ep)
{
	char *err = NULL;

	if (config_endpoints(p->cfg, ep, &err) < 0)
		fatalx("%s", err);
	if ((hd->policy = policy_new(p->base, ep->control, ep->control_pub)) == NULL)
		fatalx("cannot create the policy replica");
	hd->rl = rl_client_new(p->base, &ep->ratelimiter, (unsigned)hd->conf.ratelimit_timeout);
	hd->queue = queue_client_new(p->base, &ep->queue, (unsigned)hd->conf.queue_timeout);
	hd->control = rpc_client_new(p->base, ep->control, NULL);
	if (hd->rl == NULL || hd->queue == NULL || hd->control == NULL)
		fatalx("cannot create the ratelimiter, queue or control client");
	hd->submit = submit_service_xnew(p->base, &(struct submit_conf){ hd->policy, hd->rl,
	    hd->queue, hd->hostname, (size_t)hd->conf.max_message_size,
	    (uint64_t)hd->conf.default_per_minute, (uint64_t)hd->conf.default_per_day,
	    (int)hd->conf.worker_threads });
}

/* httpd_calls_free - calls still waiting for a peer at exit */
static void httpd_calls_free(struct httpd *hd)
{
	struct http_call *c;

	while ((c = LIST_FIRST(&hd->calls)) != NULL) {
		submit_cancel(hd->submit, c);
		rl_client_cancel(hd->rl, c);
		rpc_cancel(hd->control, c);
		http_call_free(c);
	}
}

/* httpd_cleanup - everything httpd_run created */
static void httpd_cleanup(struct httpd *hd, struct ph_endpoints *ep)
{
	httpd_calls_free(hd);
	evhttp_free(hd->http);
	http_wr_store_free(hd->wrs);
	submit_service_free(hd->submit);
	SSL_CTX_free(hd->ssl);
	rpc_client_free(hd->control);
	queue_client_free(hd->queue);
	rl_client_free(hd->rl);
	policy_free(hd->policy);
	serve_gate_free(hd->gate);
	strvec_clear(&hd->conf.listen);
	free(hd->conf.hostname);
	free(hd->conf.http_submit_endpoint);
	free(hd->conf.smtp_submit_endpoint);
	free(ep->control);
	free(ep->control_pub);
	strvec_clear(&ep->ratelimiter);
	strvec_clear(&ep->queue);
}

/* httpd_run - ph-httpd's entry: sockets, peers, handlers, loop */
int httpd_run(struct proc *p)
{
	struct httpd hd;
	struct ph_endpoints ep;
	int rc;

	memset(&hd, 0, sizeof(hd));
	memset(&ep, 0, sizeof(ep));
	httpd_setup(&hd, p);
	httpd_peers(&hd, p, &ep);
	httpd_server(&hd, p);
	hd.gate = serve_gate_new(p, hd.policy, hd.queue, hd.rl, httpd_listen, &hd);
	rc = proc_run(p);
	httpd_cleanup(&hd, &ep);
	return rc;
}
