/*
 * control_ops - the changes ph-control makes: put (create or replace),
 * delete (a tenant takes everything of its own with it, a user its
 * credentials, an email domain its DKIM keys; a compartment still in use is
 * refused, a root compartment goes only with its tenant), credential
 * creation (generated username and password, only salt + scrypt hash
 * stored), the first-start bootstrap and the root compartments of tenants
 * stored before there were any. Each is one synced batch in the store.
 *
 * Root compartments: as in OCI, a tenancy is its own root compartment. A new
 * tenant is written together with a compartment whose id is the tenancy OCID
 * (named after the tenant), so senders, users and requests can use the
 * tenancy OCID as a compartment at once.
 *
 * DIAGNOSTICS: refusals and storage failures return -1 with a control_err;
 * nothing is logged here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "control_dkim.h"
#include "control_obj.h"
#include "control_store.h"
#include "crypto.h"

#define BOOT_TENANT_ID "ocid1.tenancy.oc1..default"
#define BOOT_USER_ID "ocid1.user.oc1..default"
#define SALT_LEN 16
#define CREDENTIALS_PER_USER 2	/* as the service: a user holds at most 2 */

/* commit - write B, mapping a storage failure into E */
static int commit(struct control_batch *b, struct control_err *e)
{
	char *err = NULL;

	if (control_batch_commit(b, &err) == 0)
		return 0;
	control_err_set(e, PH__ERROR_CODE__ERR_STORAGE, "%s", err ? err : "write failed");
	free(err);
	return -1;
}

/* root_compartment_new - the root compartment of tenant T, named after it,
 * or "<name> (root)" when a compartment of the tenant has that name already
 * (a data dir from before: the bootstrap's "default"), or as its id */
static Ph__PolicyObject *root_compartment_new(struct control_store *s, const Ph__Tenant *t)
{
	Ph__Compartment c = PH__COMPARTMENT__INIT;
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;
	char alt[300], uniq[CONTROL_UNIQ_MAX];
	const char *names[] = { t->name, alt, t->id };

	snprintf(alt, sizeof(alt), "%s (root)", t->name);
	c.id = t->id;
	c.tenant_id = t->id;
	o.obj_case = PH__POLICY_OBJECT__OBJ_COMPARTMENT;
	o.compartment = &c;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		c.name = (char *)names[i];
		control_obj_uniq(&o, uniq);
		if (control_store_uniq_owner(s, uniq) == NULL)
			break;
	}
	return control_obj_copy(&o);
}

/* root_add - queue T's root compartment in B unless it exists: 1 queued,
 * 0 exists, -1 out of memory */
static int root_add(struct control_store *s, struct control_batch *b, const Ph__Tenant *t)
{
	Ph__PolicyObject *root;

	if (control_store_get(s, PH__POLICY_OBJECT__OBJ_COMPARTMENT, t->id) != NULL)
		return 0;
	if ((root = root_compartment_new(s, t)) == NULL)
		return -1;
	control_batch_put(b, root);
	return 1;
}

/* put_owned - check OBJ (owned), write it (a tenant with its root
 * compartment); *STORED points into the store */
static int put_owned(struct control_store *s, Ph__PolicyObject *obj,
    const Ph__PolicyObject **stored, struct control_err *e)
{
	struct control_batch *b;
	Ph__PolicyObject__ObjCase kind = obj->obj_case;
	char id[256];

	if (control_check_put(s, obj, e) == -1) {
		control_obj_free(obj);
		return -1;
	}
	snprintf(id, sizeof(id), "%s", control_obj_id(obj));
	b = control_batch_new(s);
	if (b == NULL || (kind == PH__POLICY_OBJECT__OBJ_TENANT &&
	    root_add(s, b, obj->tenant) == -1)) {
		control_batch_free(b);
		control_obj_free(obj);
		return control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
	}
	control_batch_put(b, obj);
	if (commit(b, e) == -1)
		return -1;
	if (stored != NULL)
		*stored = control_store_get(s, kind, id);
	return 0;
}

/* control_op_put - create or replace a copy of IN */
int control_op_put(struct control_store *s, const Ph__PolicyObject *in,
    const Ph__PolicyObject **stored, struct control_err *e)
{
	Ph__PolicyObject *obj = control_obj_copy(in);

	if (obj == NULL)
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST, "bad object");
	return put_owned(s, obj, stored, e);
}

