/*
 * http_control - control-plane plumbing (requests to ph-control, pagination,
 * errors) and the approved-sender and suppression resources (see
 * http_control.h).
 *
 * ph-control validates what it stores (address syntax, compartment in the
 * tenancy, uniqueness); its refusals map to 400 InvalidParameter, 404
 * NotAuthorizedOrNotFound and 409 Conflict. Senders are created only in a
 * compartment the caller's user may use; suppressions live at the tenancy
 * (compartmentId must be the tenancy OCID, research notes 4).
 *
 * DIAGNOSTICS: ph-control not answering is a warning (500 to the client).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "http_call.h"
#include "http_control.h"
#include "http_page.h"
#include "httpd.h"
#include "log.h"
#include "policy.h"
#include "rpc.h"

/* control_status_reply - map a refusal of ph-control */
static void control_status_reply(struct http_call *c, const Ph__Status *st)
{
	const char *msg = st && st->message ? st->message : "";

	switch (st ? st->code : PH__ERROR_CODE__ERR_INTERNAL) {
	case PH__ERROR_CODE__ERR_EXISTS:
		http_reply_error(c, 409, "Conflict", "%s", msg);
		break;
	case PH__ERROR_CODE__ERR_NOT_FOUND:
		http_not_found(c);
		break;
	case PH__ERROR_CODE__ERR_BAD_REQUEST:
		http_reply_error(c, 400, "InvalidParameter", "%s", msg);
		break;
	default:
		http_reply_internal(c);
		break;
	}
}

/* control_reply_ok - the PolicyReply of REP when ok, else replied */
static Ph__PolicyReply *control_reply_ok(struct http_call *c, Ph__Envelope *rep)
{
	if (rep == NULL) {
		log_warnx("http %s: ph-control did not answer", c->request_id);
		http_reply_internal(c);
		return NULL;
	}
	if (rep->body_case != PH__ENVELOPE__BODY_POLICY_REPLY) {
		control_status_reply(c, rep->body_case == PH__ENVELOPE__BODY_STATUS ?
		    rep->status : NULL);
		return NULL;
	}
	if (rep->policy_reply->status == NULL || !rep->policy_reply->status->ok) {
		control_status_reply(c, rep->policy_reply->status);
		return NULL;
	}
	return rep->policy_reply;
}

/* control_call - send ENV to ph-control; CB(C, reply) later */
static void control_call(struct http_call *c, Ph__Envelope *env, rpc_cb cb)
{
	if (rpc_call(c->hd->control, env, (unsigned)c->hd->conf.control_timeout, cb, c) == -1)
		http_reply_internal(c);
}

/* control_on_list - hand the objects to the list callback */
static void control_on_list(void *arg, Ph__Envelope *rep)
{
	struct http_call *c = arg;
	http_list_cb cb = c->on_objects;
	Ph__PolicyReply *r = control_reply_ok(c, rep);

	if (r != NULL)
		cb(c, r->objects, r->n_objects);
}

/* http_control_list - PolicyList {kind, tenant} */
void http_control_list(struct http_call *c, const char *kind, http_list_cb cb)
{
	Ph__Envelope env;
	Ph__PolicyList pl = PH__POLICY_LIST__INIT;

	pl.kind = (char *)kind;
	pl.tenant_id = c->who.tenant_id;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_POLICY_LIST;
	env.policy_list = &pl;
	c->on_objects = cb;
	control_call(c, &env, control_on_list);
}

/* http_control_page - one page of ITEMS, sorted as asked */
void http_control_page(struct http_call *c, json_t *items, int wrap,
    const struct http_sort *sorts)
{
	char *by = http_query(c, "sortBy"), *order = http_query(c, "sortOrder");
	char *limit = http_query(c, "limit"), *pg = http_query(c, "page");
	struct http_page_req req = { by, order, limit, pg };
	const char *bad;
	char next[32];
	json_t *page;
	int rc = http_page_select(items, sorts, &req, &page, next, sizeof(next), &bad);

	free(by);
	free(order);
	free(limit);
	free(pg);
	if (rc == -1 && bad == NULL) {
		http_reply_internal(c);
		return;
	}
	if (rc == -1) {
		http_reply_error(c, 400, "InvalidParameter", "Invalid %s", bad);
		return;
	}
	if (next[0] != '\0')
		http_set_header(c, "opc-next-page", next);
	http_reply_json(c, 200, wrap ? json_pack("{s:o}", "items", page) : page);
}

