/*
 * http_control_dom - email domains and DKIM keys and the configuration
 * resource of the control plane (see http_control.h). ph-control validates
 * and stores them (names, the key limit, key material, DNS records, the
 * lifecycle driven by its DNS checker); this file maps OCI's operations onto
 * PolicyList / PolicyPut / PolicyDelete and shows the objects in OCI's shapes
 * (EmailDomainCollection, DkimCollection).
 *
 * Creates, updates and deletes are OCI's asynchronous operations: each one
 * is a work request (http_workreq.h), begun once the caller's object (or,
 * for a new key, its email domain) was found in the caller's tenancy, and
 * SUCCEEDED when ph-control confirmed the change; the reply then is 202 with
 * opc-work-request-id. A create's 202 has the resource as body (with its
 * etag) and its full URI in Location and Content-Location; an update's has
 * the etag of the resource as it now is. The body shows the resource as the
 * service shows an accepted create: an email domain CREATING (a DKIM key is
 * CREATING as stored, until its DNS check). An email domain needs nothing
 * beyond being stored, so ph-control stores it ACTIVE: by the time the 202
 * arrives its work request has SUCCEEDED and a GET shows it ACTIVE.
 *
 * A work request's compartment is the email domain's. A DKIM key created
 * without a name gets the selector "ph-<yyyymmdd>-<6 hex>". Every user of a
 * tenancy may create email domains in its root compartment (compartmentId =
 * the tenancy OCID); another compartment must be one the user may use.
 *
 * GET /configuration: smtpSubmitEndpoint is [httpd] smtp_submit_endpoint,
 * else derived from the [smtpd] listeners (http_smtp_endpoint).
 *
 * DIAGNOSTICS: none beyond the replies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "clock.h"
#include "http_call.h"
#include "http_control.h"
#include "http_page.h"
#include "http_workreq.h"
#include "httpd.h"
#include "proc.h"

#define DOMAINS_PATH "/20170907/emailDomains"
#define DKIMS_PATH "/20170907/dkims"

/* ListEmailDomains / ListDkims sortBy: TIMECREATED (the default,
 * descending), ID and NAME (ascending) */
static const struct http_sort name_sorts[] = {
	{ "TIMECREATED", "timeCreated", 1 },
	{ "ID", "id", 0 },
	{ "NAME", "name", 0 },
	{ NULL, NULL, 0 },
};

/* domain_json - EmailDomain / EmailDomainSummary (the same fields) */
static json_t *domain_json(const Ph__PolicyObject *po, int summary)
{
	const Ph__EmailDomain *d = po->email_domain;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:{}, s:{}}", "id", d->id,
	    "name", d->name, "compartmentId", d->compartment_id,
	    "lifecycleState", d->lifecycle_state[0] ? d->lifecycle_state : "ACTIVE",
	    "timeCreated", http_time(d->time_created_ms), "isSpf", 0,
	    "freeformTags", "definedTags");

	(void)summary;
	if (o != NULL && d->active_dkim_id[0])
		json_object_set_new(o, "activeDkimId", json_string(d->active_dkim_id));
	if (o != NULL && d->description[0])
		json_object_set_new(o, "description", json_string(d->description));
	return o;
}

/* domain_match - in compartment COMP (the tenancy: every one), named NAME
 * when given */
static int domain_match(const struct http_call *c, const Ph__PolicyObject *o,
    const char *comp, const char *name)
{
	const Ph__EmailDomain *d = o->email_domain;

	return (strcmp(d->compartment_id, comp) == 0 || strcmp(comp, c->who.tenant_id) == 0) &&
	    (name == NULL || strcasecmp(name, d->name) == 0);
}

/* GET /emailDomains?compartmentId=[&name=] and /emailDomains/{id} */
static const struct http_control_res domains = {
	.kind = "emaildomain", .scope = "compartmentId", .filter = "name", .wrap = 1,
	.match = domain_match, .json = domain_json, .sorts = name_sorts,
};

void http_control_domain_list(struct http_call *c)
{
	http_control_res_list(c, &domains);
}

void http_control_domain_get(struct http_call *c)
{
	http_control_res_get(c, &domains);
}