struct cascade {
	struct control_batch *b;
	Ph__PolicyObject__ObjCase kind;	/* of the deleted object */
	const char *id;
	int in_use;			/* compartment: references found */
};

/* cascade_visit - queue objects that go with the deleted one */
static void cascade_visit(void *arg, const Ph__PolicyObject *o)
{
	struct cascade *c = arg;

	switch (c->kind) {
	case PH__POLICY_OBJECT__OBJ_TENANT:
		if (o->obj_case != PH__POLICY_OBJECT__OBJ_TENANT &&
		    strcmp(control_obj_tenant(o), c->id) == 0)
			control_batch_del(c->b, o->obj_case, control_obj_id(o));
		break;
	case PH__POLICY_OBJECT__OBJ_USER:
		if (o->obj_case == PH__POLICY_OBJECT__OBJ_CREDENTIAL &&
		    strcmp(o->credential->user_id, c->id) == 0)
			control_batch_del(c->b, o->obj_case, control_obj_id(o));
		break;
	case PH__POLICY_OBJECT__OBJ_COMPARTMENT:
		if (o->obj_case == PH__POLICY_OBJECT__OBJ_SENDER &&
		    strcmp(o->sender->compartment_id, c->id) == 0)
			c->in_use = 1;
		for (size_t i = 0; o->obj_case == PH__POLICY_OBJECT__OBJ_USER &&
		    i < o->user->n_compartment_ids; i++)
			if (strcmp(o->user->compartment_ids[i], c->id) == 0)
				c->in_use = 1;
		break;
	default:
		break;
	}
}

/* control_op_delete - delete KIND/ID and what goes with it */
int control_op_delete(struct control_store *s, const char *kind_name, const char *id,
    struct control_err *e)
{
	Ph__PolicyObject__ObjCase kind = control_kind_parse(kind_name);
	struct cascade c = { NULL, kind, id, 0 };

	if (kind == PH__POLICY_OBJECT__OBJ__NOT_SET)
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST, "unknown kind");
	if (control_store_get(s, kind, id) == NULL)
		return control_err_set(e, PH__ERROR_CODE__ERR_NOT_FOUND, "no such %s",
		    control_kind_name(kind));
	if (kind == PH__POLICY_OBJECT__OBJ_COMPARTMENT &&
	    control_store_get(s, PH__POLICY_OBJECT__OBJ_TENANT, id) != NULL)
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "a root compartment goes only with its tenant");
	c.b = control_batch_new(s);
	if (c.b == NULL)
		return control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
	control_store_each(s, PH__POLICY_OBJECT__OBJ__NOT_SET, cascade_visit, &c);
	if (control_dkim_on_delete(s, c.b, kind, id) == -1) {
		control_batch_free(c.b);
		return control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
	}
	if (c.in_use) {
		control_batch_free(c.b);
		return control_err_set(e, PH__ERROR_CODE__ERR_EXISTS,
		    "compartment is used by senders or users");
	}
	control_batch_del(c.b, kind, id);
	return commit(c.b, e);
}

struct cred_count {
	const char *user_id;
	size_t n;
};

/* cred_count_visit - count the credentials of one user */
static void cred_count_visit(void *arg, const Ph__PolicyObject *o)
{
	struct cred_count *c = arg;

	if (strcmp(o->credential->user_id, c->user_id) == 0)
		c->n++;
}

/* credential_username - "<user ocid>@<tenancy ocid>", the second one of a
 * user with a ".2" suffix (usernames are unique) */
static void credential_username(struct control_store *s, const Ph__User *u,
    char *out, size_t len)
{
	char u1[CONTROL_UNIQ_MAX];

	snprintf(out, len, "%s@%s", u->id, u->tenant_id);
	snprintf(u1, sizeof(u1), "k\n%s", out);
	if (control_store_uniq_owner(s, u1) != NULL)
		snprintf(out, len, "%s@%s.2", u->id, u->tenant_id);
}

