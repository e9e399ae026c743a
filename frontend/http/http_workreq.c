/*
 * http_workreq - the in-memory work requests and their routes (see
 * http_workreq.h).
 *
 * The store is a ring of at most MAX entries in acceptance order: a new one
 * replaces the oldest when full, and entries older than the TTL are dropped
 * from the old end whenever the store is used. Look-ups scan it: the control
 * plane is slow traffic.
 *
 * DIAGNOSTICS: none beyond the replies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "clock.h"
#include "http_call.h"
#include "http_control.h"
#include "http_page.h"
#include "http_workreq.h"
#include "httpd.h"

struct wr {
	char id[64];
	char tenant[HTTP_ID_MAX];
	char compartment[HTTP_ID_MAX];
	char operation[32];
	char entity_type[24];
	char action[16];
	char path[48];
	char entity_id[HTTP_ID_MAX];
	const char *status;		/* IN_PROGRESS, SUCCEEDED, FAILED */
	char error[256];
	uint64_t accepted_ms, finished_ms;
};

struct http_wr_store {
	struct wr **v;
	size_t max, head, n;		/* next slot, entries in use */
	uint64_t ttl_ms;
};

/* http_wr_store_new - an empty ring */
struct http_wr_store *http_wr_store_new(size_t max, uint64_t ttl_ms)
{
	struct http_wr_store *s = calloc(1, sizeof(*s));

	if (s == NULL || max == 0 || (s->v = calloc(max, sizeof(*s->v))) == NULL) {
		free(s);
		return NULL;
	}
	s->max = max;
	s->ttl_ms = ttl_ms;
	return s;
}

/* http_wr_store_free - every entry and the ring */
void http_wr_store_free(struct http_wr_store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->max; i++)
		free(s->v[i]);
	free(s->v);
	free(s);
}

/* wr_at - the I-th entry from the oldest */
static struct wr *wr_at(const struct http_wr_store *s, size_t i)
{
	return s->v[(s->head + s->max - s->n + i) % s->max];
}

/* wr_drop_oldest - forget the oldest entry */
static void wr_drop_oldest(struct http_wr_store *s)
{
	size_t slot = (s->head + s->max - s->n) % s->max;

	free(s->v[slot]);
	s->v[slot] = NULL;
	s->n--;
}

/* wr_expire - drop the entries accepted more than the TTL ago */
static void wr_expire(struct http_wr_store *s, uint64_t now_ms)
{
	while (s->n > 0 && wr_at(s, 0)->accepted_ms + s->ttl_ms <= now_ms)
		wr_drop_oldest(s);
}

/* wr_find - the live entry ID of TENANT, NULL if none */
static struct wr *wr_find(struct http_wr_store *s, const char *tenant, const char *id,
    uint64_t now_ms)
{
	wr_expire(s, now_ms);
	for (size_t i = 0; i < s->n; i++) {
		struct wr *w = wr_at(s, i);
		if (strcmp(w->id, id) == 0 && (tenant == NULL || strcmp(w->tenant, tenant) == 0))
			return w;
	}
	return NULL;
}

/* http_wr_begin - a new IN_PROGRESS entry */
int http_wr_begin(struct http_wr_store *s, const struct http_wr_spec *spec,
    uint64_t now_ms, char *id, size_t cap)
{
	struct wr *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return -1;
	wr_expire(s, now_ms);
	if (s->n == s->max)
		wr_drop_oldest(s);
	id_ocid(w->id, sizeof(w->id), "emailworkrequest");
	snprintf(w->tenant, sizeof(w->tenant), "%s", spec->tenant_id);
	snprintf(w->compartment, sizeof(w->compartment), "%s", spec->compartment_id);
	snprintf(w->operation, sizeof(w->operation), "%s", spec->operation);
	snprintf(w->entity_type, sizeof(w->entity_type), "%s", spec->entity_type);
	snprintf(w->action, sizeof(w->action), "%s", spec->action);
	snprintf(w->path, sizeof(w->path), "%s", spec->path);
	snprintf(w->entity_id, sizeof(w->entity_id), "%s", spec->entity_id);
	w->status = "IN_PROGRESS";
	w->accepted_ms = now_ms;
	s->v[s->head] = w;
	s->head = (s->head + 1) % s->max;
	s->n++;
	snprintf(id, cap, "%s", w->id);
	return 0;
}

/* http_wr_finish - SUCCEEDED or FAILED */
void http_wr_finish(struct http_wr_store *s, const char *id, const char *entity_id,
    const char *error, uint64_t now_ms)
{
	struct wr *w = wr_find(s, NULL, id, now_ms);

	if (w == NULL)
		return;
	w->status = error == NULL ? "SUCCEEDED" : "FAILED";
	snprintf(w->error, sizeof(w->error), "%s", error ? error : "");
	if (entity_id != NULL)
		snprintf(w->entity_id, sizeof(w->entity_id), "%s", entity_id);
	w->finished_ms = now_ms;
}

