/*
 * phctl_dkim - email domains and DKIM keys:
 *
 *   phctl domain add TENANT NAME          phctl dkim add DOMAIN SELECTOR [--key-file PEM]
 *   phctl domain list [TENANT]            phctl dkim list [DOMAIN]
 *   phctl domain del ID                   phctl dkim show ID | check ID | del ID
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

#define ID_BUF 256
#define PEM_FILE_MAX 16384

/* print_reply - the objects of REP (freed) */
static int print_reply(struct phctl *ph, Ph__Envelope *rep, bool array)
{
	phctl_print_objects(ph, rep->policy_reply->objects, rep->policy_reply->n_objects,
	    array);
	msg_free(rep);
	return PHCTL_EXIT_OK;
}

/* phctl_domain_add - "domain add TENANT NAME" */
int phctl_domain_add(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a)
{
	char tenant[ID_BUF];
	Ph__EmailDomain d = PH__EMAIL_DOMAIN__INIT;
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;

	if (phctl_find_named(ph, "tenant", "", a->pos[0], tenant) == -1)
		return PHCTL_EXIT_ERR;
	d.tenant_id = tenant;
	d.name = a->pos[1];
	o.obj_case = PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN;
	o.email_domain = &d;
	return phctl_put_object(ph, &o);
}

/* phctl_domain_list - "domain list [TENANT]" */
int phctl_domain_list(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a)
{
	char tenant[ID_BUF] = "";
	Ph__Envelope *rep;

	if (a->npos > 0 && phctl_find_named(ph, "tenant", "", a->pos[0], tenant) == -1)
		return PHCTL_EXIT_ERR;
	if (phctl_list_objects(ph, "emaildomain", tenant, &rep) == -1)
		return PHCTL_EXIT_ERR;
	return print_reply(ph, rep, true);
}

/* phctl_domain_del - "domain del ID" (its DKIM keys go with it) */
int phctl_domain_del(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a)
{
	Ph__Envelope env, *rep;
	Ph__PolicyDelete del = PH__POLICY_DELETE__INIT;

	del.kind = "emaildomain";
	del.id = a->pos[0];
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_POLICY_DELETE;
	env.policy_delete = &del;
	if (phctl_policy(ph, &env, &rep) == -1)
		return PHCTL_EXIT_ERR;
	msg_free(rep);
	if (ph->json) {
		json_t *o = json_object();
		json_object_set_new(o, "deleted", json_string(a->pos[0]));
		phctl_json_dump(o);
	} else {
		printf("deleted %s\n", a->pos[0]);
	}
	return PHCTL_EXIT_OK;
}

/* key_file_read - the whole of PATH into BUF (NUL-terminated) */
static int key_file_read(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return phctl_err("cannot read %s", path), -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

/* phctl_dkim_add - "dkim add DOMAIN SELECTOR [--key-file PEM]" */
int phctl_dkim_add(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a)
{
	static char pem[PEM_FILE_MAX];
	const char *file = NULL;
	char domain[ID_BUF];
	Ph__DkimKey k = PH__DKIM_KEY__INIT;
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;
	int rc;

	for (int i = 0; i < a->nopt; i++)
		file = a->opt_val[i];
	if (file != NULL && key_file_read(file, pem, sizeof(pem)) == -1)
		return PHCTL_EXIT_ERR;
	if (phctl_find_named(ph, "emaildomain", "", a->pos[0], domain) == -1)
		return PHCTL_EXIT_ERR;
	k.email_domain_id = domain;
	k.selector = a->pos[1];
	if (file != NULL)
		k.private_key_pem = pem;
	o.obj_case = PH__POLICY_OBJECT__OBJ_DKIM_KEY;
	o.dkim_key = &k;
	rc = phctl_put_object(ph, &o);
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
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_DKIM_CHECK;
	env.dkim_check = &dc;
	if (phctl_policy(ph, &env, &rep) == -1)
		return PHCTL_EXIT_ERR;
	return key_reply(ph, rep, a->pos[0]);
}