/* dkim_json - Dkim / DkimSummary (the same fields) */
static json_t *dkim_json(const Ph__PolicyObject *po, int summary)
{
	const Ph__DkimKey *k = po->dkim_key;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:b, s:{}, s:{}}",
	    "id", k->id, "name", k->selector, "emailDomainId", k->email_domain_id,
	    "lifecycleState", k->lifecycle_state[0] ? k->lifecycle_state : "CREATING",
	    "timeCreated", http_time(k->time_created_ms),
	    "dnsSubdomainName", k->cname_record_name, "cnameRecordValue", k->cname_record_value,
	    "txtRecordValue", k->txt_record_value, "isImported", 0,
	    "freeformTags", "definedTags");

	(void)summary;
	if (o != NULL && k->check_detail[0])
		json_object_set_new(o, "lifecycleDetails", json_string(k->check_detail));
	if (o != NULL && k->description[0])
		json_object_set_new(o, "description", json_string(k->description));
	return o;
}

/* dkim_match - a key of email domain DOM */
static int dkim_match(const struct http_call *c, const Ph__PolicyObject *o,
    const char *dom, const char *unused)
{
	(void)c;
	(void)unused;
	return strcmp(o->dkim_key->email_domain_id, dom) == 0;
}

/* GET /dkims?emailDomainId= and /dkims/{id} */
static const struct http_control_res dkims = {
	.kind = "dkim", .scope = "emailDomainId", .wrap = 1,
	.match = dkim_match, .json = dkim_json, .sorts = name_sorts,
};

void http_control_dkim_list(struct http_call *c)
{
	http_control_res_list(c, &dkims);
}

void http_control_dkim_get(struct http_call *c)
{
	http_control_res_get(c, &dkims);
}

/* ---- the asynchronous operations ---- */

/* dom_op - the state of one operation across its ph-control round trips */
struct dom_op {
	json_t *body;			/* the parsed request body, or NULL */
	char domain_id[HTTP_ID_MAX];	/* the email domain to find */
	void (*then)(struct http_call *c, const Ph__EmailDomain *d);
};

/* dom_op_free - the call's op_free */
static void dom_op_free(void *arg)
{
	struct dom_op *op = arg;

	json_decref(op->body);
	free(op);
}

/* dom_op_new - the call's operation state, taking BODY; NULL when replied */
static struct dom_op *dom_op_new(struct http_call *c, json_t *body)
{
	struct dom_op *op = calloc(1, sizeof(*op));

	if (op == NULL) {
		json_decref(body);
		http_reply_internal(c);
		return NULL;
	}
	op->body = body;
	c->op = op;
	c->op_free = dom_op_free;
	return op;
}

/* dom_body_opt - optional string member NAME of the body, "" when absent */
static char *dom_body_opt(const struct dom_op *op, const char *name)
{
	const char *v = json_string_value(json_object_get(op->body, name));

	return (char *)(v != NULL ? v : "");
}

/* dom_on_domain - the email domain op->domain_id among the caller's */
static void dom_on_domain(struct http_call *c, Ph__PolicyObject **objs, size_t n)
{
	struct dom_op *op = c->op;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(objs[i]->email_domain->id, op->domain_id) != 0)
			continue;
		/* the domain is the call's target: update or delete */
		if (strcmp(op->domain_id, c->id) == 0 && http_control_if_match(c, objs[i]) == -1)
			return;
		op->then(c, objs[i]->email_domain);
		return;
	}
	http_not_found(c);
}

/* dom_with_domain - find email domain ID of the caller's tenancy, then THEN */
static void dom_with_domain(struct http_call *c, const char *id,
    void (*then)(struct http_call *c, const Ph__EmailDomain *d))
{
	struct dom_op *op = c->op;

	snprintf(op->domain_id, sizeof(op->domain_id), "%s", id);
	op->then = then;
	http_control_list(c, "emaildomain", dom_on_domain);
}

/* dom_wr_begin - the work request of this call; -1 when replied (500) */
static int dom_wr_begin(struct http_call *c, const char *operation, const char *action,
    const char *comp)
{
	int dkim = c->res == &dkims;
	struct http_wr_spec spec = { c->who.tenant_id, comp, operation,
	    dkim ? "dkim" : "emailDomain", action, dkim ? DKIMS_PATH : DOMAINS_PATH, c->id };

	if (http_wr_begin(c->hd->wrs, &spec, clock_now_ms(), c->work_request,
	    sizeof(c->work_request)) == 0)
		return 0;
	http_reply_internal(c);
	return -1;
}

