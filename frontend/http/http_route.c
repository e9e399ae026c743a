/*
 * http_route - dispatch (see http_route.h).
 *
 * Unknown paths get 404 NotAuthorizedOrNotFound (as OCI answers), a known
 * path with another method 405 MethodNotAllowed. GET /health/ready and
 * /health/live (health.h) are answered first, without a signature. While
 * the process cannot serve (httpd_serving: no policy replica, no queue shard
 * answering) every other request gets 503 ServiceUnavailable with
 * retry-after (the SDKs retry a 503).
 * The request-rate key is the caller's user ("client:<user ocid>"); when the
 * ratelimiter does not answer, the request goes on unless [ratelimit]
 * http_fail_open is "no" (ratelimit_pass, RATELIMIT_HTTP: the per-client rate
 * protects the service, the sending limits are checked again, strictly, at
 * commit).
 *
 * DIAGNOSTICS: authentication failures are logged at info with their reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/http.h>

#include "clock.h"
#include "health.h"
#include "http_auth.h"
#include "http_call.h"
#include "http_control.h"
#include "http_route.h"
#include "http_submit.h"
#include "http_workreq.h"
#include "httpd.h"
#include "log.h"
#include "proc.h"
#include "ratelimit.h"
#include "rl_client.h"

struct http_route {
	enum evhttp_cmd_type method;
	const char *path;
	int with_id;		/* path + "/{id}" */
	int sign_body;		/* the body is hashed in the signature */
	void (*fn)(struct http_call *c);
	const char *suffix;	/* with_id: + this ("/errors"), NULL for none */
};

static const struct http_route routes[] = {
	{ EVHTTP_REQ_POST, "/20220926/actions/submitEmail", 0, 1, http_submit_email, NULL },
	{ EVHTTP_REQ_POST, "/20220926/actions/submitRawEmail", 0, 0, http_submit_raw, NULL },
	{ EVHTTP_REQ_POST, "/20170907/senders", 0, 1, http_control_sender_create, NULL },
	{ EVHTTP_REQ_GET, "/20170907/senders", 0, 0, http_control_sender_list, NULL },
	{ EVHTTP_REQ_GET, "/20170907/senders", 1, 0, http_control_sender_get, NULL },
	{ EVHTTP_REQ_DELETE, "/20170907/senders", 1, 0, http_control_sender_delete, NULL },
	{ EVHTTP_REQ_POST, "/20170907/suppressions", 0, 1, http_control_suppression_create, NULL },
	{ EVHTTP_REQ_GET, "/20170907/suppressions", 0, 0, http_control_suppression_list, NULL },
	{ EVHTTP_REQ_GET, "/20170907/suppressions", 1, 0, http_control_suppression_get, NULL },
	{ EVHTTP_REQ_DELETE, "/20170907/suppressions", 1, 0, http_control_suppression_delete, NULL },
	{ EVHTTP_REQ_POST, "/20170907/emailDomains", 0, 1, http_control_domain_create, NULL },
	{ EVHTTP_REQ_GET, "/20170907/emailDomains", 0, 0, http_control_domain_list, NULL },
	{ EVHTTP_REQ_GET, "/20170907/emailDomains", 1, 0, http_control_domain_get, NULL },
	{ EVHTTP_REQ_PUT, "/20170907/emailDomains", 1, 1, http_control_domain_update, NULL },
	{ EVHTTP_REQ_DELETE, "/20170907/emailDomains", 1, 0, http_control_domain_delete, NULL },
	{ EVHTTP_REQ_POST, "/20170907/dkims", 0, 1, http_control_dkim_create, NULL },
	{ EVHTTP_REQ_GET, "/20170907/dkims", 0, 0, http_control_dkim_list, NULL },
	{ EVHTTP_REQ_GET, "/20170907/dkims", 1, 0, http_control_dkim_get, NULL },
	{ EVHTTP_REQ_PUT, "/20170907/dkims", 1, 1, http_control_dkim_update, NULL },
	{ EVHTTP_REQ_DELETE, "/20170907/dkims", 1, 0, http_control_dkim_delete, NULL },
	{ EVHTTP_REQ_GET, "/20170907/workRequests", 0, 0, http_workreq_list, NULL },
	{ EVHTTP_REQ_GET, "/20170907/workRequests", 1, 0, http_workreq_get, NULL },
	{ EVHTTP_REQ_GET, "/20170907/workRequests", 1, 0, http_workreq_errors, "/errors" },
	{ EVHTTP_REQ_GET, "/20170907/workRequests", 1, 0, http_workreq_logs, "/logs" },
	{ EVHTTP_REQ_GET, "/20170907/configuration", 0, 0, http_control_configuration, NULL },
};

