/*
 * control_dkim - email domains and DKIM keys as policy objects: the checks
 * of a put (names, references, the per-domain key limit, key material and
 * DNS records for a new key, server-owned fields kept on a replace), what a
 * delete takes with it, and the private-key-less copies shown to phctl.
 *
 * DIAGNOSTICS: nothing is logged; refusals come back in a control_err.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "addr.h"
#include "clock.h"
#include "control_dkim.h"
#include "control_obj.h"
#include "control_store.h"

#define DNS_NAME_MAX 253
#define DNS_LABEL_MAX 63

static char dkim_zone[DNS_NAME_MAX + 1] = DKIM_DEFAULT_ZONE;

/* public mailbox providers: nobody may claim these as an email domain */
static const char *const public_domains[] = {
	"gmail.com", "googlemail.com", "hotmail.com", "outlook.com", "live.com",
	"yahoo.com", "aol.com", "icloud.com", "gmx.com", "mail.com", NULL,
};

/* control_dkim_set_zone - [dkim] publish_zone */
void control_dkim_set_zone(const char *zone)
{
	snprintf(dkim_zone, sizeof(dkim_zone), "%s", zone);
}

/* dns_name_ok - lowercase LDH labels (RFC 5321 4.1.2), MIN_LABELS or more */
static int dns_name_ok(const char *name, int min_labels)
{
	size_t n = strlen(name), label = 0;
	int labels = 1;

	if (n == 0 || n > DNS_NAME_MAX || name[0] == '.' || name[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (ch == '.') {
			if (label == 0 || name[i - 1] == '-' || name[i + 1] == '-')
				return 0;
			labels++;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    (ch == '-' && label > 0)) {
			if (++label > DNS_LABEL_MAX)
				return 0;
		} else {
			return 0;
		}
	}
	return name[n - 1] != '-' && labels >= min_labels;
}

/* public_domain - NAME is a public mailbox provider */
static int public_domain(const char *name)
{
	for (size_t i = 0; public_domains[i] != NULL; i++)
		if (strcmp(name, public_domains[i]) == 0)
			return 1;
	return 0;
}

/* key_of - the stored DKIM key ID, NULL if none */
static const Ph__DkimKey *key_of(struct control_store *s, const char *id)
{
	const Ph__PolicyObject *o = control_store_get(s, PH__POLICY_OBJECT__OBJ_DKIM_KEY, id);

	return o != NULL ? o->dkim_key : NULL;
}

/* domain_keep - a replaced domain keeps its name, time, state and, unless
 * the put names another ACTIVE key of it, its active key */
static int domain_keep(struct control_store *s, Ph__EmailDomain *d,
    const Ph__EmailDomain *old, struct control_err *e)
{
	const Ph__DkimKey *k;

	if (strcmp(d->name, old->name) != 0)
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "the name of an email domain cannot change");
	d->time_created_ms = old->time_created_ms;
	if (d->active_dkim_id[0] == '\0')
		return control_str_set(&d->active_dkim_id, old->active_dkim_id);
	k = key_of(s, d->active_dkim_id);
	if (k == NULL || strcmp(k->email_domain_id, d->id) != 0 ||
	    strcmp(k->lifecycle_state, DKIM_STATE_ACTIVE) != 0)
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "active_dkim_id must name an ACTIVE key of this domain");
	return 0;
}

/* control_dkim_check_domain - tenant, name, compartment, lifecycle */
int control_dkim_check_domain(struct control_store *s, Ph__EmailDomain *d,
    struct control_err *e)
{
	const Ph__PolicyObject *old;