/* dom_wr_done - ph-control confirmed: the work request SUCCEEDED; 202 with
 * BODY (consumed, NULL for none) and its etag */
static void dom_wr_done(struct http_call *c, json_t *body)
{
	const char *id = json_string_value(json_object_get(body, "id"));

	http_wr_finish(c->hd->wrs, c->work_request, id, NULL, clock_now_ms());
	http_set_header(c, "opc-work-request-id", c->work_request);
	c->work_request[0] = '\0';
	http_reply_resource(c, 202, body);
}

/* dom_set_location - Location and Content-Location: the full URI of the
 * new resource ID, on the host the client reached */
static void dom_set_location(struct http_call *c, const char *id)
{
	const char *host = http_header(c, "host");
	const char *path = c->res == &dkims ? DKIMS_PATH : DOMAINS_PATH;
	char uri[1024];

	if (host != NULL)
		snprintf(uri, sizeof(uri), "https://%s%s/%s", host, path, id);
	else
		snprintf(uri, sizeof(uri), "%s%s/%s", c->hd->conf.http_submit_endpoint, path, id);
	http_set_header(c, "location", uri);
	http_set_header(c, "content-location", uri);
}

/* dom_on_created - the stored object, as accepted, as the body */
static void dom_on_created(struct http_call *c, Ph__PolicyObject **objs, size_t n)
{
	json_t *body = c->res->json(objs[0], 0);
	const char *id = json_string_value(json_object_get(body, "id"));

	(void)n;
	if (body != NULL && c->res == &domains)
		json_object_set_new(body, "lifecycleState", json_string("CREATING"));
	dom_set_location(c, id != NULL ? id : "");
	dom_wr_done(c, body);
}

/* dom_on_changed - an update or delete: no body */
static void dom_on_changed(struct http_call *c)
{
	dom_wr_done(c, NULL);
}

/* dom_on_updated - http_control_put's callback for updates: the etag of the
 * resource as it now is */
static void dom_on_updated(struct http_call *c, Ph__PolicyObject **objs, size_t n)
{
	(void)n;
	http_control_set_etag(c, objs[0]);
	dom_on_changed(c);
}

/* dom_put - PolicyPut of BODY (an EmailDomain or DkimKey) as the call's
 * resource, after work request OPERATION began */
static void dom_put(struct http_call *c, void *body, const char *operation,
    const char *action, const char *comp, http_list_cb cb)
{
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;

	o.obj_case = c->res == &dkims ? PH__POLICY_OBJECT__OBJ_DKIM_KEY :
	    PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN;
	o.email_domain = body;	/* every member of the oneof shares its storage */
	if (dom_wr_begin(c, operation, action, comp) == 0)
		http_control_put(c, &o, cb);
}

/* dom_start - parse the body (UPDATE or create: required), set resource R
 * and the operation state; NULL when replied */
static struct dom_op *dom_start(struct http_call *c, const struct http_control_res *r,
    int with_body)
{
	json_t *b = with_body ? http_control_body(c) : NULL;

	if (with_body && b == NULL)
		return NULL;
	c->res = r;
	return dom_op_new(c, b);
}

/* ---- email domains ---- */

/* http_control_domain_create - POST /emailDomains {name, compartmentId, description} */
void http_control_domain_create(struct http_call *c)
{
	Ph__EmailDomain d = PH__EMAIL_DOMAIN__INIT;
	struct dom_op *op = dom_start(c, &domains, 1);
	const char *name, *comp;

	if (op == NULL || (name = http_control_body_str(c, op->body, "name")) == NULL ||
	    (comp = http_control_body_str(c, op->body, "compartmentId")) == NULL)
		return;
	if (strcmp(comp, c->who.tenant_id) != 0 && !http_user_may_use(c, comp)) {
		http_not_found(c);
		return;
	}
	d.tenant_id = c->who.tenant_id;
	d.compartment_id = (char *)comp;
	d.name = (char *)name;
	d.description = dom_body_opt(op, "description");
	dom_put(c, &d, "CREATE_EMAIL_DOMAIN", "CREATED", comp, dom_on_created);
}