/* wr_resource - the WorkRequestResource of W */
static json_t *wr_resource(const struct wr *w)
{
	const char *action = strcmp(w->status, "SUCCEEDED") == 0 ? w->action : w->status;
	json_t *r = json_pack("{s:s, s:s, s:s}", "entityType", w->entity_type, "actionType",
	    strcmp(action, "FAILED") == 0 ? "FAILED" : action, "identifier", w->entity_id);

	if (r != NULL && w->entity_id[0] && strcmp(w->action, "DELETED") != 0)
		json_object_set_new(r, "entityUri", json_sprintf("%s/%s", w->path, w->entity_id));
	return r;
}

/* wr_json - WorkRequest / WorkRequestSummary (the same fields) */
static json_t *wr_json(const struct wr *w)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:[o], s:i, s:o, s:o}", "id", w->id,
	    "operationType", w->operation, "status", w->status, "compartmentId",
	    w->compartment, "resources", wr_resource(w), "percentComplete",
	    w->finished_ms ? 100 : 50, "timeAccepted", http_time(w->accepted_ms),
	    "timeStarted", http_time(w->accepted_ms));

	if (o != NULL && w->finished_ms)
		json_object_set_new(o, "timeFinished", http_time(w->finished_ms));
	return o;
}

/* wr_errors - the WorkRequestError items of W */
static json_t *wr_errors(const struct wr *w)
{
	if (strcmp(w->status, "FAILED") != 0)
		return json_array();
	return json_pack("[{s:s, s:s, s:o}]", "code", "InternalServerError", "message", w->error,
	    "timestamp", http_time(w->finished_ms));
}

/* wr_logs - the WorkRequestLogEntry items of W */
static json_t *wr_logs(const struct wr *w)
{
	json_t *a = json_pack("[{s:s, s:o}]", "message", "Work request accepted",
	    "timestamp", http_time(w->accepted_ms));

	if (a != NULL && w->finished_ms)
		json_array_append_new(a, json_pack("{s:s, s:o}", "message",
		    w->error[0] ? w->error : "Work request succeeded",
		    "timestamp", http_time(w->finished_ms)));
	return a;
}

/* http_wr_json - one work request, its errors or its logs */
json_t *http_wr_json(struct http_wr_store *s, const char *tenant_id, const char *id,
    int what, uint64_t now_ms)
{
	const struct wr *w = wr_find(s, tenant_id, id, now_ms);

	if (w == NULL)
		return NULL;
	return what == 0 ? wr_json(w) : what == 1 ? wr_errors(w) : wr_logs(w);
}

/* http_wr_list - the tenant's work requests in a compartment */
json_t *http_wr_list(struct http_wr_store *s, const char *tenant_id, const char *compartment,
    const char *status, const char *operation, uint64_t now_ms)
{
	json_t *a = json_array();

	wr_expire(s, now_ms);
	for (size_t i = 0; a != NULL && i < s->n; i++) {
		const struct wr *w = wr_at(s, i);
		if (strcmp(w->tenant, tenant_id) != 0 ||
		    (strcmp(compartment, tenant_id) != 0 && strcmp(compartment, w->compartment) != 0) ||
		    (status != NULL && strcmp(status, w->status) != 0) ||
		    (operation != NULL && strcmp(operation, w->operation) != 0))
			continue;
		json_array_append_new(a, wr_json(w));
	}
	return a;
}

/* ---- the routes ---- */

static const struct http_sort wr_sorts[] = {
	{ "timeAccepted", "timeAccepted", 1 },
	{ NULL, NULL, 0 },
};

static const struct http_sort wr_entry_sorts[] = {
	{ "timestamp", "timestamp", 0 },
	{ NULL, NULL, 0 },
};

/* http_workreq_list - GET /workRequests?compartmentId=[&status=][&operationType=] */
void http_workreq_list(struct http_call *c)
{
	char *comp = http_query(c, "compartmentId");
	char *status = http_query(c, "status"), *op = http_query(c, "operationType");

	if (comp == NULL)
		http_missing_param(c, "compartmentId");
	else
		http_control_page(c, http_wr_list(c->hd->wrs, c->who.tenant_id, comp, status, op,
		    clock_now_ms()), 1, wr_sorts);
	free(comp);
	free(status);
	free(op);
}

/* workreq_one - GET /workRequests/{id}[/errors|/logs] */
static void workreq_one(struct http_call *c, int what)
{
	json_t *j = http_wr_json(c->hd->wrs, c->who.tenant_id, c->id, what, clock_now_ms());

	if (j == NULL)
		http_not_found(c);
	else if (what == 0)
		http_reply_json(c, 200, j);
	else
		http_control_page(c, j, 1, wr_entry_sorts);
}

void http_workreq_get(struct http_call *c)
{
	workreq_one(c, 0);
}

void http_workreq_errors(struct http_call *c)
{
	workreq_one(c, 1);
}

void http_workreq_logs(struct http_call *c)
{
	workreq_one(c, 2);
}