/* credential_new - a credential object for U with a fresh password */
static Ph__PolicyObject *credential_new(struct control_store *s, const Ph__User *u,
    char *password, size_t pwlen)
{
	uint8_t salt[SALT_LEN], hash[CRYPTO_SCRYPT_LEN];
	char username[512];
	Ph__Credential k = PH__CREDENTIAL__INIT;
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;

	crypto_token(password, pwlen);
	if (crypto_random(salt, sizeof(salt)) == -1 ||
	    crypto_scrypt(password, salt, sizeof(salt), hash) == -1)
		return NULL;
	credential_username(s, u, username, sizeof(username));
	k.user_id = u->id;
	k.tenant_id = u->tenant_id;
	k.username = username;
	k.salt.data = salt;
	k.salt.len = sizeof(salt);
	k.scrypt_hash.data = hash;
	k.scrypt_hash.len = sizeof(hash);
	o.obj_case = PH__POLICY_OBJECT__OBJ_CREDENTIAL;
	o.credential = &k;
	return control_obj_copy(&o);
}

/* control_op_credential - a new credential for USER_ID, password returned once */
int control_op_credential(struct control_store *s, const char *user_id,
    char *password, size_t pwlen, const Ph__PolicyObject **stored,
    struct control_err *e)
{
	const Ph__PolicyObject *u = control_store_get(s, PH__POLICY_OBJECT__OBJ_USER, user_id);
	struct cred_count cc = { user_id, 0 };
	Ph__PolicyObject *obj;

	if (u == NULL)
		return control_err_set(e, PH__ERROR_CODE__ERR_NOT_FOUND, "no such user");
	control_store_each(s, PH__POLICY_OBJECT__OBJ_CREDENTIAL, cred_count_visit, &cc);
	if (cc.n >= CREDENTIALS_PER_USER)
		return control_err_set(e, PH__ERROR_CODE__ERR_EXISTS,
		    "the user already has %d credentials", CREDENTIALS_PER_USER);
	obj = credential_new(s, u->user, password, pwlen);
	if (obj == NULL)
		return control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "cannot hash the password");
	return put_owned(s, obj, stored, e);
}

/* boot_put - put one bootstrap object (BODY of kind C) built on the stack */
static int boot_put(struct control_store *s, Ph__PolicyObject__ObjCase c, void *body,
    struct control_err *e)
{
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;

	o.obj_case = c;
	o.tenant = body;	/* every member of the oneof shares its storage */
	return control_op_put(s, &o, NULL, e);
}

/* control_bootstrap - tenant "default" (and its root compartment) and user
 * "default" (who gets the root compartment) on an empty store */
int control_bootstrap(struct control_store *s, struct control_err *e)
{
	Ph__Tenant t = PH__TENANT__INIT;
	Ph__User u = PH__USER__INIT;

	if (control_store_count(s, PH__POLICY_OBJECT__OBJ_TENANT) > 0)
		return 0;
	t.id = BOOT_TENANT_ID;
	t.name = "default";
	u.id = BOOT_USER_ID;
	u.tenant_id = BOOT_TENANT_ID;
	u.name = "default";
	if (boot_put(s, PH__POLICY_OBJECT__OBJ_TENANT, &t, e) == -1)
		return -1;
	return boot_put(s, PH__POLICY_OBJECT__OBJ_USER, &u, e);
}

struct roots {
	struct control_store *s;
	struct control_batch *b;
	size_t added;
	int failed;
};

/* roots_visit - queue the root compartment of a tenant that has none */
static void roots_visit(void *arg, const Ph__PolicyObject *o)
{
	struct roots *r = arg;
	int rc = root_add(r->s, r->b, o->tenant);

	if (rc == -1)
		r->failed = 1;
	else
		r->added += (size_t)rc;
}

/* control_roots_ensure - one batch with every missing root compartment */
int control_roots_ensure(struct control_store *s, size_t *added, struct control_err *e)
{
	struct roots r = { s, control_batch_new(s), 0, 0 };

	*added = 0;
	if (r.b == NULL)
		return control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
	control_store_each(s, PH__POLICY_OBJECT__OBJ_TENANT, roots_visit, &r);
	if (r.failed || r.added == 0) {
		control_batch_free(r.b);
		return r.failed ? control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL,
		    "out of memory") : 0;
	}
	*added = r.added;
	return commit(r.b, e);
}
