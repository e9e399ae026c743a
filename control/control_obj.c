/*
 * control_obj - generic helpers over ph.PolicyObject.
 *
 * Objects owned by ph-control are always deep copies made by
 * control_obj_copy (unpacked with the default allocator), so their string
 * fields may be replaced with control_str_set and the whole object freed with
 * control_obj_free.
 *
 * DIAGNOSTICS: none; failures are returned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_obj.h"

struct kind_row {
	Ph__PolicyObject__ObjCase c;
	const char *name;
	const char *ocid;
};

static const struct kind_row kinds[] = {
	{ PH__POLICY_OBJECT__OBJ_TENANT, "tenant", "tenancy" },
	{ PH__POLICY_OBJECT__OBJ_COMPARTMENT, "compartment", "compartment" },
	{ PH__POLICY_OBJECT__OBJ_USER, "user", "user" },
	{ PH__POLICY_OBJECT__OBJ_CREDENTIAL, "credential", "credential" },
	{ PH__POLICY_OBJECT__OBJ_SENDER, "sender", "emailsender" },
	{ PH__POLICY_OBJECT__OBJ_SUPPRESSION, "suppression", "suppression" },
	{ PH__POLICY_OBJECT__OBJ_ROUTE, "route", "route" },
	{ PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN, "emaildomain", "emaildomain" },
	{ PH__POLICY_OBJECT__OBJ_DKIM_KEY, "dkim", "emaildkim" },
	{ PH__POLICY_OBJECT__OBJ_API_KEY, "apikey", "apikey" },
};

/* kind_row_of - the table row for C, NULL if none */
static const struct kind_row *kind_row_of(Ph__PolicyObject__ObjCase c)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].c == c)
			return &kinds[i];
	return NULL;
}

/* control_kind_name - "tenant", "sender", ... */
const char *control_kind_name(Ph__PolicyObject__ObjCase c)
{
	const struct kind_row *k = kind_row_of(c);

	return k != NULL ? k->name : NULL;
}

/* control_kind_ocid - the OCID kind of new ids */
const char *control_kind_ocid(Ph__PolicyObject__ObjCase c)
{
	const struct kind_row *k = kind_row_of(c);

	return k != NULL ? k->ocid : NULL;
}

/* control_kind_parse - accepts the kind name or its OCID kind */
Ph__PolicyObject__ObjCase control_kind_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0 || strcmp(kinds[i].ocid, name) == 0)
			return kinds[i].c;
	return PH__POLICY_OBJECT__OBJ__NOT_SET;
}

/* control_obj_msg - the inner message as a generic ProtobufCMessage */
ProtobufCMessage *control_obj_msg(const Ph__PolicyObject *obj)
{
	switch (obj->obj_case) {
	case PH__POLICY_OBJECT__OBJ_TENANT: return &obj->tenant->base;
	case PH__POLICY_OBJECT__OBJ_COMPARTMENT: return &obj->compartment->base;
	case PH__POLICY_OBJECT__OBJ_USER: return &obj->user->base;
	case PH__POLICY_OBJECT__OBJ_CREDENTIAL: return &obj->credential->base;
	case PH__POLICY_OBJECT__OBJ_SENDER: return &obj->sender->base;
	case PH__POLICY_OBJECT__OBJ_SUPPRESSION: return &obj->suppression->base;
	case PH__POLICY_OBJECT__OBJ_ROUTE: return &obj->route->base;
	case PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN: return &obj->email_domain->base;
	case PH__POLICY_OBJECT__OBJ_DKIM_KEY: return &obj->dkim_key->base;
	case PH__POLICY_OBJECT__OBJ_API_KEY: return &obj->api_key->base;
	default: return NULL;
	}
}

/* id_field - the address of the id string of OBJ */
static char **id_field(const Ph__PolicyObject *obj)
{
	switch (obj->obj_case) {
	case PH__POLICY_OBJECT__OBJ_TENANT: return &obj->tenant->id;
	case PH__POLICY_OBJECT__OBJ_COMPARTMENT: return &obj->compartment->id;
	case PH__POLICY_OBJECT__OBJ_USER: return &obj->user->id;
	case PH__POLICY_OBJECT__OBJ_CREDENTIAL: return &obj->credential->id;
	case PH__POLICY_OBJECT__OBJ_SENDER: return &obj->sender->id;
	case PH__POLICY_OBJECT__OBJ_SUPPRESSION: return &obj->suppression->id;
	case PH__POLICY_OBJECT__OBJ_ROUTE: return &obj->route->id;
	case PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN: return &obj->email_domain->id;
	case PH__POLICY_OBJECT__OBJ_DKIM_KEY: return &obj->dkim_key->id;
	case PH__POLICY_OBJECT__OBJ_API_KEY: return &obj->api_key->id;
	default: return NULL;
	}
}

