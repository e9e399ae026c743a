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
	.match = domain_match, .json = domain_json,
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
	.match = dkim_match, .json = dkim_json,
};

void http_control_dkim_list(struct http_call *c)
{
	http_control_res_list(c, &dkims);
}

void http_control_dkim_get(struct http_call *c)
{
	http_control_res_get(c, &dkims);
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
