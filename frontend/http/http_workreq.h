/*
 * http_workreq - work requests of the asynchronous control-plane operations
 * (create, update and delete of email domains and DKIM keys), as OCI shows
 * them (research notes 8.5): GET /20170907/workRequests?compartmentId=,
 * /workRequests/{id}, /workRequests/{id}/errors and /workRequests/{id}/logs.
 *
 * They live in ph-httpd's memory only: at most [httpd] work_requests (10000)
 * of them, each kept for work_request_ttl (1 day) after it was accepted; a
 * restart forgets them (the resources themselves are in ph-control). A work
 * request is IN_PROGRESS while ph-control carries out the change and
 * SUCCEEDED once ph-control confirmed it (FAILED, with one error, when it
 * refused or did not answer). Each instance of ph-httpd knows only its own.
 */
#ifndef HTTP_WORKREQ_H
#define HTTP_WORKREQ_H

#include <stddef.h>
#include <stdint.h>

struct http_call;
struct http_wr_store;
struct json_t;

/* http_wr_spec - what a new work request is about */
struct http_wr_spec {
	const char *tenant_id;
	const char *compartment_id;
	const char *operation;		/* "CREATE_DKIM", "DELETE_EMAIL_DOMAIN", ... */
	const char *entity_type;	/* "dkim", "emailDomain" */
	const char *action;		/* "CREATED", "UPDATED", "DELETED" */
	const char *path;		/* "/20170907/dkims": the entityUri prefix */
	const char *entity_id;		/* "" when not known yet (create) */
};

/* http_wr_store_new / _free - a store of at most MAX work requests, each
 * forgotten TTL_MS after it was accepted; NULL when out of memory */
struct http_wr_store *http_wr_store_new(size_t max, uint64_t ttl_ms);
void http_wr_store_free(struct http_wr_store *s);

/* http_wr_begin - a new IN_PROGRESS work request (the oldest one goes when
 * the store is full); its id into ID (at least 64 bytes). 0 or -1 (OOM). */
int http_wr_begin(struct http_wr_store *s, const struct http_wr_spec *spec,
    uint64_t now_ms, char *id, size_t cap);
/* http_wr_finish - work request ID ended: SUCCEEDED when ERROR is NULL
 * (ENTITY_ID, when not NULL, names the resource created), else FAILED with
 * that error message. Unknown ids are ignored. */
void http_wr_finish(struct http_wr_store *s, const char *id, const char *entity_id,
    const char *error, uint64_t now_ms);

/* http_wr_json - work request ID of TENANT_ID as a WorkRequest (SUMMARY:
 * WorkRequestSummary), or its errors / log entries as collections items
 * (WHAT: 0 the request, 1 errors, 2 logs). NULL when unknown or expired. */
struct json_t *http_wr_json(struct http_wr_store *s, const char *tenant_id,
    const char *id, int what, uint64_t now_ms);
/* http_wr_list - the work requests of TENANT_ID in COMPARTMENT (the tenancy:
 * every one of the tenant) as a JSON array of WorkRequestSummary, filtered by
 * STATUS and OPERATION when not NULL */
struct json_t *http_wr_list(struct http_wr_store *s, const char *tenant_id,
    const char *compartment, const char *status, const char *operation,
    uint64_t now_ms);

/* the routes */
void http_workreq_list(struct http_call *c);
void http_workreq_get(struct http_call *c);
void http_workreq_errors(struct http_call *c);
void http_workreq_logs(struct http_call *c);

#endif