/* domain_update - the domain as it is but for its description */
static void domain_update(struct http_call *c, const Ph__EmailDomain *old)
{
	Ph__EmailDomain d = *old;

	d.description = dom_body_opt(c->op, "description");
	dom_put(c, &d, "UPDATE_EMAIL_DOMAIN", "UPDATED", old->compartment_id, dom_on_updated);
}

/* domain_delete - PolicyDelete (ph-control deletes its keys with it) */
static void domain_delete(struct http_call *c, const Ph__EmailDomain *d)
{
	if (dom_wr_begin(c, "DELETE_EMAIL_DOMAIN", "DELETED", d->compartment_id) == 0)
		http_control_delete(c, "emaildomain", dom_on_changed);
}

/* http_control_domain_update - PUT /emailDomains/{id} {description} */
void http_control_domain_update(struct http_call *c)
{
	if (dom_start(c, &domains, 1) != NULL)
		dom_with_domain(c, c->id, domain_update);
}

/* http_control_domain_delete - DELETE /emailDomains/{id} */
void http_control_domain_delete(struct http_call *c)
{
	if (dom_start(c, &domains, 0) != NULL)
		dom_with_domain(c, c->id, domain_delete);
}

/* ---- DKIM keys ---- */

/* dkim_selector - a generated selector, "ph-<yyyymmdd>-<6 hex>" */
static void dkim_selector(char *out, size_t cap)
{
	time_t now = (time_t)(clock_now_ms() / 1000);
	struct tm tm;
	char day[16], rnd[33];

	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	id_new(rnd);
	snprintf(out, cap, "ph-%s-%.6s", day, rnd);
}

/* dkim_create - a new key of domain D (found in the caller's tenancy) */
static void dkim_create(struct http_call *c, const Ph__EmailDomain *d)
{
	Ph__DkimKey k = PH__DKIM_KEY__INIT;
	char sel[64];

	k.tenant_id = c->who.tenant_id;
	k.email_domain_id = d->id;
	k.selector = dom_body_opt(c->op, "name");
	if (k.selector[0] == '\0') {
		dkim_selector(sel, sizeof(sel));
		k.selector = sel;
	}
	k.description = dom_body_opt(c->op, "description");
	k.private_key_pem = dom_body_opt(c->op, "privateKey");
	dom_put(c, &k, "CREATE_DKIM", "CREATED", d->compartment_id, dom_on_created);
}

/* dkim_update - a replaced key keeps every field but its description
 * (ph-control), so the put names only the key and its domain */
static void dkim_update(struct http_call *c, const Ph__EmailDomain *d)
{
	Ph__DkimKey k = PH__DKIM_KEY__INIT;

	k.id = c->id;
	k.tenant_id = c->who.tenant_id;
	k.email_domain_id = d->id;
	k.description = dom_body_opt(c->op, "description");
	dom_put(c, &k, "UPDATE_DKIM", "UPDATED", d->compartment_id, dom_on_updated);
}

/* dkim_delete - PolicyDelete (ph-control passes the domain's active key on) */
static void dkim_delete(struct http_call *c, const Ph__EmailDomain *d)
{
	if (dom_wr_begin(c, "DELETE_DKIM", "DELETED", d->compartment_id) == 0)
		http_control_delete(c, "dkim", dom_on_changed);
}

/* dkim_on_key - the key C->id is the caller's: on to its email domain */
static void dkim_on_key(struct http_call *c, Ph__PolicyObject **objs, size_t n)
{
	struct dom_op *op = c->op;
	const Ph__PolicyObject *k = http_control_find(c, objs, n);

	if (k != NULL)
		dom_with_domain(c, k->dkim_key->email_domain_id, op->then);
}

/* dkim_with_key - find key C->id, its domain, then THEN */
static void dkim_with_key(struct http_call *c, int with_body,
    void (*then)(struct http_call *c, const Ph__EmailDomain *d))
{
	struct dom_op *op = dom_start(c, &dkims, with_body);

	if (op == NULL)
		return;
	op->then = then;
	http_control_list(c, "dkim", dkim_on_key);
}

