/*
 * control_check - normalization and validation of an object before it is
 * stored: required fields, references (the tenant exists, a compartment
 * belongs to the tenant, ...), address syntax (lowercased), uniqueness
 * (ERR_EXISTS), and a fresh OCID for an object without an id.
 *
 * DIAGNOSTICS: nothing is logged; refusals go back to the caller in a
 * control_err. Messages never quote addresses or user names (they may be
 * logged by a caller).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "control.h"
#include "control_dkim.h"
#include "control_obj.h"
#include "control_store.h"

#define ID_MAX 200
#define NAME_MAX_LEN 255

/* control_err_set - fill E and return -1 */
int control_err_set(struct control_err *e, Ph__ErrorCode code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* text_ok - non-empty, bounded, no control characters (they separate index keys) */
static int text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* tenant_exists - ID names a stored tenant */
static int tenant_exists(struct control_store *s, const char *id)
{
	return control_store_get(s, PH__POLICY_OBJECT__OBJ_TENANT, id) != NULL;
}

/* compartment_of - the compartment ID when it belongs to TENANT_ID, else NULL */
static const Ph__Compartment *compartment_of(struct control_store *s,
    const char *id, const char *tenant_id)
{
	const Ph__PolicyObject *o =
	    control_store_get(s, PH__POLICY_OBJECT__OBJ_COMPARTMENT, id);

	if (o == NULL || strcmp(o->compartment->tenant_id, tenant_id) != 0)
		return NULL;
	return o->compartment;
}

struct default_ctx {
	const char *tenant_id;
	const Ph__Compartment *named;
};

/* default_visit - remember the tenant's compartment named "default" */
static void default_visit(void *arg, const Ph__PolicyObject *o)
{
	struct default_ctx *d = arg;
	const Ph__Compartment *c = o->compartment;

	if (strcmp(c->tenant_id, d->tenant_id) == 0 && strcmp(c->name, "default") == 0)
		d->named = c;
}

/* control_default_compartment - the tenant's compartment named "default"
 * (data dirs from before root compartments keep their bootstrap one: their
 * senders and users are there), else its root compartment */
const Ph__Compartment *control_default_compartment(struct control_store *s,
    const char *tenant_id)
{
	struct default_ctx d = { tenant_id, NULL };

	control_store_each(s, PH__POLICY_OBJECT__OBJ_COMPARTMENT, default_visit, &d);
	return d.named != NULL ? d.named : compartment_of(s, tenant_id, tenant_id);
}

/* control_check_compartment - the given compartment of the tenant, or its
 * default one */
int control_check_compartment(struct control_store *s, const char *tenant_id,
    char **compartment_id, struct control_err *e)
{
	const Ph__Compartment *c;

	if ((*compartment_id)[0] == '\0') {
		c = control_default_compartment(s, tenant_id);
		if (c == NULL)
			return control_err_set(e, PH__ERROR_CODE__ERR_NOT_FOUND,
			    "the tenant has no compartment");
		if (control_str_set(compartment_id, c->id) == -1)
			return control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
	}
	if (compartment_of(s, *compartment_id, tenant_id) == NULL)
		return control_err_set(e, PH__ERROR_CODE__ERR_NOT_FOUND,
		    "no such compartment in this tenant");
	return 0;
}

/* address_norm - lowercase ADDR in place; an address or "@domain". 0 or -1 */
static int address_norm(char *addr, int allow_domain)
{
	char probe[ADDR_MAX + 2];

	if (!text_ok(addr, ADDR_MAX))
		return -1;
	addr_lower(addr);
	if (addr[0] != '@')
		return addr_valid(addr) ? 0 : -1;
	if (!allow_domain)
		return -1;
	snprintf(probe, sizeof(probe), "x%s", addr);
	return addr_valid(probe) ? 0 : -1;
}

/* check_tenant - a name */
static int check_tenant(struct control_store *s, Ph__Tenant *t, struct control_err *e)
{
	if (!text_ok(t->name, NAME_MAX_LEN))
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST, "tenant needs a name");
	return 0;
}

/* check_compartment - a name in an existing tenant; a root compartment
 * (id = a tenancy OCID) is made only with its tenant (control_ops.c) */