/* route_match - PATH is R's path, or its path + "/<id>" [+ suffix] into ID */
static int route_match(const struct http_route *r, const char *path, char *id, size_t cap)
{
	size_t n = strlen(r->path), idlen;
	const char *rest = path + n, *end;

	if (strncmp(path, r->path, n) != 0)
		return 0;
	if (!r->with_id)
		return *rest == '\0';
	if (rest[0] != '/' || rest[1] == '\0')
		return 0;
	end = strchr(rest + 1, '/');
	idlen = end != NULL ? (size_t)(end - rest - 1) : strlen(rest + 1);
	if (idlen == 0 || idlen >= cap || strcmp(end ? end : "", r->suffix ? r->suffix : "") != 0)
		return 0;
	snprintf(id, cap, "%.*s", (int)idlen, rest + 1);
	return 1;
}

/* route_find - the route for the call; *known when the path exists at all */
static const struct http_route *route_find(struct http_call *c, enum evhttp_cmd_type m,
    int *known)
{
	*known = 0;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!route_match(&routes[i], c->path, c->id, sizeof(c->id)))
			continue;
		*known = 1;
		if (routes[i].method == m)
			return &routes[i];
	}
	return NULL;
}

/* route_header - http_sig_input's header look-up */
static const char *route_header(void *arg, const char *name)
{
	return http_header(arg, name);
}

/* route_auth - 0 when the signature verifies (WHO set); else replied 401 */
static int route_auth(struct http_call *c, const struct http_route *r)
{
	const char *uri = evhttp_request_get_uri(c->req);
	const char *why = NULL;
	struct http_sig_input in = {
		.method = c->method, .target = uri, .header = route_header, .arg = c,
		.body = c->body, .body_len = c->body_len, .sign_body = r->sign_body,
		.now_ms = clock_now_ms(), .skew_ms = (uint64_t)c->hd->conf.clock_skew,
	};

	if (http_auth_verify(c->hd->policy, &in, &c->who, &why) == 0)
		return 0;
	log_info("http %s: %s %s from %s not authenticated: %s", c->request_id,
	    c->method, c->path, c->ip, why);
	http_reply_error(c, 401, "NotAuthenticated",
	    "The required information to complete authentication was not provided or was incorrect.");
	return -1;
}

/* route_on_rate - the per-client request rate verdict */
static void route_on_rate(void *arg, const struct rl_result *res)
{
	struct http_call *c = arg;
	char secs[32];

	if (!ratelimit_pass(&c->hd->lc, RATELIMIT_HTTP, res)) {
		snprintf(secs, sizeof(secs), "%llu",
		    (unsigned long long)((res->retry_after_ms + 999) / 1000));
		http_set_header(c, "retry-after", secs);
		http_reply_error(c, 429, "TooManyRequests",
		    "Too many requests received. Wait and try again.");
		return;
	}
	c->next(c);
}

/* route_rate - take one request token of the caller, then run R */
static void route_rate(struct http_call *c, const struct http_route *r)
{
	Ph__RateLimit lim = PH__RATE_LIMIT__INIT;
	const Ph__RateLimit *limp = &lim;
	char key[HTTP_ID_MAX + 16];
	long long win = c->hd->conf.client_rate_window / 1000;

	snprintf(key, sizeof(key), "client:%s", c->who.user_id);
	lim.key = key;
	lim.limit = (uint64_t)c->hd->conf.client_rate;
	lim.window_s = (uint32_t)(win > 0 ? win : 1);
	c->next = r->fn;
	rl_client_take(c->hd->rl, key, &limp, 1, 1, route_on_rate, c);
}

/* route_path - the decoded path of the request URI */
static int route_path(struct http_call *c)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(c->req);
	const char *p = u ? evhttp_uri_get_path(u) : NULL;
	char *dec;

	if (p == NULL || (dec = evhttp_uridecode(p, 0, NULL)) == NULL)
		return -1;
	snprintf(c->path, sizeof(c->path), "%s", dec);
	free(dec);
	return 0;
}

/* route_method_name - for logs and the signing string */
static const char *route_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_HEAD: return "HEAD";
	default: return "OTHER";
	}
}

/* route_health - /health/ready and /health/live: 1 when it was one of them */
static int route_health(struct httpd *hd, struct evhttp_request *req)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = u ? evhttp_uri_get_path(u) : NULL;
	struct health_status st;

	if (path == NULL || strncmp(path, "/health/", 8) != 0)
		return 0;
	proc_status(hd->proc, &st);
	return health_answer(req, path, hd->proc->name, hd->proc->instance, &st);
}

/* http_route_request - a complete request arrived */
void http_route_request(struct evhttp_request *req, void *arg)
{
	struct httpd *hd = arg;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const struct http_route *r = NULL;
	struct http_call *c;
	int known = 0;

	if (route_health(hd, req))
		return;
	if ((c = http_call_new(hd, req)) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	snprintf(c->method, sizeof(c->method), "%s", route_method_name(m));
	if (route_path(c) == -1 || (r = route_find(c, m, &known)) == NULL) {
		if (known)
			http_reply_error(c, 405, "MethodNotAllowed", "Method not allowed");
		else
			http_reply_error(c, 404, "NotAuthorizedOrNotFound",
			    "Authorization failed or requested resource not found.");
		return;
	}
	if (!httpd_serving(hd)) {
		http_reply_unavailable(c);
		return;
	}
	if (route_auth(c, r) == -1)
		return;
	route_rate(c, r);
}
