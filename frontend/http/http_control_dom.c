/*
 * http_control_dom - email domains and DKIM keys (read side) and the
 * configuration resource of the control plane (see http_control.h). Keys
 * and domains are created and checked by ph-control (phctl); this file only
 * shows them in OCI's shapes (EmailDomainCollection, DkimCollection).
 *
 * DIAGNOSTICS: none beyond the replies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "http_call.h"
#include "http_control.h"
#include "httpd.h"

/* domain_json - EmailDomain / EmailDomainSummary */
static json_t *domain_json(const Ph__EmailDomain *d)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:{}, s:{}}", "id", d->id,
	    "name", d->name, "compartmentId", d->compartment_id,
	    "lifecycleState", d->lifecycle_state[0] ? d->lifecycle_state : "ACTIVE",
	    "timeCreated", http_time(d->time_created_ms), "isSpf", 0,
	    "freeformTags", "definedTags");

	if (o != NULL && d->active_dkim_id[0])
		json_object_set_new(o, "activeDkimId", json_string(d->active_dkim_id));
	if (o != NULL && d->description[0])
		json_object_set_new(o, "description", json_string(d->description));
	return o;
}

/* domain_list_reply - GET /emailDomains?compartmentId= */
static void domain_list_reply(struct http_call *c, Ph__PolicyObject **objs, size_t n)
{
	char *comp = http_query(c, "compartmentId"), *name = http_query(c, "name");
	json_t *items = json_array();

	for (size_t i = 0; comp != NULL && i < n; i++) {
		const Ph__EmailDomain *d = objs[i]->email_domain;
		if ((strcmp(d->compartment_id, comp) == 0 || strcmp(comp, c->who.tenant_id) == 0) &&
		    (name == NULL || strcasecmp(name, d->name) == 0))
			json_array_append_new(items, domain_json(d));
	}
	if (comp == NULL) {
		json_decref(items);
		http_missing_param(c, "compartmentId");
	} else {
		http_control_page(c, items, 1);
	}
	free(comp);
	free(name);
}

void http_control_domain_list(struct http_call *c)
{
	http_control_list(c, "emaildomain", domain_list_reply);
}

static void domain_get_reply(struct http_call *c, Ph__PolicyObject **objs, size_t n)
{
	const Ph__PolicyObject *o = http_control_find(c, objs, n);

	if (o != NULL)
		http_reply_json(c, 200, domain_json(o->email_domain));
}

void http_control_domain_get(struct http_call *c)
{
	http_control_list(c, "emaildomain", domain_get_reply);
}

/* dkim_json - Dkim / DkimSummary */
static json_t *dkim_json(const Ph__DkimKey *k)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:b, s:{}, s:{}}",
	    "id", k->id, "name", k->selector, "emailDomainId", k->email_domain_id,
	    "lifecycleState", k->lifecycle_state[0] ? k->lifecycle_state : "CREATING",
	    "timeCreated", http_time(k->time_created_ms),
	    "dnsSubdomainName", k->cname_record_name, "cnameRecordValue", k->cname_record_value,
	    "txtRecordValue", k->txt_record_value, "isImported", 0,
	    "freeformTags", "definedTags");

	if (o != NULL && k->check_detail[0])
		json_object_set_new(o, "lifecycleDetails", json_string(k->check_detail));
	if (o != NULL && k->description[0])
		json_object_set_new(o, "description", json_string(k->description));
	return o;
}

/* dkim_list_reply - GET /dkims?emailDomainId= */
static void dkim_list_reply(struct http_call *c, Ph__PolicyObject **objs, size_t n)
{
	char *dom = http_query(c, "emailDomainId");
	json_t *items = json_array();

	for (size_t i = 0; dom != NULL && i < n; i++)
		if (strcmp(objs[i]->dkim_key->email_domain_id, dom) == 0)
			json_array_append_new(items, dkim_json(objs[i]->dkim_key));
	if (dom == NULL) {
		json_decref(items);
		http_missing_param(c, "emailDomainId");
	} else {
		http_control_page(c, items, 1);
	}
	free(dom);
}

void http_control_dkim_list(struct http_call *c)
{
	http_control_list(c, "dkim", dkim_list_reply);
}

static void dkim_get_reply(struct http_call *c, Ph__PolicyObject **objs, size_t n)
{
	const Ph__PolicyObject *o = http_control_find(c, objs, n);

	if (o != NULL)
		http_reply_json(c, 200, dkim_json(o->dkim_key));
}

void http_control_dkim_get(struct http_call *c)
{
	http_control_list(c, "dkim", dkim_get_reply);
}

/* http_control_configuration - GET /configuration?compartmentId=<tenancy> */
void http_control_configuration(struct http_call *c)
{
	const struct httpd_conf *conf = &c->hd->conf;
	char *comp = http_query(c, "compartmentId");
	char http_ep[512];

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
	http_reply_json(c, 200, json_pack("{s:s, s:s, s:s}", "compartmentId", c->who.tenant_id,
	    "httpSubmitEndpoint", http_ep, "smtpSubmitEndpoint", conf->smtp_submit_endpoint));
}