static int check_compartment(struct control_store *s, Ph__Compartment *c,
    struct control_err *e)
{
	if (!tenant_exists(s, c->tenant_id))
		return control_err_set(e, PH__ERROR_CODE__ERR_NOT_FOUND, "no such tenant");
	if (!text_ok(c->name, NAME_MAX_LEN))
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "compartment needs a name");
	if (tenant_exists(s, c->id))
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "a root compartment is made with its tenant");
	return 0;
}

/* user_default_compartment - a user given no compartment gets the tenant's
 * default one, the root compartment in a tenant of today: as a user of an
 * OCI tenancy with the default policy (a user without compartments could
 * send from nowhere) */
static int user_default_compartment(struct control_store *s, Ph__User *u)
{
	const Ph__Compartment *c = control_default_compartment(s, u->tenant_id);

	if (c == NULL)
		return 0;
	u->compartment_ids = calloc(1, sizeof(char *));
	if (u->compartment_ids == NULL)
		return -1;
	u->compartment_ids[0] = strdup(c->id);
	if (u->compartment_ids[0] == NULL)
		return -1;
	u->n_compartment_ids = 1;
	return 0;
}

/* check_user - a name; every compartment in the user's tenant */
static int check_user(struct control_store *s, Ph__User *u, struct control_err *e)
{
	if (!tenant_exists(s, u->tenant_id))
		return control_err_set(e, PH__ERROR_CODE__ERR_NOT_FOUND, "no such tenant");
	if (!text_ok(u->name, NAME_MAX_LEN))
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST, "user needs a name");
	if (u->n_compartment_ids == 0 && user_default_compartment(s, u) == -1)
		return control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < u->n_compartment_ids; i++)
		if (compartment_of(s, u->compartment_ids[i], u->tenant_id) == NULL)
			return control_err_set(e, PH__ERROR_CODE__ERR_NOT_FOUND,
			    "compartment %s is not in the user's tenant", u->compartment_ids[i]);
	return 0;
}

/* control_check_user_tenant - the user's tenant, filled in when empty */
int control_check_user_tenant(struct control_store *s, const char *user_id,
    char **tenant_id, const char *what, struct control_err *e)
{
	const Ph__PolicyObject *u = control_store_get(s, PH__POLICY_OBJECT__OBJ_USER, user_id);

	if (u == NULL)
		return control_err_set(e, PH__ERROR_CODE__ERR_NOT_FOUND, "no such user");
	if ((*tenant_id)[0] == '\0' && control_str_set(tenant_id, u->user->tenant_id) == -1)
		return control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
	if (strcmp(*tenant_id, u->user->tenant_id) != 0)
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "%s tenant differs from the user's", what);
	return 0;
}

/* check_credential - an existing user, its tenant, a username and a hash */
static int check_credential(struct control_store *s, Ph__Credential *k,
    struct control_err *e)
{
	if (control_check_user_tenant(s, k->user_id, &k->tenant_id, "credential", e) == -1)
		return -1;
	if (!text_ok(k->username, ADDR_MAX) || k->salt.len == 0 ||
	    k->scrypt_hash.len != CRYPTO_SCRYPT_LEN)
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "credential needs a username, a salt and a 32-byte scrypt hash");
	return 0;
}

/* check_sender - an address or @domain in a compartment of the tenant
 * (the tenant's default compartment when none is given) */
static int check_sender(struct control_store *s, Ph__Sender *a, struct control_err *e)
{
	if (!tenant_exists(s, a->tenant_id))
		return control_err_set(e, PH__ERROR_CODE__ERR_NOT_FOUND, "no such tenant");
	if (control_check_compartment(s, a->tenant_id, &a->compartment_id, e) == -1)
		return -1;
	if (address_norm(a->address, 1) == -1)
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "invalid sender address");
	if (a->time_created_ms == 0)
		a->time_created_ms = clock_now_ms();
	return 0;
}

