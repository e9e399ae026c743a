/*
 * control_rpc - ph-control's request dispatch (proto/control.proto):
 *
 *   PolicyPut        -> PolicyReply {status, objects=[stored object], version}
 *   PolicyDelete     -> PolicyReply {status, version}
 *   PolicyList       -> PolicyReply {status, objects (credentials without salt
 *                       and hash), version}
 *   CredentialCreate -> PolicyReply {status, objects=[credential, no hash],
 *                       password (shown once), version}
 *   PolicyGet        -> PolicySnapshot {status, version, every object}
 *   DkimCheck        -> PolicyReply {status, objects=[the key after a DNS
 *                       check], version} (control_dkim_check.c)
 *   anything else    -> Status ERR_BAD_REQUEST
 * After every change: PolicyChanged {version} on the PUB socket.
 *
 * DIAGNOSTICS: refusals are answered, not logged beyond debug; changes are
 * logged at info with kind and id only (never addresses or user names).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "control.h"
#include "control_dkim.h"
#include "control_obj.h"
#include "control_store.h"
#include "log.h"

/* reply_objs - the object list of a reply; credentials get hash-less shells */
struct reply_objs {
	Ph__PolicyObject **v;
	size_t n, cap;
	int strip;		/* hide credential salt and hash */
	int failed;
};

/* shell_credential - a shallow copy of a credential without salt and hash */
static Ph__PolicyObject *shell_credential(const Ph__PolicyObject *o)
{
	struct { Ph__PolicyObject o; Ph__Credential k; } *sh = malloc(sizeof(*sh));

	if (sh == NULL)
		return NULL;
	sh->o = *o;
	sh->k = *o->credential;
	sh->k.salt.len = 0;
	sh->k.salt.data = NULL;
	sh->k.scrypt_hash.len = 0;
	sh->k.scrypt_hash.data = NULL;
	sh->o.credential = &sh->k;
	return &sh->o;
}

/* is_shell - whether reply entry O was allocated by shell_credential or
 * control_dkim_shell (DKIM private keys never go back to phctl) */
static int is_shell(const struct reply_objs *r, const Ph__PolicyObject *o)
{
	return r->strip && (o->obj_case == PH__POLICY_OBJECT__OBJ_CREDENTIAL ||
	    o->obj_case == PH__POLICY_OBJECT__OBJ_DKIM_KEY);
}

/* reply_add - append O (or its shell) */
static void reply_add(struct reply_objs *r, const Ph__PolicyObject *o)
{
	Ph__PolicyObject *item = (Ph__PolicyObject *)o;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		Ph__PolicyObject **v = realloc(r->v, cap * sizeof(*v));
		if (v == NULL) {
			r->failed = 1;
			return;
		}
		r->v = v;
		r->cap = cap;
	}
	if (is_shell(r, o) && (item = o->obj_case == PH__POLICY_OBJECT__OBJ_DKIM_KEY ?
	    control_dkim_shell(o) : shell_credential(o)) == NULL) {
		r->failed = 1;
		return;
	}
	r->v[r->n++] = item;
}

/* reply_objs_free - free the shells and the array */
static void reply_objs_free(struct reply_objs *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (is_shell(r, r->v[i]))
			free(r->v[i]);
	free(r->v);
}

/* send_policy_reply - PolicyReply with ST, OBJS and PASSWORD (may be NULL) */
static void send_policy_reply(struct control *c, const struct zpeer *peer,
    uint64_t rid, Ph__Status *st, struct reply_objs *objs, char *password)
{
	Ph__Envelope env;
	Ph__PolicyReply rep = PH__POLICY_REPLY__INIT;

	msg_init(&env);
	rep.status = st;
	rep.version = control_store_version(c->store);
	if (objs != NULL) {
		rep.n_objects = objs->n;
		rep.objects = objs->v;
	}
	if (password != NULL)
		rep.password = password;
	env.body_case = PH__ENVELOPE__BODY_POLICY_REPLY;
	env.policy_reply = &rep;
	rpc_reply(c->srv, peer, rid, &env);
}

