/*
 * http_control - the control plane (/20170907) over ph-control: approved
 * senders and suppressions (create, get, list, delete), email domains and
 * DKIM keys (create, get, list, update, delete: asynchronous, each one a work
 * request, http_workreq.h), and GET /configuration. Every call is confined to
 * the caller's tenancy: objects of other tenancies answer 404
 * NotAuthorizedOrNotFound as if they did not exist. Lists paginate with
 * limit (1..1000, default 100) and page (an opaque offset, returned in
 * opc-next-page while more items remain) and sort with sortBy/sortOrder
 * (http_page.h). Single resources carry an etag (http_call.h); a GET, update
 * or delete of one honours if-match (412 NoEtagMatch).
 */
#ifndef HTTP_CONTROL_H
#define HTTP_CONTROL_H

#include <stddef.h>
#include "control.pb-c.h"

struct http_call;
struct http_sort;
struct json_t;

void http_control_sender_create(struct http_call *c);
void http_control_sender_list(struct http_call *c);
void http_control_sender_get(struct http_call *c);
void http_control_sender_delete(struct http_call *c);
void http_control_suppression_create(struct http_call *c);
void http_control_suppression_list(struct http_call *c);
void http_control_suppression_get(struct http_call *c);
void http_control_suppression_delete(struct http_call *c);
void http_control_domain_create(struct http_call *c);
void http_control_domain_list(struct http_call *c);
void http_control_domain_get(struct http_call *c);
void http_control_domain_update(struct http_call *c);
void http_control_domain_delete(struct http_call *c);
void http_control_dkim_create(struct http_call *c);
void http_control_dkim_list(struct http_call *c);
void http_control_dkim_get(struct http_call *c);
void http_control_dkim_update(struct http_call *c);
void http_control_dkim_delete(struct http_call *c);
void http_control_configuration(struct http_call *c);

struct ph_config;
/* http_smtp_endpoint - GET /configuration's smtpSubmitEndpoint: CONFIGURED
 * ([httpd] smtp_submit_endpoint) when set, else "host:port" of the first
 * address of the first SMTP listener of CFG's [smtpd] that authenticated
 * clients use (submission_listen, else tls_listen, else listen; their
 * defaults when absent; a wildcard host becomes [smtpd] hostname, else
 * HOSTNAME); "" when every one is empty */
void http_smtp_endpoint(const struct ph_config *cfg, const char *configured,
    const char *hostname, char *out, size_t cap);

/* shared by http_control.c and http_control_dom.c */

/* http_control_res - one resource of the control plane: its PolicyList kind
 * and how its list is scoped, filtered and shown */
struct http_control_res {
	const char *kind;
	const char *scope;	/* the required list parameter (400 MissingParameter) */
	const char *filter;	/* an optional list parameter, or NULL */
	int scope_tenancy;	/* SCOPE must be the caller's tenancy (else 404) */
	int wrap;		/* lists as {"items": [...]} (collections) */
	/* match - O is listed for SCOPE and FILTER (NULL when absent) */
	int (*match)(const struct http_call *c, const Ph__PolicyObject *o,
	    const char *scope, const char *filter);
	/* json - O in OCI's shape; SUMMARY: as a list item */
	struct json_t *(*json)(const Ph__PolicyObject *o, int summary);
	const struct http_sort *sorts;	/* sortBy values, the default first */
};

/* http_control_res_list / _get / _delete - GET R (paginated), GET R/{id},
 * DELETE R/{id} within the caller's tenancy */
void http_control_res_list(struct http_call *c, const struct http_control_res *r);
void http_control_res_get(struct http_call *c, const struct http_control_res *r);
void http_control_res_delete(struct http_call *c, const struct http_control_res *r);

/* http_list_cb - the caller's objects of one kind (borrowed for the call) */
typedef void (*http_list_cb)(struct http_call *c, Ph__PolicyObject **objs, size_t n);
/* http_control_list - PolicyList of KIND in the caller's tenancy, then CB */
void http_control_list(struct http_call *c, const char *kind, http_list_cb cb);
/* http_control_page - reply 200 with ITEMS (consumed) sorted by SORTS and
 * the call's sortBy/sortOrder, paginated; WRAP: as {"items": [...]}
 * (collections) rather than a bare array */
void http_control_page(struct http_call *c, struct json_t *items, int wrap,
    const struct http_sort *sorts);
/* http_control_put - PolicyPut O (borrowed), then CB with the stored object */
void http_control_put(struct http_call *c, Ph__PolicyObject *o, http_list_cb cb);
/* http_control_delete - PolicyDelete KIND/C->id, then DONE (else replied) */
void http_control_delete(struct http_call *c, const char *kind,
    void (*done)(struct http_call *c));
/* http_control_body - the request body as a JSON object, NULL when replied
 * (400 CannotParseRequest) */
struct json_t *http_control_body(struct http_call *c);
/* http_control_body_str - required string member NAME of B; NULL when
 * replied (400 MissingParameter) */
const char *http_control_body_str(struct http_call *c, struct json_t *b, const char *name);
/* http_user_may_use - the caller's user may use compartment CID */
int http_user_may_use(struct http_call *c, const char *cid);
/* http_control_find - the object with id C->id among OBJS whose etag the
 * request's if-match names (when it has one); NULL when replied (404, 412) */
const Ph__PolicyObject *http_control_find(struct http_call *c, Ph__PolicyObject **objs,
    size_t n);
/* http_control_if_match - http_if_match with the etag of O as the call's
 * resource shows it: 0, or -1 when replied (412) */
int http_control_if_match(struct http_call *c, const Ph__PolicyObject *o);
/* http_control_set_etag - the etag header of O as the call's resource shows it */
void http_control_set_etag(struct http_call *c, const Ph__PolicyObject *o);
/* http_time - RFC 3339 UTC "2025-01-02T03:04:05.678Z" of MS */
struct json_t *http_time(uint64_t ms);
/* http_missing_param - 400 MissingParameter for query parameter NAME */
void http_missing_param(struct http_call *c, const char *name);
/* http_not_found - 404 NotAuthorizedOrNotFound */
void http_not_found(struct http_call *c);

#endif