/* control_obj_id - the id, "" when unset */
const char *control_obj_id(const Ph__PolicyObject *obj)
{
	char **f = id_field(obj);

	return f != NULL && *f != NULL ? *f : "";
}

/* control_obj_tenant - the tenant an object belongs to (a tenant: itself) */
const char *control_obj_tenant(const Ph__PolicyObject *obj)
{
	switch (obj->obj_case) {
	case PH__POLICY_OBJECT__OBJ_TENANT: return obj->tenant->id;
	case PH__POLICY_OBJECT__OBJ_COMPARTMENT: return obj->compartment->tenant_id;
	case PH__POLICY_OBJECT__OBJ_USER: return obj->user->tenant_id;
	case PH__POLICY_OBJECT__OBJ_CREDENTIAL: return obj->credential->tenant_id;
	case PH__POLICY_OBJECT__OBJ_SENDER: return obj->sender->tenant_id;
	case PH__POLICY_OBJECT__OBJ_SUPPRESSION: return obj->suppression->tenant_id;
	case PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN: return obj->email_domain->tenant_id;
	case PH__POLICY_OBJECT__OBJ_DKIM_KEY: return obj->dkim_key->tenant_id;
	case PH__POLICY_OBJECT__OBJ_API_KEY: return obj->api_key->tenant_id;
	default: return "";
	}
}

/* control_str_set - free the old string unless it is protobuf-c's default */
int control_str_set(char **field, const char *val)
{
	char *copy = strdup(val);

	if (copy == NULL)
		return -1;
	if (*field != NULL && *field != protobuf_c_empty_string)
		free(*field);
	*field = copy;
	return 0;
}

/* control_obj_set_id - replace the id with a copy */
int control_obj_set_id(Ph__PolicyObject *obj, const char *id)
{
	char **f = id_field(obj);

	return f != NULL ? control_str_set(f, id) : -1;
}

/* control_obj_copy - a deep copy owned by the default allocator */
Ph__PolicyObject *control_obj_copy(const Ph__PolicyObject *obj)
{
	size_t len = ph__policy_object__get_packed_size(obj);
	uint8_t *buf = malloc(len + 1);
	Ph__PolicyObject *copy;

	if (buf == NULL)
		return NULL;
	ph__policy_object__pack(obj, buf);
	copy = ph__policy_object__unpack(NULL, len, buf);
	free(buf);
	return copy;
}

/* control_obj_free - free a control_obj_copy */
void control_obj_free(Ph__PolicyObject *obj)
{
	if (obj != NULL)
		ph__policy_object__free_unpacked(obj, NULL);
}

/* control_obj_uniq - tenant names, compartment names per tenant, usernames,
 * sender addresses per compartment, suppressions per tenant, route
 * domains, email domains per tenant and DKIM selectors per email domain
 * are unique; users are not (names are labels only). */
void control_obj_uniq(const Ph__PolicyObject *obj, char out[CONTROL_UNIQ_MAX])
{
	out[0] = '\0';
	switch (obj->obj_case) {
	case PH__POLICY_OBJECT__OBJ_TENANT:
		snprintf(out, CONTROL_UNIQ_MAX, "t\n%s", obj->tenant->name);
		break;
	case PH__POLICY_OBJECT__OBJ_COMPARTMENT:
		snprintf(out, CONTROL_UNIQ_MAX, "c\n%s\n%s",
		    obj->compartment->tenant_id, obj->compartment->name);
		break;
	case PH__POLICY_OBJECT__OBJ_CREDENTIAL:
		snprintf(out, CONTROL_UNIQ_MAX, "k\n%s", obj->credential->username);
		break;
	case PH__POLICY_OBJECT__OBJ_SENDER:
		snprintf(out, CONTROL_UNIQ_MAX, "s\n%s\n%s",
		    obj->sender->compartment_id, obj->sender->address);
		break;
	case PH__POLICY_OBJECT__OBJ_SUPPRESSION:
		snprintf(out, CONTROL_UNIQ_MAX, "x\n%s\n%s",
		    obj->suppression->tenant_id, obj->suppression->address);
		break;
	case PH__POLICY_OBJECT__OBJ_ROUTE:
		snprintf(out, CONTROL_UNIQ_MAX, "r\n%s", obj->route->domain);
		break;
	case PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN:
		snprintf(out, CONTROL_UNIQ_MAX, "d\n%s\n%s",
		    obj->email_domain->tenant_id, obj->email_domain->name);
		break;
	case PH__POLICY_OBJECT__OBJ_DKIM_KEY:
		snprintf(out, CONTROL_UNIQ_MAX, "dk\n%s\n%s",
		    obj->dkim_key->email_domain_id, obj->dkim_key->selector);
		break;
	case PH__POLICY_OBJECT__OBJ_API_KEY:
		snprintf(out, CONTROL_UNIQ_MAX, "ak\n%s\n%s",
		    obj->api_key->user_id, obj->api_key->fingerprint);
		break;
	default:
		break;
	}
}