/* control_reply_err - a PolicyReply carrying the refusal */
void control_reply_err(struct control *c, const struct zpeer *peer, uint64_t rid,
    const struct control_err *e)
{
	Ph__Status st;

	msg_status_err(&st, e->code, e->msg);
	log_debug("control: refused: %s", e->msg);
	send_policy_reply(c, peer, rid, &st, NULL, NULL);
}

/* control_reply_one - success with one object (or none) */
void control_reply_one(struct control *c, const struct zpeer *peer, uint64_t rid,
    const Ph__PolicyObject *o, char *password)
{
	struct reply_objs r = { .strip = 1 };
	Ph__Status st;

	msg_status_ok(&st);
	if (o != NULL)
		reply_add(&r, o);
	send_policy_reply(c, peer, rid, &st, &r, password);
	reply_objs_free(&r);
}

/* control_changed - log and publish the new version */
void control_changed(struct control *c, const char *what, const char *kind,
    const char *id)
{
	Ph__Envelope env;
	Ph__PolicyChanged pc = PH__POLICY_CHANGED__INIT;

	pc.version = control_store_version(c->store);
	log_info("policy %s kind=%s id=%s version=%llu", what, kind, id,
	    (unsigned long long)pc.version);
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_POLICY_CHANGED;
	env.policy_changed = &pc;
	if (rpc_publish(c->pub, &env) == -1)
		log_warn("policy: publish version %llu", (unsigned long long)pc.version);
}

/* control_on_put - PolicyPut */
static void control_on_put(struct control *c, const struct zpeer *peer,
    uint64_t rid, const Ph__PolicyPut *put)
{
	const Ph__PolicyObject *stored = NULL;
	struct control_err e;
	char id[256];

	if (put->object == NULL) {
		control_err_set(&e, PH__ERROR_CODE__ERR_BAD_REQUEST, "no object");
		control_reply_err(c, peer, rid, &e);
		return;
	}
	if (control_op_put(c->store, put->object, &stored, &e) == -1) {
		control_reply_err(c, peer, rid, &e);
		return;
	}
	snprintf(id, sizeof(id), "%s", control_obj_id(stored));
	control_reply_one(c, peer, rid, stored, NULL);
	control_changed(c, "put", control_kind_name(stored->obj_case), id);
	if (stored->obj_case == PH__POLICY_OBJECT__OBJ_DKIM_KEY)
		control_dkim_check_soon(id);
}

/* control_on_delete - PolicyDelete */
static void control_on_delete(struct control *c, const struct zpeer *peer,
    uint64_t rid, const Ph__PolicyDelete *del)
{
	struct control_err e;

	if (control_op_delete(c->store, del->kind, del->id, &e) == -1) {
		control_reply_err(c, peer, rid, &e);
		return;
	}
	control_reply_one(c, peer, rid, NULL, NULL);
	control_changed(c, "delete", del->kind, del->id);
}

/* control_on_credential - CredentialCreate */
static void control_on_credential(struct control *c, const struct zpeer *peer,
    uint64_t rid, const Ph__CredentialCreate *cc)
{
	const Ph__PolicyObject *stored = NULL;
	struct control_err e;
	char password[33];

	if (control_op_credential(c->store, cc->user_id, password, sizeof(password),
	    &stored, &e) == -1) {
		control_reply_err(c, peer, rid, &e);
		return;
	}
	control_reply_one(c, peer, rid, stored, password);
	OPENSSL_cleanse(password, sizeof(password));
	control_changed(c, "put", "credential", stored->credential->id);
}

struct list_ctx {
	struct reply_objs *r;
	const char *tenant_id;
};