/* check_suppression - an address of the tenant; reason and time defaulted */
static int check_suppression(struct control_store *s, Ph__Suppression *x,
    struct control_err *e)
{
	if (!tenant_exists(s, x->tenant_id))
		return control_err_set(e, PH__ERROR_CODE__ERR_NOT_FOUND, "no such tenant");
	if (address_norm(x->address, 0) == -1)
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "invalid suppression address");
	if (x->reason[0] == '\0' && control_str_set(&x->reason, "MANUAL") == -1)
		return control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
	if (x->time_created_ms == 0)
		x->time_created_ms = clock_now_ms();
	return 0;
}

/* check_route - a domain (or "*.parent", or "*"), a host and a port */
static int check_route(struct control_store *s, Ph__Route *r, struct control_err *e)
{
	if (!text_ok(r->domain, 255) || !text_ok(r->host, 255))
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "route needs a domain and a host");
	addr_lower(r->domain);
	if (r->port == 0)
		r->port = 25;
	if (r->port > 65535)
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST, "route port out of range");
	return 0;
}

/* check_kind - the per-kind checks */
static int check_kind(struct control_store *s, Ph__PolicyObject *obj,
    struct control_err *e)
{
	switch (obj->obj_case) {
	case PH__POLICY_OBJECT__OBJ_TENANT: return check_tenant(s, obj->tenant, e);
	case PH__POLICY_OBJECT__OBJ_COMPARTMENT: return check_compartment(s, obj->compartment, e);
	case PH__POLICY_OBJECT__OBJ_USER: return check_user(s, obj->user, e);
	case PH__POLICY_OBJECT__OBJ_CREDENTIAL: return check_credential(s, obj->credential, e);
	case PH__POLICY_OBJECT__OBJ_SENDER: return check_sender(s, obj->sender, e);
	case PH__POLICY_OBJECT__OBJ_SUPPRESSION: return check_suppression(s, obj->suppression, e);
	case PH__POLICY_OBJECT__OBJ_ROUTE: return check_route(s, obj->route, e);
	case PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN:
		return control_dkim_check_domain(s, obj->email_domain, e);
	case PH__POLICY_OBJECT__OBJ_DKIM_KEY: return control_dkim_check_key(s, obj->dkim_key, e);
	case PH__POLICY_OBJECT__OBJ_API_KEY: return control_check_api_key(s, obj->api_key, e);
	default:
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST, "object has no kind");
	}
}

/* check_id - assign a new OCID, or accept a given one; a replaced object
 * keeps its tenant (references to it would break otherwise) */
static int check_id(struct control_store *s, Ph__PolicyObject *obj,
    struct control_err *e)
{
	const char *id = control_obj_id(obj);
	const Ph__PolicyObject *old;
	char ocid[96];

	if (id[0] == '\0') {
		id_ocid(ocid, sizeof(ocid), control_kind_ocid(obj->obj_case));
		if (control_obj_set_id(obj, ocid) == -1)
			return control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
		return 0;
	}
	if (!text_ok(id, ID_MAX) || strchr(id, '/') != NULL)
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST, "invalid id");
	old = control_store_get(s, obj->obj_case, id);
	if (old != NULL && obj->obj_case != PH__POLICY_OBJECT__OBJ_TENANT &&
	    strcmp(control_obj_tenant(old), control_obj_tenant(obj)) != 0)
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "the tenant of an object cannot change");
	return 0;
}

/* check_unique - no other object holds the same uniqueness key */
static int check_unique(struct control_store *s, const Ph__PolicyObject *obj,
    struct control_err *e)
{
	char u[CONTROL_UNIQ_MAX];
	const char *owner;

	control_obj_uniq(obj, u);
	owner = u[0] != '\0' ? control_store_uniq_owner(s, u) : NULL;
	if (owner != NULL && strcmp(owner, control_obj_id(obj)) != 0)
		return control_err_set(e, PH__ERROR_CODE__ERR_EXISTS, "%s already exists: %s",
		    control_kind_name(obj->obj_case), owner);
	return 0;
}

/* control_check_put - kind checks, id, then uniqueness */
int control_check_put(struct control_store *s, Ph__PolicyObject *obj,
    struct control_err *e)
{
	if (check_kind(s, obj, e) == -1 || check_id(s, obj, e) == -1)
		return -1;
	return check_unique(s, obj, e);
}