/* http_control_dkim_create - POST /dkims {emailDomainId, name, description,
 * privateKey} */
void http_control_dkim_create(struct http_call *c)
{
	struct dom_op *op = dom_start(c, &dkims, 1);
	const char *dom;

	if (op != NULL && (dom = http_control_body_str(c, op->body, "emailDomainId")) != NULL)
		dom_with_domain(c, dom, dkim_create);
}

/* http_control_dkim_update - PUT /dkims/{id} {description} */
void http_control_dkim_update(struct http_call *c)
{
	dkim_with_key(c, 1, dkim_update);
}

/* http_control_dkim_delete - DELETE /dkims/{id} */
void http_control_dkim_delete(struct http_call *c)
{
	dkim_with_key(c, 0, dkim_delete);
}

/* listen_endpoint - listen entry SPEC ("host:port", "[v6]:port") as an
 * endpoint, a wildcard host ("", "*", "0.0.0.0", "[::]") replaced by
 * HOSTNAME; 0, or -1 when SPEC has no port */
static int listen_endpoint(const char *spec, const char *hostname, char *out, size_t cap)
{
	static const char *const wildcards[] = { "", "*", "0.0.0.0", "[::]", NULL };
	const char *colon = strrchr(spec, ':');
	size_t hl = colon != NULL ? (size_t)(colon - spec) : 0;

	if (colon == NULL || colon[1] == '\0')
		return -1;
	for (size_t i = 0; wildcards[i] != NULL; i++)
		if (strlen(wildcards[i]) == hl && strncmp(spec, wildcards[i], hl) == 0) {
			snprintf(out, cap, "%s%s", hostname, colon);
			return 0;
		}
	snprintf(out, cap, "%s", spec);
	return 0;
}

/* http_smtp_endpoint - the configured value, else the first listener of
 * [smtpd] submission_listen, tls_listen, listen (defaults included) */
void http_smtp_endpoint(const struct ph_config *cfg, const char *configured,
    const char *hostname, char *out, size_t cap)
{
	static const char *const keys[] = { "submission_listen", "tls_listen", "listen" };
	static const char *const defaults[] = { CONFIG_SMTPD_SUBMISSION_LISTEN,
	    CONFIG_SMTPD_TLS_LISTEN, CONFIG_SMTPD_LISTEN };
	char *smtpd_host;
	int found = -1;

	out[0] = '\0';
	if (configured != NULL && configured[0] != '\0') {
		snprintf(out, cap, "%s", configured);
		return;
	}
	smtpd_host = config_get(cfg, "smtpd", "hostname");
	for (size_t i = 0; found == -1 && i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *v = config_get(cfg, "smtpd", keys[i]);
		struct strvec sv = { NULL, 0 };

		strvec_split(&sv, v != NULL ? v : defaults[i]);
		if (sv.n > 0)
			found = listen_endpoint(sv.v[0], smtpd_host != NULL && smtpd_host[0] ?
			    smtpd_host : hostname, out, cap);
		strvec_clear(&sv);
		free(v);
	}
	free(smtpd_host);
}

/* http_control_configuration - GET /configuration?compartmentId=<tenancy> */
void http_control_configuration(struct http_call *c)
{
	const struct httpd_conf *conf = &c->hd->conf;
	char *comp = http_query(c, "compartmentId");
	char http_ep[512], smtp_ep[512];

	if (comp == NULL) {
		http_missing_param(c, "compartmentId");
		return;
	}
	if (strcmp(comp, c->who.tenant_id) != 0) {
		free(comp);
		http_not_found(c);
		return;
	}
	free(comp);
	snprintf(http_ep, sizeof(http_ep), "%s", *conf->http_submit_endpoint ?
	    conf->http_submit_endpoint : "https://localhost:8443");
	http_smtp_endpoint(c->hd->proc->cfg, conf->smtp_submit_endpoint, c->hd->hostname,
	    smtp_ep, sizeof(smtp_ep));
	http_reply_json(c, 200, json_pack("{s:s, s:s, s:s}", "compartmentId", c->who.tenant_id,
	    "httpSubmitEndpoint", http_ep, "smtpSubmitEndpoint", smtp_ep));
}
