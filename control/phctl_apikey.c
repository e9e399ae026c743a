/*
 * phctl_apikey - "phctl apikey add USER_ID PEM_FILE": upload the API signing
 * public key of a user for the HTTPS API (OCI request signing). The request's
 * keyId is then "<tenant ocid>/<user ocid>/<fingerprint>", the fingerprint
 * being OCI's (colon-separated MD5 of the DER public key), printed here and
 * computed again by ph-control. "apikey list" and "apikey del" are the generic
 * commands of phctl_cmd.c.
 *
 * DIAGNOSTICS: an unreadable file or a key that is not an RSA public key
 * exits 1 with a message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "control.h"
#include "control_obj.h"
#include "phctl.h"

#define PEM_FILE_MAX 16384

/* pem_read - the whole of PATH (at most PEM_FILE_MAX bytes) into BUF */
static int pem_read(const char *path, char *buf, size_t len)
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

/* apikey_print - the stored key: id, user, keyId fingerprint */
static void apikey_print(struct phctl *ph, const Ph__ApiKey *k)
{
	json_t *o;

	if (!ph->json) {
		printf("apikey %s user %s fingerprint %s\nkeyId %s/%s/%s\n", k->id, k->user_id,
		    k->fingerprint, k->tenant_id, k->user_id, k->fingerprint);
		return;
	}
	o = phctl_json_msg(&k->base);
	if (o == NULL)
		return;
	json_object_del(o, "public_key_pem");
	json_object_set_new(o, "key_id", json_sprintf("%s/%s/%s", k->tenant_id,
	    k->user_id, k->fingerprint));
	phctl_json_dump(o);
}

/* phctl_apikey_add - "apikey add USER_ID PEM_FILE" */
int phctl_apikey_add(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a)
{
	static char pem[PEM_FILE_MAX];
	char fp[48];
	Ph__ApiKey k = PH__API_KEY__INIT;
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;
	Ph__PolicyPut put = PH__POLICY_PUT__INIT;
	Ph__Envelope env, *rep;
	Ph__PolicyReply *r;

	if (pem_read(a->pos[1], pem, sizeof(pem)) == -1)
		return PHCTL_EXIT_ERR;
	if (control_apikey_fingerprint(pem, fp) == -1)
		return phctl_err("%s: not an RSA public key in PEM", a->pos[1]);
	k.user_id = a->pos[0];
	k.public_key_pem = pem;
	k.fingerprint = fp;
	o.obj_case = PH__POLICY_OBJECT__OBJ_API_KEY;
	o.api_key = &k;
	put.object = &o;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_POLICY_PUT;
	env.policy_put = &put;
	if (phctl_policy(ph, &env, &rep) == -1)
		return PHCTL_EXIT_ERR;
	r = rep->policy_reply;
	if (r->n_objects == 1 && r->objects[0]->obj_case == PH__POLICY_OBJECT__OBJ_API_KEY)
		apikey_print(ph, r->objects[0]->api_key);
	msg_free(rep);
	return PHCTL_EXIT_OK;
}
