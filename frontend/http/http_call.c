/*
 * http_call - request state and replies (see http_call.h).
 *
 * opc-request-id: a caller's value is echoed when it is printable ASCII of at
 * most 98 bytes; otherwise (or when absent) a 32-hex id is minted.
 *
 * 412: code and message as OCI's common API errors list them (Content/API/
 * References/apierrors.htm: 412 NoEtagMatch).
 *
 * DIAGNOSTICS: every reply is logged at debug; a failed reply allocation is a
 * warning (the client then sees the connection close).
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "clock.h"
#include "http_call.h"
#include "http_workreq.h"
#include "httpd.h"
#include "log.h"

/* call_request_id - echo a sane opc-request-id or mint one */
static void call_request_id(struct http_call *c)
{
	const char *v = http_header(c, "opc-request-id");
	size_t n = v ? strlen(v) : 0;
	char id[33];

	if (v != NULL && n > 0 && n < sizeof(c->request_id)) {
		size_t i;
		for (i = 0; i < n && v[i] > 0x20 && v[i] < 0x7f; i++)
			;
		if (i == n) {
			memcpy(c->request_id, v, n + 1);
			return;
		}
	}
	id_new(id);
	snprintf(c->request_id, sizeof(c->request_id), "%s", id);
}

/* call_peer - the client's address; replies go out without Nagle delays
 * (evhttp may write a response in several segments; keep-alive clients would
 * otherwise wait for a delayed ACK on each) */
static void call_peer(struct http_call *c)
{
	struct evhttp_connection *con = evhttp_request_get_connection(c->req);
	struct bufferevent *bev = con ? evhttp_connection_get_bufferevent(con) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	const char *addr = NULL;
	ev_uint16_t port = 0;
	int one = 1;

	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (con != NULL)
		evhttp_connection_get_peer(con, (char **)&addr, &port);
	snprintf(c->ip, sizeof(c->ip), "%s", addr ? addr : "unknown");
}

/* call_body - copy the request body, NUL-terminated */
static int call_body(struct http_call *c)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(c->req);
	size_t n = evbuffer_get_length(in);

	if ((c->body = malloc(n + 1)) == NULL)
		return -1;
	if (n > 0)
		evbuffer_copyout(in, c->body, n);
	c->body[n] = '\0';
	c->body_len = n;
	return 0;
}

/* http_call_new - the call for REQ, linked into the server's list */
struct http_call *http_call_new(struct httpd *hd, struct evhttp_request *req)
{
	struct http_call *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->hd = hd;
	c->req = req;
	if (call_body(c) == -1) {
		free(c);
		return NULL;
	}
	call_request_id(c);
	call_peer(c);
	LIST_INSERT_HEAD(&hd->calls, c, entry);
	return c;
}

/* http_call_free - unlink and free (the operation's state too) */
void http_call_free(struct http_call *c)
{
	if (c == NULL)
		return;
	if (c->op != NULL && c->op_free != NULL)
		c->op_free(c->op);
	LIST_REMOVE(c, entry);
	free(c->body);
	free(c);
}

/* http_set_header - a response header */
void http_set_header(struct http_call *c, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(c->req), name, value);
}

/* http_reply_json - send STATUS with BODY and free C */
void http_reply_json(struct http_call *c, int status, json_t *body)
{
	struct evbuffer *out = evbuffer_new();
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	http_set_header(c, "opc-request-id", c->request_id);
	if (text != NULL) {
		http_set_header(c, "Content-Type", "application/json");
		if (out != NULL)
			evbuffer_add(out, text, strlen(text));
	}
	log_debug("http %s %s %s -> %d", c->request_id, c->method, c->path, status);
	evhttp_send_reply(c->req, status, NULL, out);
	if (out != NULL)
		evbuffer_free(out);
	free(text);
	json_decref(body);
	http_call_free(c);
}

/* http_reply_error - an OCI error body */
void http_reply_error(struct http_call *c, int status, const char *code,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->work_request[0] != '\0')	/* the change did not happen */
		http_wr_finish(c->hd->wrs, c->work_request, NULL, msg, clock_now_ms());
	http_reply_json(c, status, json_pack("{s:s, s:s}", "code", code, "message", msg));
}

/* http_reply_internal - 500 */
void http_reply_internal(struct http_call *c)
{
	http_reply_error(c, 500, "InternalServerError", "Internal Server Error");
}

/* http_etag - hex of the first 16 bytes of SHA-256(sorted compact JSON) */
void http_etag(const json_t *body, char out[HTTP_ETAG_LEN])
{
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	unsigned char md[EVP_MAX_MD_SIZE];

	out[0] = '\0';
	if (text != NULL && EVP_Digest(text, strlen(text), md, NULL, EVP_sha256(), NULL) == 1)
		for (int i = 0; i < (HTTP_ETAG_LEN - 1) / 2; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
	free(text);
}

/* http_reply_resource - the resource with its etag */
void http_reply_resource(struct http_call *c, int status, json_t *body)
{
	char etag[HTTP_ETAG_LEN];

	http_etag(body, etag);
	if (etag[0] != '\0')
		http_set_header(c, "etag", etag);
	http_reply_json(c, status, body);
}

/* http_if_match - the precondition of an update or delete */
int http_if_match(struct http_call *c, const char *etag)
{
	const char *want = http_header(c, "if-match");

	if (want == NULL || strcmp(want, "*") == 0 || strcmp(want, etag) == 0)
		return 0;
	http_reply_error(c, 412, "NoEtagMatch",
	    "The ETag specified in the request does not match the ETag for the resource.");
	return -1;
}

/* http_header - a request header */
const char *http_header(const struct http_call *c, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(c->req), name);
}

/* http_query - a decoded query parameter (malloc'd) */
char *http_query(const struct http_call *c, const char *name)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(c->req);
	const char *q = u ? evhttp_uri_get_query(u) : NULL;
	struct evkeyvalq kv;
	const char *v;
	char *out = NULL;

	if (q == NULL || evhttp_parse_query_str(q, &kv) != 0)
		return NULL;
	if ((v = evhttp_find_header(&kv, name)) != NULL)
		out = strdup(v);
	evhttp_clear_headers(&kv);
	return out;
}

/* http_reply_unavailable - 503 ServiceUnavailable (code and message as an
 * OCI service sends them) with retry-after: a peer the request needs (the
 * ratelimiter, every queue shard) cannot answer now, and the client should
 * come back (OCI SDKs retry a 503) */
void http_reply_unavailable(struct http_call *c)
{
	http_set_header(c, "retry-after", HTTP_RETRY_AFTER_S);
	http_reply_error(c, 503, "ServiceUnavailable", "Service Unavailable");
}
