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
	static char pem[PHCTL_PEM_MAX];
	char fp[48];
	Ph__ApiKey k = PH__API_KEY__INIT;
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;
	Ph__Envelope *rep;
	Ph__PolicyReply *r;

	if (phctl_read_file(a->pos[1], pem, sizeof(pem)) == -1)
		return PHCTL_EXIT_ERR;
	if (control_apikey_fingerprint(pem, fp) == -1)
		return phctl_err("%s: not an RSA public key in PEM", a->pos[1]);
	k.user_id = a->pos[0];
	k.public_key_pem = pem;
	k.fingerprint = fp;
	o.obj_case = PH__POLICY_OBJECT__OBJ_API_KEY;
	o.api_key = &k;
	if (phctl_put(ph, &o, &rep) == -1)
		return PHCTL_EXIT_ERR;
	r = rep->policy_reply;
	if (r->n_objects == 1 && r->objects[0]->obj_case == PH__POLICY_OBJECT__OBJ_API_KEY)
		apikey_print(ph, r->objects[0]->api_key);
	msg_free(rep);
	return PHCTL_EXIT_OK;
}
