/*
 * phctl_dkim - email domains and DKIM keys:
 *
 *   phctl domain add TENANT NAME          phctl dkim add DOMAIN SELECTOR [--key-file PEM]
 *   phctl domain list [TENANT]            phctl dkim list [DOMAIN]
 *   phctl domain del ID                   phctl dkim show ID | check ID | del ID
 *
 * "domain list", "domain del" and "dkim del" are the generic commands of
 * phctl_cmd.c (an email domain's DKIM keys go with it).
 *
 * DOMAIN is an email domain id or name. "dkim add" without --key-file has
 * ph-control generate an RSA-2048 key; a PEM file (RSA or Ed25519) is
 * imported. "dkim show" prints the CNAME the customer publishes and the TXT
 * record served at its target; "dkim check" runs the DNS check at once.
 * Private keys are never printed (ph-control does not send them).
 *
 * DIAGNOSTICS: usage errors exit 2, refusals and unreadable files exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "control_obj.h"
#include "phctl.h"

/* phctl_domain_add - "domain add TENANT NAME" */
int phctl_domain_add(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a)
{
	char tenant[PHCTL_ID_MAX];
	Ph__EmailDomain d = PH__EMAIL_DOMAIN__INIT;

	if (phctl_find_named(ph, "tenant", "", a->pos[0], tenant) == -1)
		return PHCTL_EXIT_ERR;
	d.tenant_id = tenant;
	d.name = a->pos[1];
	return phctl_put_new(ph, PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN, &d);
}

/* phctl_dkim_add - "dkim add DOMAIN SELECTOR [--key-file PEM]" */
int phctl_dkim_add(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a)
{
	static char pem[PHCTL_PEM_MAX];
	const char *file = NULL;
	char domain[PHCTL_ID_MAX];
	Ph__DkimKey k = PH__DKIM_KEY__INIT;
	int rc;

	for (int i = 0; i < a->nopt; i++)
		file = a->opt_val[i];
	if (file != NULL && phctl_read_file(file, pem, sizeof(pem)) == -1)
		return PHCTL_EXIT_ERR;
	if (phctl_find_named(ph, "emaildomain", "", a->pos[0], domain) == -1)
		return PHCTL_EXIT_ERR;
	k.email_domain_id = domain;
	k.selector = a->pos[1];
	if (file != NULL)
		k.private_key_pem = pem;
	rc = phctl_put_new(ph, PH__POLICY_OBJECT__OBJ_DKIM_KEY, &k);
	memset(pem, 0, sizeof(pem));
	return rc;
}

/* phctl_dkim_list - "dkim list [DOMAIN]" (id or name) */
int phctl_dkim_list(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a)
{
	Ph__Envelope *rep;
	Ph__PolicyReply *r;
	Ph__PolicyObject **kept;
	const char *want = a->npos > 0 ? a->pos[0] : NULL;
	size_t n = 0;

	if (phctl_list_objects(ph, "dkim", "", &rep) == -1)
		return PHCTL_EXIT_ERR;
	r = rep->policy_reply;
	kept = calloc(r->n_objects + 1, sizeof(*kept));
	for (size_t i = 0; kept != NULL && i < r->n_objects; i++) {
		const Ph__DkimKey *k = r->objects[i]->dkim_key;
		if (want == NULL || strcmp(k->email_domain_id, want) == 0 ||
		    strcmp(k->domain, want) == 0)
			kept[n++] = r->objects[i];
	}
	if (kept != NULL)
		phctl_print_objects(ph, kept, n, true);
	free(kept);
	msg_free(rep);
	return kept != NULL ? PHCTL_EXIT_OK : phctl_err("out of memory");
}

/* key_print - the key, its state and the DNS records to publish */
static void key_print(struct phctl *ph, const Ph__DkimKey *k)
{
	char when[32] = "never";
	time_t t = (time_t)(k->time_checked_ms / 1000);
	struct tm tm;
	json_t *o;

	if (ph->json) {
		o = phctl_json_msg(&k->base);
		json_object_del(o, "private_key_pem");
		phctl_json_dump(o);
		return;
	}
	if (k->time_checked_ms != 0 && gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("id        %s\ndomain    %s (%s)\nselector  %s\nstate     %s\n"
	    "checked   %s\ndetail    %s\n\n", k->id, k->domain, k->email_domain_id,
	    k->selector, k->lifecycle_state, when, k->check_detail);
	printf("publish in the domain's DNS:\n  %s.  CNAME  %s.\n\n",
	    k->cname_record_name, k->cname_record_value);
	printf("served at the CNAME target:\n  %s.  TXT  \"%s\"\n",
	    k->cname_record_value, k->txt_record_value);
}

/* key_reply - print the key ID of an ok reply */
static int key_reply(struct phctl *ph, Ph__Envelope *rep, const char *id)
{
	Ph__PolicyReply *r = rep->policy_reply;
	const Ph__DkimKey *hit = NULL;

	for (size_t i = 0; i < r->n_objects; i++)
		if (r->objects[i]->obj_case == PH__POLICY_OBJECT__OBJ_DKIM_KEY &&
		    strcmp(r->objects[i]->dkim_key->id, id) == 0)
			hit = r->objects[i]->dkim_key;
	if (hit != NULL)
		key_print(ph, hit);
	msg_free(rep);
	return hit != NULL ? PHCTL_EXIT_OK : phctl_err("no such dkim: %s", id);
}

/* phctl_dkim_show - "dkim show ID" */
int phctl_dkim_show(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a)
{
	Ph__Envelope *rep;

	if (phctl_list_objects(ph, "dkim", "", &rep) == -1)
		return PHCTL_EXIT_ERR;
	return key_reply(ph, rep, a->pos[0]);
}

/* phctl_dkim_check - "dkim check ID": DkimCheck, then the key as checked */
int phctl_dkim_check(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a)
{
	Ph__Envelope env, *rep;
	Ph__DkimCheck dc = PH__DKIM_CHECK__INIT;

	dc.id = a->pos[0];
	phctl_policy_req(&env, PH__ENVELOPE__BODY_DKIM_CHECK, &dc);
	if (phctl_policy(ph, &env, &rep) == -1)
		return PHCTL_EXIT_ERR;
	return key_reply(ph, rep, a->pos[0]);
}