/* list_visit - objects of the requested tenant (routes belong to none) */
static void list_visit(void *arg, const Ph__PolicyObject *o)
{
	struct list_ctx *l = arg;

	if (l->tenant_id[0] == '\0' || strcmp(control_obj_tenant(o), l->tenant_id) == 0)
		reply_add(l->r, o);
}

/* collect - objects of KIND (NOT_SET: all) and TENANT ("" = all) into R */
static int collect(struct control *c, Ph__PolicyObject__ObjCase kind,
    const char *tenant_id, struct reply_objs *r)
{
	struct list_ctx l = { r, tenant_id };

	control_store_each(c->store, kind, list_visit, &l);
	return r->failed ? -1 : 0;
}

/* control_on_list - PolicyList */
static void control_on_list(struct control *c, const struct zpeer *peer,
    uint64_t rid, const Ph__PolicyList *pl)
{
	struct reply_objs r = { .strip = 1 };
	Ph__PolicyObject__ObjCase kind = PH__POLICY_OBJECT__OBJ__NOT_SET;
	struct control_err e;
	Ph__Status st;

	if (pl->kind[0] != '\0' &&
	    (kind = control_kind_parse(pl->kind)) == PH__POLICY_OBJECT__OBJ__NOT_SET) {
		control_err_set(&e, PH__ERROR_CODE__ERR_BAD_REQUEST, "unknown kind");
		control_reply_err(c, peer, rid, &e);
		return;
	}
	if (collect(c, kind, pl->tenant_id, &r) == -1)
		msg_status_err(&st, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
	else
		msg_status_ok(&st);
	send_policy_reply(c, peer, rid, &st, &r, NULL);
	reply_objs_free(&r);
}

/* control_on_get - PolicyGet: the whole snapshot, hashes included */
static void control_on_get(struct control *c, const struct zpeer *peer, uint64_t rid)
{
	struct reply_objs r = { .strip = 0 };
	Ph__PolicySnapshot snap = PH__POLICY_SNAPSHOT__INIT;
	Ph__Envelope env;
	Ph__Status st;

	if (collect(c, PH__POLICY_OBJECT__OBJ__NOT_SET, "", &r) == -1) {
		reply_objs_free(&r);
		rpc_reply_status(c->srv, peer, rid, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
		return;
	}
	msg_status_ok(&st);
	snap.status = &st;
	snap.version = control_store_version(c->store);
	snap.n_objects = r.n;
	snap.objects = r.v;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_POLICY_SNAPSHOT;
	env.policy_snapshot = &snap;
	rpc_reply(c->srv, peer, rid, &env);
	reply_objs_free(&r);
}

/* control_on_request - dispatch one request; owns and frees REQ */
void control_on_request(void *arg, struct rpc_server *srv, const struct zpeer *peer,
    Ph__Envelope *req)
{
	struct control *c = arg;
	uint64_t rid = req->request_id;

	switch (req->body_case) {
	case PH__ENVELOPE__BODY_POLICY_PUT:
		control_on_put(c, peer, rid, req->policy_put);
		break;
	case PH__ENVELOPE__BODY_POLICY_DELETE:
		control_on_delete(c, peer, rid, req->policy_delete);
		break;
	case PH__ENVELOPE__BODY_POLICY_LIST:
		control_on_list(c, peer, rid, req->policy_list);
		break;
	case PH__ENVELOPE__BODY_CREDENTIAL_CREATE:
		control_on_credential(c, peer, rid, req->credential_create);
		break;
	case PH__ENVELOPE__BODY_POLICY_GET:
		control_on_get(c, peer, rid);
		break;
	case PH__ENVELOPE__BODY_DKIM_CHECK:
		control_dkim_on_check(c, peer, rid, req->dkim_check);
		break;
	default:
		log_warnx("control: unexpected %s", msg_body_name(req->body_case));
		rpc_reply_status(srv, peer, rid, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "unknown request");
		break;
	}
	msg_free(req);
}