/* control_etag - the etag of O as the call's resource shows it */
static void control_etag(const struct http_call *c, const Ph__PolicyObject *o,
    char etag[HTTP_ETAG_LEN])
{
	json_t *j = c->res->json(o, 0);

	http_etag(j, etag);
	json_decref(j);
}

/* http_control_if_match - the request's if-match against O */
int http_control_if_match(struct http_call *c, const Ph__PolicyObject *o)
{
	char etag[HTTP_ETAG_LEN];

	control_etag(c, o, etag);
	return http_if_match(c, etag);
}

/* http_control_set_etag - the etag header of O */
void http_control_set_etag(struct http_call *c, const Ph__PolicyObject *o)
{
	char etag[HTTP_ETAG_LEN];

	control_etag(c, o, etag);
	if (etag[0] != '\0')
		http_set_header(c, "etag", etag);
}

/* http_control_find - by id, then the request's if-match */
const Ph__PolicyObject *http_control_find(struct http_call *c, Ph__PolicyObject **objs,
    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const ProtobufCMessage *m = (const ProtobufCMessage *)objs[i]->sender;
		const ProtobufCFieldDescriptor *f = m ?
		    protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "id") : NULL;
		const char *id = f ? *(char *const *)((const char *)m + f->offset) : "";

		if (strcmp(id, c->id) == 0)
			return http_control_if_match(c, objs[i]) == 0 ? objs[i] : NULL;
	}
	http_not_found(c);
	return NULL;
}