	if (control_store_get(s, PH__POLICY_OBJECT__OBJ_TENANT, d->tenant_id) == NULL)
		return control_err_set(e, PH__ERROR_CODE__ERR_NOT_FOUND, "no such tenant");
	addr_lower(d->name);
	if (!dns_name_ok(d->name, 2))
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "invalid email domain name");
	if (public_domain(d->name))
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "a public mailbox domain cannot be an email domain");
	if (control_check_compartment(s, d->tenant_id, &d->compartment_id, e) == -1)
		return -1;
	if (control_str_set(&d->lifecycle_state, DKIM_STATE_ACTIVE) == -1)
		return control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
	old = d->id[0] != '\0' ?
	    control_store_get(s, PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN, d->id) : NULL;
	if (old != NULL)
		return domain_keep(s, d, old->email_domain, e);
	if (control_str_set(&d->active_dkim_id, "") == -1)
		return -1;
	d->time_created_ms = clock_now_ms();
	return 0;
}

/* key_keep - a replaced key keeps every field but its description */
static int key_keep(Ph__DkimKey *k, const Ph__DkimKey *old)
{
	char *desc = strdup(k->description);
	Ph__PolicyObject in = PH__POLICY_OBJECT__INIT, *copy;

	if (desc == NULL)
		return -1;
	in.obj_case = PH__POLICY_OBJECT__OBJ_DKIM_KEY;
	in.dkim_key = (Ph__DkimKey *)old;
	copy = control_obj_copy(&in);
	if (copy == NULL) {
		free(desc);
		return -1;
	}
	/* swap the contents: K takes OLD's fields, the copy takes K's and dies */
	Ph__DkimKey tmp = *k;
	*k = *copy->dkim_key;
	*copy->dkim_key = tmp;
	control_obj_free(copy);
	free(k->description);
	k->description = desc;
	return 0;
}

struct key_count {
	const char *domain_id;
	size_t n;
};

/* key_count_visit - count the keys of one domain */
static void key_count_visit(void *arg, const Ph__PolicyObject *o)
{
	struct key_count *c = arg;

	if (strcmp(o->dkim_key->email_domain_id, c->domain_id) == 0)
		c->n++;
}

/* key_records - the CNAME name and value and the TXT content of K */
static int key_records(Ph__DkimKey *k, const char *ktype)
{
	char buf[2 * DNS_NAME_MAX + 16];
	char *txt;
	int rc;

	snprintf(buf, sizeof(buf), "%s._domainkey.%s", k->selector, k->domain);
	if (control_str_set(&k->cname_record_name, buf) == -1)
		return -1;
	snprintf(buf, sizeof(buf), "%s.%s.%s", k->selector, k->domain, dkim_zone);
	if (control_str_set(&k->cname_record_value, buf) == -1)
		return -1;
	if (asprintf(&txt, "v=DKIM1; k=%s; p=%s", ktype, k->public_key_b64) == -1)
		return -1;
	rc = control_str_set(&k->txt_record_value, txt);
	free(txt);
	return rc;
}

/* key_create - key material, records and the first state of a new key */
static int key_create(Ph__DkimKey *k, struct control_err *e)
{
	char err[160], *pem, *pub;
	const char *ktype;
	int rc;

	if (dkim_key_material(k->private_key_pem, &pem, &pub, &ktype, err,
	    sizeof(err)) == -1)
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST, "%s", err);
	rc = control_str_set(&k->private_key_pem, pem);
	OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
	if (rc == 0)
		rc = control_str_set(&k->public_key_b64, pub);
	free(pub);
	if (rc == -1 || key_records(k, ktype) == -1 ||
	    control_str_set(&k->lifecycle_state, DKIM_STATE_CREATING) == -1 ||
	    control_str_set(&k->check_detail, "not checked yet") == -1)
		return control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
	k->time_created_ms = clock_now_ms();
	k->time_checked_ms = 0;
	return 0;
}

/* control_dkim_check_key - domain reference, selector, limit, material */
int control_dkim_check_key(struct control_store *s, Ph__DkimKey *k,
    struct control_err *e)
{
	const Ph__PolicyObject *d =
	    control_store_get(s, PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN, k->email_domain_id);
	const Ph__DkimKey *old = k->id[0] != '\0' ? key_of(s, k->id) : NULL;
	struct key_count kc = { k->email_domain_id, 0 };

