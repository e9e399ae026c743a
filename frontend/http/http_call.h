/*
 * http_call - one HTTP request from arrival to its one reply: the request id
 * (opc-request-id, echoed or minted), the client address, the authenticated
 * principal, the body, the operation's own state, and the OCI-style replies
 * ({"code","message"} JSON for errors). Replying frees the call; a call whose
 * client went away is still answered (evhttp then drops the reply).
 *
 * Entity tags (OCI's optimistic concurrency): a resource's etag is derived
 * from what a client sees of it, so it changes exactly when that changes and
 * every ph-httpd instance computes the same one; a request's if-match must
 * name it (or be "*"), else 412 NoEtagMatch.
 */
#ifndef HTTP_CALL_H
#define HTTP_CALL_H

#include <stddef.h>
#include <sys/queue.h>

struct evhttp_request;
struct Ph__PolicyObject;
struct httpd;
struct http_control_res;
struct json_t;

#define HTTP_ID_MAX 200
#define HTTP_ETAG_LEN 33	/* 32 hex digits and NUL */

/* http_principal - who signed the request (OCI keyId parts) */
struct http_principal {
	char tenant_id[HTTP_ID_MAX];
	char user_id[HTTP_ID_MAX];
};

struct http_call {
	LIST_ENTRY(http_call) entry;
	struct httpd *hd;
	struct evhttp_request *req;
	char request_id[100];
	char ip[64];
	char method[8];
	char path[512];			/* decoded path, no query */
	char id[HTTP_ID_MAX];		/* the {id} path segment, "" if none */
	struct http_principal who;
	unsigned char *body;		/* NUL-terminated copy */
	size_t body_len;
	void (*next)(struct http_call *c);	/* the handler, once admitted */
	/* control plane: what to do with the objects ph-control returned */
	void (*on_objects)(struct http_call *c, struct Ph__PolicyObject **objs, size_t n);
	const struct http_control_res *res;	/* the resource (http_control.h) */
	void (*on_done)(struct http_call *c);	/* after a confirmed delete */
	char work_request[96];		/* the work request carried out, "" if none */
	void *op;			/* the operation's state */
	void (*op_free)(void *op);
};

/* http_call_new - a call for REQ (body copied, request id set); NULL on OOM */
struct http_call *http_call_new(struct httpd *hd, struct evhttp_request *req);
/* http_call_free - without replying (shutdown) */
void http_call_free(struct http_call *c);

/* http_reply_json - STATUS with BODY (consumed; NULL = empty), frees C */
void http_reply_json(struct http_call *c, int status, struct json_t *body);
/* http_reply_error - STATUS {"code": CODE, "message": printf(FMT)}, frees C */
void http_reply_error(struct http_call *c, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* http_reply_internal - 500 InternalServerError, frees C */
void http_reply_internal(struct http_call *c);
/* http_etag - the etag of a resource shown as BODY: the first 128 bits of
 * the SHA-256 of its JSON with sorted keys, in hex ("" if it cannot be made) */
void http_etag(const struct json_t *body, char out[HTTP_ETAG_LEN]);
/* http_reply_resource - http_reply_json with BODY's etag header */
void http_reply_resource(struct http_call *c, int status, struct json_t *body);
/* http_if_match - 0 when the request's if-match is absent, "*" or ETAG;
 * else 412 NoEtagMatch is sent (C freed) and -1 returned */
int http_if_match(struct http_call *c, const char *etag);
/* http_header - request header NAME (case-insensitive) or NULL */
const char *http_header(const struct http_call *c, const char *name);
/* http_query - query parameter NAME of the request URI, or NULL (malloc'd) */
char *http_query(const struct http_call *c, const char *name);
/* http_set_header - add a response header */
void http_set_header(struct http_call *c, const char *name, const char *value);

/* http_reply_unavailable - 503 ServiceUnavailable with "retry-after:
 * HTTP_RETRY_AFTER_S" (a peer is unavailable: retry later), frees C */
void http_reply_unavailable(struct http_call *c);
#define HTTP_RETRY_AFTER_S "5"

#endif