/* http_time - RFC 3339 with milliseconds, UTC */
json_t *http_time(uint64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char buf[40];

	gmtime_r(&secs, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	return json_sprintf("%s.%03uZ", buf, (unsigned)(ms % 1000));
}

/* http_missing_param - a required query parameter is absent */
void http_missing_param(struct http_call *c, const char *name)
{
	http_reply_error(c, 400, "MissingParameter", "Missing required parameter: %s", name);
}

/* http_not_found - OCI's answer for both "absent" and "not yours" */
void http_not_found(struct http_call *c)
{
	http_reply_error(c, 404, "NotAuthorizedOrNotFound",
	    "Authorization failed or requested resource not found.");
}

/* ---- puts and deletes ---- */

/* control_on_put - reply with the stored object as JSON */
static void control_on_put(void *arg, Ph__Envelope *rep)
{
	struct http_call *c = arg;
	http_list_cb cb = c->on_objects;
	Ph__PolicyReply *r = control_reply_ok(c, rep);

	if (r != NULL && r->n_objects == 1)
		cb(c, r->objects, 1);
	else if (r != NULL)
		http_reply_internal(c);
}

/* http_control_put - PolicyPut O, then CB with the stored object */
void http_control_put(struct http_call *c, Ph__PolicyObject *o, http_list_cb cb)
{
	Ph__Envelope env;
	Ph__PolicyPut put = PH__POLICY_PUT__INIT;

	put.object = o;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_POLICY_PUT;
	env.policy_put = &put;
	c->on_objects = cb;
	control_call(c, &env, control_on_put);
}

/* control_on_delete - the call's done callback */
static void control_on_delete(void *arg, Ph__Envelope *rep)
{
	struct http_call *c = arg;

	if (control_reply_ok(c, rep) != NULL)
		c->on_done(c);
}

/* http_control_delete - PolicyDelete of the object C->id of KIND, then DONE */
void http_control_delete(struct http_call *c, const char *kind, void (*done)(struct http_call *c))
{
	Ph__Envelope env;
	Ph__PolicyDelete del = PH__POLICY_DELETE__INIT;

	del.kind = (char *)kind;
	del.id = c->id;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_POLICY_DELETE;
	env.policy_delete = &del;
	c->on_done = done;
	control_call(c, &env, control_on_delete);
}

/* http_control_body - the JSON object body; NULL when replied */
json_t *http_control_body(struct http_call *c)
{
	json_error_t jerr;
	json_t *b = json_loadb((const char *)c->body, c->body_len, JSON_REJECT_DUPLICATES, &jerr);

	if (b == NULL || !json_is_object(b)) {
		json_decref(b);
		http_reply_error(c, 400, "CannotParseRequest", "Request body is not valid JSON.");
		return NULL;
	}
	return b;
}

/* http_control_body_str - required string member NAME; NULL when replied */
const char *http_control_body_str(struct http_call *c, json_t *b, const char *name)
{
	const char *v = json_string_value(json_object_get(b, name));

	if (v == NULL || *v == '\0')
		http_reply_error(c, 400, "MissingParameter",
		    "Required attribute %s can't be empty or null.", name);
	return v;
}

/* ---- the resource handlers (list, get, create reply, delete) ---- */

/* res_on_list - the caller's objects of the resource in its SCOPE, filtered */
static void res_on_list(struct http_call *c, Ph__PolicyObject **objs, size_t n)
{
	const struct http_control_res *r = c->res;
	char *scope = http_query(c, r->scope);
	char *filter = r->filter != NULL ? http_query(c, r->filter) : NULL;
	json_t *items;

	if (scope == NULL) {
		http_missing_param(c, r->scope);
	} else if (r->scope_tenancy && strcmp(scope, c->who.tenant_id) != 0) {
		http_not_found(c);
	} else {
		items = json_array();
		for (size_t i = 0; i < n; i++)
			if (r->match(c, objs[i], scope, filter))
				json_array_append_new(items, r->json(objs[i], 1));
		http_control_page(c, items, r->wrap, r->sorts);
	}
	free(scope);
	free(filter);
}

/* res_on_one - the object with id C->id */
static void res_on_one(struct http_call *c, Ph__PolicyObject **objs, size_t n)
{
	const Ph__PolicyObject *o = http_control_find(c, objs, n);

	if (o != NULL)
		http_reply_resource(c, 200, c->res->json(o, 0));
}

/* res_on_deleted - 204 */
static void res_on_deleted(struct http_call *c)
{
	http_reply_json(c, 204, NULL);
}

/* res_on_delete - the object is the caller's: delete it */
static void res_on_delete(struct http_call *c, Ph__PolicyObject **objs, size_t n)
{
	if (http_control_find(c, objs, n) != NULL)
		http_control_delete(c, c->res->kind, res_on_deleted);
}

/* http_control_res_list - GET the collection of R */
void http_control_res_list(struct http_call *c, const struct http_control_res *r)
{
	c->res = r;
	http_control_list(c, r->kind, res_on_list);
}

/* http_control_res_get - GET R/{id} */
void http_control_res_get(struct http_call *c, const struct http_control_res *r)
{
	c->res = r;
	http_control_list(c, r->kind, res_on_one);
}

/* http_control_res_delete - DELETE R/{id} */
void http_control_res_delete(struct http_call *c, const struct http_control_res *r)
{
	c->res = r;
	http_control_list(c, r->kind, res_on_delete);
}

/* res_on_created - the stored object */
static void res_on_created(struct http_call *c, Ph__PolicyObject **objs, size_t n)
{
	(void)n;
	http_reply_resource(c, 200, c->res->json(objs[0], 0));
}

/* control_create - PolicyPut O of R, then reply with the stored object */
static void control_create(struct http_call *c, const struct http_control_res *r,
    Ph__PolicyObject *o)
{
	c->res = r;
	http_control_put(c, o, res_on_created);
}

/* control_create_body - the body's compartmentId and emailAddress (both
 * required); the parsed body (json_decref'd by the caller), NULL when replied */
static json_t *control_create_body(struct http_call *c, const char **comp,
    const char **addr)
{
	json_t *b = http_control_body(c);

	if (b == NULL)
		return NULL;
	if ((*comp = http_control_body_str(c, b, "compartmentId")) == NULL ||
	    (*addr = http_control_body_str(c, b, "emailAddress")) == NULL) {
		json_decref(b);
		return NULL;
	}
	return b;
}

/* ---- senders ---- */

/* sender_json - Sender / SenderSummary (the same fields) */
static json_t *sender_json(const Ph__PolicyObject *o, int summary)
{
	const Ph__Sender *s = o->sender;

	(void)summary;
	return json_pack("{s:s, s:s, s:s, s:b, s:s, s:o, s:{}, s:{}}", "compartmentId",
	    s->compartment_id, "emailAddress", s->address, "id", s->id, "isSpf", 0,
	    "lifecycleState", "ACTIVE", "timeCreated", http_time(s->time_created_ms),
	    "freeformTags", "definedTags");
}

/* sender_match - in compartment COMP, with address ADDR when given */
static int sender_match(const struct http_call *c, const Ph__PolicyObject *o,
    const char *comp, const char *addr)
{
	(void)c;
	return strcmp(o->sender->compartment_id, comp) == 0 &&
	    (addr == NULL || strcasecmp(addr, o->sender->address) == 0);
}

/* ListSenders / ListSuppressions sortBy: TIMECREATED (descending by
 * default, the default key) or EMAILADDRESS (ascending by default) */
static const struct http_sort address_sorts[] = {
	{ "TIMECREATED", "timeCreated", 1 },
	{ "EMAILADDRESS", "emailAddress", 0 },
	{ NULL, NULL, 0 },
};

static const struct http_control_res senders = {
	.kind = "sender", .scope = "compartmentId", .filter = "emailAddress",
	.match = sender_match, .json = sender_json, .sorts = address_sorts,
};

/* http_user_may_use - the caller's user may use compartment CID */
int http_user_may_use(struct http_call *c, const char *cid)
{
	return policy_user_may_use(policy_user(c->hd->policy, c->who.user_id), cid);
}

/* http_control_sender_create - POST /senders {compartmentId, emailAddress} */
void http_control_sender_create(struct http_call *c)
{
	Ph__Sender s = PH__SENDER__INIT;
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;
	const char *comp, *addr;
	json_t *b = control_create_body(c, &comp, &addr);

	if (b == NULL)
		return;
	if (!http_user_may_use(c, comp)) {
		json_decref(b);
		http_not_found(c);
		return;
	}
	s.tenant_id = c->who.tenant_id;
	s.compartment_id = (char *)comp;
	s.address = (char *)addr;
	o.obj_case = PH__POLICY_OBJECT__OBJ_SENDER;
	o.sender = &s;
	control_create(c, &senders, &o);
	json_decref(b);
}

void http_control_sender_list(struct http_call *c)
{
	http_control_res_list(c, &senders);
}

void http_control_sender_get(struct http_call *c)
{
	http_control_res_get(c, &senders);
}

void http_control_sender_delete(struct http_call *c)
{
	http_control_res_delete(c, &senders);
}

/* ---- suppressions ---- */

/* suppression_json - Suppression (SUMMARY: SuppressionSummary fields only) */
static json_t *suppression_json(const Ph__PolicyObject *so, int summary)
{
	const Ph__Suppression *x = so->suppression;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o}", "compartmentId", x->tenant_id,
	    "emailAddress", x->address, "id", x->id, "reason", x->reason,
	    "timeCreated", http_time(x->time_created_ms));

	if (o != NULL && !summary && x->message_id[0])
		json_object_set_new(o, "messageId", json_string(x->message_id));
	if (o != NULL && !summary && x->error_detail[0])
		json_object_set_new(o, "errorDetail", json_string(x->error_detail));
	return o;
}