	if (d == NULL)
		return control_err_set(e, PH__ERROR_CODE__ERR_NOT_FOUND, "no such email domain");
	if (k->tenant_id[0] == '\0' &&
	    control_str_set(&k->tenant_id, d->email_domain->tenant_id) == -1)
		return control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
	if (strcmp(k->tenant_id, d->email_domain->tenant_id) != 0)
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "DKIM key tenant differs from the email domain's");
	if (old != NULL)
		return key_keep(k, old) == 0 ? 0 :
		    control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
	addr_lower(k->selector);
	if (!dns_name_ok(k->selector, 1))
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "invalid selector (letters, digits, '-' and '.')");
	control_store_each(s, PH__POLICY_OBJECT__OBJ_DKIM_KEY, key_count_visit, &kc);
	if (kc.n >= DKIM_KEYS_PER_DOMAIN)
		return control_err_set(e, PH__ERROR_CODE__ERR_EXISTS,
		    "the email domain already has %d DKIM keys", DKIM_KEYS_PER_DOMAIN);
	if (control_str_set(&k->domain, d->email_domain->name) == -1)
		return control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
	return key_create(k, e);
}

struct del_ctx {
	struct control_batch *b;
	const Ph__DkimKey *gone;	/* key delete: the deleted key */
	const char *domain_id;		/* domain delete: its id */
	const char *next_active;	/* key delete: another ACTIVE key */
};

/* del_visit - keys of a deleted domain; another active key of the domain */
static void del_visit(void *arg, const Ph__PolicyObject *o)
{
	struct del_ctx *c = arg;
	const Ph__DkimKey *k = o->dkim_key;

	if (c->domain_id != NULL && strcmp(k->email_domain_id, c->domain_id) == 0)
		control_batch_del(c->b, o->obj_case, k->id);
	if (c->gone != NULL && strcmp(k->id, c->gone->id) != 0 &&
	    strcmp(k->email_domain_id, c->gone->email_domain_id) == 0 &&
	    strcmp(k->lifecycle_state, DKIM_STATE_ACTIVE) == 0)
		c->next_active = k->id;
}

/* domain_repoint - the domain of the deleted active key gets NEXT (or "") */
static int domain_repoint(struct control_store *s, struct control_batch *b,
    const Ph__DkimKey *gone, const char *next)
{
	const Ph__PolicyObject *d =
	    control_store_get(s, PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN, gone->email_domain_id);
	Ph__PolicyObject *copy;

	if (d == NULL || strcmp(d->email_domain->active_dkim_id, gone->id) != 0)
		return 0;
	copy = control_obj_copy(d);
	if (copy == NULL ||
	    control_str_set(&copy->email_domain->active_dkim_id, next ? next : "") == -1) {
		control_obj_free(copy);
		return -1;
	}
	control_batch_put(b, copy);
	return 0;
}

/* control_dkim_on_delete - cascade for domains and keys */
int control_dkim_on_delete(struct control_store *s, struct control_batch *b,
    Ph__PolicyObject__ObjCase kind, const char *id)
{
	struct del_ctx c = { b, NULL, NULL, NULL };

	if (kind == PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN)
		c.domain_id = id;
	else if (kind == PH__POLICY_OBJECT__OBJ_DKIM_KEY && (c.gone = key_of(s, id)) == NULL)
		return 0;
	else if (kind != PH__POLICY_OBJECT__OBJ_DKIM_KEY)
		return 0;
	control_store_each(s, PH__POLICY_OBJECT__OBJ_DKIM_KEY, del_visit, &c);
	return c.gone != NULL ? domain_repoint(s, b, c.gone, c.next_active) : 0;
}

/* control_dkim_shell - O's DKIM key with an empty private key */
Ph__PolicyObject *control_dkim_shell(const Ph__PolicyObject *o)
{
	struct { Ph__PolicyObject o; Ph__DkimKey k; } *sh = malloc(sizeof(*sh));

	if (sh == NULL)
		return NULL;
	sh->o = *o;
	sh->k = *o->dkim_key;
	sh->k.private_key_pem = "";
	sh->o.dkim_key = &sh->k;
	return &sh->o;
}
