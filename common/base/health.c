/*
 * health - /health/ready and /health/live, and the [health] listener (see
 * health.h).
 *
 * The listener is plain HTTP/1.1 on evhttp, unauthenticated: it says only
 * whether the process is up and ready, nothing about its data. It binds with
 * SO_REUSEADDR but not SO_REUSEPORT: two processes configured onto one port
 * is a configuration error, reported at start.
 *
 * DIAGNOSTICS: a bad [health] section or a port that cannot be bound is
 * fatal; a reply that cannot be built is a warning (the client sees the
 * connection close).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <jansson.h>

#include "config.h"
#include "health.h"
#include "log.h"

#define HEALTH_KIND_PORTS 40	/* instances of one kind with a port each */

struct health {
	struct evhttp *http;
	const char *name;
	int instance;
	health_status_fn status;
	void *arg;
};

/* health_offset - where a process kind's ports start above the base; -1 for
 * a kind without a [health] listener */
static int
health_offset(const char *name)
{
	static const char *const kinds[] = {
		"ph-control", "ph-ratelimiter", "ph-queue", "ph-relay", "ph-smtpd",
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i], name) == 0)
			return (int)i * HEALTH_KIND_PORTS;
	return -1;
}

/* health_reply - STATUS with BODY (consumed) as JSON */
static void
health_reply(struct evhttp_request *req, int status, json_t *body)
{
	struct evbuffer *out = evbuffer_new();
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	if (out == NULL || body == NULL || text == NULL) {
		log_warnx("health: no memory for a reply");
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	} else {
		evbuffer_add(out, text, strlen(text));
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
		    "application/json");
		evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
		    "no-store");
		evhttp_send_reply(req, status, NULL, out);
	}
	if (out != NULL)
		evbuffer_free(out);
	free(text);
	json_decref(body);
}

/* health_answer - the two paths */
int
health_answer(struct evhttp_request *req, const char *path, const char *name,
    int instance, const struct health_status *st)
{
	json_t *body;

	if (strcmp(path, "/health/live") == 0) {
		body = json_pack("{s:s, s:s, s:i}", "status", "live", "process", name,
		    "instance", instance);
		health_reply(req, HTTP_OK, body);
		return 1;
	}
	if (strcmp(path, "/health/ready") != 0)
		return 0;
	body = json_pack("{s:s, s:s, s:i}", "status", st->ready ? "ready" : "not ready",
	    "process", name, "instance", instance);
	if (body != NULL && !st->ready)
		json_object_set_new(body, "reason", json_string(st->reason ? st->reason : "unknown"));
	health_reply(req, st->ready ? HTTP_OK : HTTP_SERVUNAVAIL, body);
	return 1;
}

/* health_on_request - the listener's only callback */
static void
health_on_request(struct evhttp_request *req, void *arg)
{
	struct health *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	struct health_status st = { false, "unknown" };

	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, HTTP_BADMETHOD, NULL);
		return;
	}
	h->status(h->arg, &st);
	if (path == NULL || !health_answer(req, path, h->name, h->instance, &st))
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
}

/* health_address - the address of NAME's INSTANCE from [health] into SS;
 * 0, or 1 for "off"; fatal on a bad section */
static int
health_address(const struct ph_config *cfg, const char *name, int instance,
    struct sockaddr_storage *ss, int *sslen, char *shown, size_t shownlen)
{
	char *listen = NULL, *err = NULL;
	bool per_process = true;
	const struct config_row rows[] = {
		{ "listen", CFG_STR, 0, -1, "127.0.0.1:9800", &listen },
		{ "port_per_process", CFG_BOOL, 0, -1, "yes", &per_process },
		{ NULL, 0, 0, 0, NULL, NULL },
	};
	int offset = health_offset(name), port;

	if (config_apply(cfg, "health", rows, &err) < 0)
		fatalx("%s", err);
	if (strcmp(listen, "off") == 0) {
		free(listen);
		return 1;
	}
	if (evutil_parse_sockaddr_port(listen, (struct sockaddr *)ss, sslen) < 0)
		fatalx("[health] listen = %s: want host:port or off", listen);
	port = ntohs(((struct sockaddr_in *)ss)->sin_port);	/* same place for v6 */
	if (per_process) {
		if (offset < 0 || instance >= HEALTH_KIND_PORTS)
			fatalx("[health] listen: no port for %s instance %d (at most %d per kind;"
			    " or port_per_process = no)", name, instance, HEALTH_KIND_PORTS);
		port += offset + instance;
	}
	if (port <= 0 || port > 65535)
		fatalx("[health] listen = %s: port %d of %s out of range", listen, port, name);
	((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	snprintf(shown, shownlen, "port %d ([health] listen = %s)", port, listen);
	free(listen);
	return 0;
}

/* health_new - bind and serve */
struct health *
health_new(struct event_base *base, const struct ph_config *cfg, const char *name,
    int instance, health_status_fn status, void *arg)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	char shown[300];
	struct evconnlistener *lev;
	struct health *h;

	memset(&ss, 0, sizeof(ss));
	if (health_address(cfg, name, instance, &ss, &sslen, shown, sizeof(shown)) == 1)
		return NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL || (h->http = evhttp_new(base)) == NULL)
		fatal_nomem(__func__);
	h->name = name;
	h->instance = instance;
	h->status = status;
	h->arg = arg;
	lev = evconnlistener_new_bind(base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 64, (struct sockaddr *)&ss, sslen);
	if (lev == NULL || evhttp_bind_listener(h->http, lev) == NULL)
		fatal("[health] cannot listen on %s", shown);
	evhttp_set_gencb(h->http, health_on_request, h);
	evhttp_set_timeout(h->http, 10);
	evhttp_set_max_headers_size(h->http, 8192);
	evhttp_set_max_body_size(h->http, 1024);
	log_info("health: listening on %s", shown);
	return h;
}

/* health_free - the listener and its connections */
void
health_free(struct health *h)
{
	if (h == NULL)
		return;
	evhttp_free(h->http);
	free(h);
}