/* suppression_match - with address ADDR when given (the scope is the tenancy) */
static int suppression_match(const struct http_call *c, const Ph__PolicyObject *o,
    const char *comp, const char *addr)
{
	(void)c;
	(void)comp;
	return addr == NULL || strcasecmp(addr, o->suppression->address) == 0;
}

static const struct http_control_res suppressions = {
	.kind = "suppression", .scope = "compartmentId", .filter = "emailAddress",
	.scope_tenancy = 1, .match = suppression_match, .json = suppression_json,
	.sorts = address_sorts,
};

/* http_control_suppression_create - POST /suppressions */
void http_control_suppression_create(struct http_call *c)
{
	Ph__Suppression x = PH__SUPPRESSION__INIT;
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;
	const char *comp, *addr;
	json_t *b = control_create_body(c, &comp, &addr);

	if (b == NULL)
		return;
	if (strcmp(comp, c->who.tenant_id) != 0) {
		json_decref(b);
		http_not_found(c);
		return;
	}
	x.tenant_id = c->who.tenant_id;
	x.address = (char *)addr;
	x.reason = "MANUAL";
	o.obj_case = PH__POLICY_OBJECT__OBJ_SUPPRESSION;
	o.suppression = &x;
	control_create(c, &suppressions, &o);
	json_decref(b);
}

void http_control_suppression_list(struct http_call *c)
{
	http_control_res_list(c, &suppressions);
}

void http_control_suppression_get(struct http_call *c)
{
	http_control_res_get(c, &suppressions);
}

void http_control_suppression_delete(struct http_call *c)
{
	http_control_res_delete(c, &suppressions);
}
