/*
 * policy - the local, read-only replica of the policy store.
 *
 * A replica holds one immutable index built from a PolicySnapshot. It asks
 * ph-control for a snapshot (PolicyGet) at start and then every second until
 * one arrives (every 100 ms for the first second: sockets are connecting), every 30 s afterwards, and whenever a PolicyChanged notice on
 * the SUB socket names another version. A new snapshot is indexed completely
 * and then swapped in; the old index is freed at that moment (lookups hand out
 * pointers that live until the next swap).
 *
 * Index keys: tenants by id and by name; users by id; credentials by
 * username; senders by "<tenant>\n<address>" (address or "@domain", a list
 * since one address may be approved in several compartments); suppressions
 * by "<tenant>\n<address>"; routes by domain ("*.parent" and "*" included);
 * API keys by their OCI keyId "<tenant>/<user>/<fingerprint>"; email
 * domains by "<tenant>\n<name>"; DKIM keys by id.
 *
 * DIAGNOSTICS: a failed fetch is logged at debug (retried), an undecodable or
 * refused snapshot is warned about; nothing is fatal.
 */
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "addr.h"
#include "clock.h"
#include "fault.h"
#include "log.h"
#include "policy.h"
#include "rpc.h"
#include "strmap.h"
#include "zsock.h"

#define POLICY_FAST_RETRY_MS 100	/* the first tries: peers are still connecting */
#define POLICY_FAST_RETRIES 10
#define POLICY_RETRY_MS 1000
#define POLICY_REFRESH_MS 30000
#define POLICY_TIMEOUT_MS 5000
#define POLICY_KEY_MAX 1024
#define POLICY_SLOW_MS 4000	/* the policy_slow test seam: nothing for this long */

struct sender_node {
	const Ph__Sender *s;
	struct sender_node *next;
};

struct policy_index {
	Ph__PolicySnapshot *snap;	/* owned; every pointer below points into it */
	struct strmap *tenant_id, *tenant_name, *user, *cred, *sender, *supp, *route;
	struct strmap *apikey;		/* "<tenant>/<user>/<fingerprint>" -> ApiKey */
	struct strmap *edomain, *dkim;	/* "<tenant>\n<name>" -> EmailDomain, id -> DkimKey */
	struct sender_node *nodes;	/* one per sender, chained per key */
};

struct policy {
	struct event_base *base;
	struct rpc_client *rpc;
	void *sub;
	struct zwatch *subw;
	struct event *timer;
	struct policy_index *idx;
	uint64_t version;
	int fetching;		/* a PolicyGet is in flight */
	int again;		/* a notice arrived meanwhile: fetch once more */
	unsigned tries;		/* timer rounds so far */
	uint64_t born_ms;	/* clock_mono_ms at policy_new */
	void (*cb)(void *arg);
	void *cb_arg;
};

/* index_free - free an index and its snapshot */
static void index_free(struct policy_index *x)
{
	if (x == NULL)
		return;
	strmap_free(x->tenant_id, NULL);
	strmap_free(x->tenant_name, NULL);
	strmap_free(x->user, NULL);
	strmap_free(x->cred, NULL);
	strmap_free(x->sender, NULL);
	strmap_free(x->supp, NULL);
	strmap_free(x->route, NULL);
	strmap_free(x->apikey, NULL);
	strmap_free(x->edomain, NULL);
	strmap_free(x->dkim, NULL);
	free(x->nodes);
	if (x->snap != NULL)
		ph__policy_snapshot__free_unpacked(x->snap, NULL);
	free(x);
}

/* pair_key - "<a>\n<b>" with B lowercased; -1 when too long */
static int pair_key(char out[POLICY_KEY_MAX], const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la + lb + 2 > POLICY_KEY_MAX)
		return -1;
	memcpy(out, a, la);
	out[la] = '\n';
	memcpy(out + la + 1, b, lb + 1);
	addr_lower(out + la + 1);
	return 0;
}

/* index_sender - chain S under its tenant + address */
static void index_sender(struct policy_index *x, const Ph__Sender *s,
    struct sender_node *n)
{
	char key[POLICY_KEY_MAX];

	if (pair_key(key, s->tenant_id, s->address) == -1)
		return;
	n->s = s;
	n->next = strmap_get(x->sender, key);
	strmap_put(x->sender, key, n);
}

/* index_lower - KEY lowercased into MAP */
static void index_lower(struct strmap *map, const char *key, const void *val)
{
	char buf[POLICY_KEY_MAX];

	if (strlen(key) >= sizeof(buf))
		return;
	strcpy(buf, key);
	addr_lower(buf);
	strmap_put(map, buf, (void *)val);
}

/* index_api_key - K under its OCI keyId "<tenant>/<user>/<fingerprint>" */
static void index_api_key(struct policy_index *x, const Ph__ApiKey *k)
{
	char key[POLICY_KEY_MAX];
	int n = snprintf(key, sizeof(key), "%s/%s/%s", k->tenant_id, k->user_id,
	    k->fingerprint);

	if (n > 0 && (size_t)n < sizeof(key))
		strmap_put(x->apikey, key, (void *)k);
}

/* index_one - add one object */
static void index_one(struct policy_index *x, const Ph__PolicyObject *o, size_t i)
{
	char key[POLICY_KEY_MAX];

	switch (o->obj_case) {
	case PH__POLICY_OBJECT__OBJ_TENANT:
		strmap_put(x->tenant_id, o->tenant->id, o->tenant);
		strmap_put(x->tenant_name, o->tenant->name, o->tenant);
		break;
	case PH__POLICY_OBJECT__OBJ_USER:
		strmap_put(x->user, o->user->id, o->user);
		break;
	case PH__POLICY_OBJECT__OBJ_CREDENTIAL:
		strmap_put(x->cred, o->credential->username, o->credential);
		break;
	case PH__POLICY_OBJECT__OBJ_SENDER:
		index_sender(x, o->sender, &x->nodes[i]);
		break;
	case PH__POLICY_OBJECT__OBJ_SUPPRESSION:
		if (pair_key(key, o->suppression->tenant_id, o->suppression->address) == 0)
			strmap_put(x->supp, key, o->suppression);
		break;
	case PH__POLICY_OBJECT__OBJ_ROUTE:
		index_lower(x->route, o->route->domain, o->route);
		break;
	case PH__POLICY_OBJECT__OBJ_API_KEY:
		index_api_key(x, o->api_key);
		break;
	case PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN:
		if (pair_key(key, o->email_domain->tenant_id, o->email_domain->name) == 0)
			strmap_put(x->edomain, key, o->email_domain);
		break;
	case PH__POLICY_OBJECT__OBJ_DKIM_KEY:
		strmap_put(x->dkim, o->dkim_key->id, o->dkim_key);
		break;
	default:
		break;
	}
}

/* index_build - an index owning SNAP (taken even on failure) */
static struct policy_index *index_build(Ph__PolicySnapshot *snap)
{
	struct policy_index *x = calloc(1, sizeof(*x));

	if (x == NULL) {
		ph__policy_snapshot__free_unpacked(snap, NULL);
		return NULL;
	}
	x->snap = snap;
	x->nodes = calloc(snap->n_objects + 1, sizeof(*x->nodes));
	if (x->nodes == NULL) {
		index_free(x);
		return NULL;
	}
	x->tenant_id = strmap_new();
	x->tenant_name = strmap_new();
	x->user = strmap_new();
	x->cred = strmap_new();
	x->sender = strmap_new();
	x->supp = strmap_new();
	x->route = strmap_new();
	x->apikey = strmap_new();
	x->edomain = strmap_new();
	x->dkim = strmap_new();
	for (size_t i = 0; i < snap->n_objects; i++)
		index_one(x, snap->objects[i], i);
	return x;
}

/* policy_apply - swap in a new index and tell the owner */
static void policy_apply(struct policy *p, struct policy_index *x)
{
	index_free(p->idx);
	p->idx = x;
	p->version = x->snap->version;
	log_info("policy: version %llu applied (%zu objects)",
	    (unsigned long long)p->version, x->snap->n_objects);
	if (p->cb != NULL)
		p->cb(p->cb_arg);
}

static void policy_fetch(struct policy *p);

/* policy_slow - the test seam PH_FAULTS=policy_slow (fault.h): a replica
 * that gets no snapshot for its first POLICY_SLOW_MS, as behind a slow or
 * late ph-control, so that tests can see a process wait for it */
static bool policy_slow(const struct policy *p)
{
	return fault_hit("policy_slow") && clock_mono_ms() - p->born_ms < POLICY_SLOW_MS;
}

/* policy_on_snapshot - the PolicyGet reply (NULL on timeout) */
static void policy_on_snapshot(void *arg, Ph__Envelope *reply)
{
	struct policy *p = arg;
	Ph__PolicySnapshot *snap;
	struct policy_index *x;

	p->fetching = 0;
	if (policy_slow(p))
		return;
	if (reply == NULL || reply->body_case != PH__ENVELOPE__BODY_POLICY_SNAPSHOT ||
	    reply->policy_snapshot->status == NULL || !reply->policy_snapshot->status->ok) {
		log_debug("policy: no snapshot from %s", rpc_client_endpoint(p->rpc));
		return;
	}
	/* take the snapshot out of the envelope (unpacked with the default
	 * allocator by msg_unpack) so that msg_free leaves it alone */
	snap = reply->policy_snapshot;
	reply->policy_snapshot = NULL;
	reply->body_case = PH__ENVELOPE__BODY__NOT_SET;
	if (p->idx != NULL && snap->version == p->version)
		ph__policy_snapshot__free_unpacked(snap, NULL);
	else if ((x = index_build(snap)) != NULL)
		policy_apply(p, x);
	if (p->again) {
		p->again = 0;
		policy_fetch(p);
	}
}

/* policy_fetch - one PolicyGet unless one is in flight */
static void policy_fetch(struct policy *p)
{
	Ph__Envelope env;
	Ph__PolicyGet get = PH__POLICY_GET__INIT;

	if (p->fetching) {
		p->again = 1;
		return;
	}
	get.have_version = p->version;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_POLICY_GET;
	env.policy_get = &get;
	if (rpc_call(p->rpc, &env, POLICY_TIMEOUT_MS, policy_on_snapshot, p) == 0)
		p->fetching = 1;
}

/* policy_schedule - next timer: retry fast until ready, then refresh */
static void policy_schedule(struct policy *p)
{
	unsigned ms = p->idx != NULL ? POLICY_REFRESH_MS :
	    p->tries++ < POLICY_FAST_RETRIES ? POLICY_FAST_RETRY_MS : POLICY_RETRY_MS;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(p->timer, &tv);
}

/* policy_on_timer - periodic fetch */
static void policy_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct policy *p = arg;

	policy_fetch(p);
	policy_schedule(p);
}

/* policy_on_notice - PolicyChanged from the PUB socket */
static void policy_on_notice(void *arg, const struct zpeer *peer, Ph__Envelope *env)
{
	struct policy *p = arg;

	if (env->body_case == PH__ENVELOPE__BODY_POLICY_CHANGED &&
	    (p->idx == NULL || env->policy_changed->version != p->version))
		policy_fetch(p);
	msg_free(env);
}

/* policy_new - connect, fetch the first snapshot, follow notices */
struct policy *policy_new(struct event_base *base, const char *endpoint,
    const char *pub_endpoint)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->base = base;
	p->born_ms = clock_mono_ms();
	p->rpc = rpc_client_new(base, endpoint, NULL);
	p->sub = rpc_sub_new(pub_endpoint);
	p->timer = evtimer_new(base, policy_on_timer, p);
	if (p->rpc == NULL || p->sub == NULL || p->timer == NULL) {
		policy_free(p);
		return NULL;
	}
	p->subw = zwatch_new(base, p->sub, false, policy_on_notice, p);
	policy_fetch(p);
	policy_schedule(p);
	return p;
}

/* policy_free - sockets, timer and index */
void policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	if (p->timer != NULL)
		event_free(p->timer);
	zwatch_free(p->subw);
	zsock_close(p->sub);
	rpc_client_free(p->rpc);
	index_free(p->idx);
	free(p);
}

/* policy_new_static - a replica frozen on a copy of SNAP */
struct policy *policy_new_static(const Ph__PolicySnapshot *snap)
{
	struct policy *p = calloc(1, sizeof(*p));
	size_t len = ph__policy_snapshot__get_packed_size(snap);
	uint8_t *buf = malloc(len + 1);
	Ph__PolicySnapshot *copy = NULL;

	if (p != NULL && buf != NULL) {
		ph__policy_snapshot__pack(snap, buf);
		copy = ph__policy_snapshot__unpack(NULL, len, buf);
	}
	free(buf);
	if (copy == NULL || (p->idx = index_build(copy)) == NULL) {
		free(p);
		return NULL;
	}
	p->version = snap->version;
	return p;
}

/* policy_ready - a snapshot has been applied */
bool policy_ready(const struct policy *p)
{
	return p->idx != NULL;
}

/* policy_version - the version of the applied snapshot */
uint64_t policy_version(const struct policy *p)
{
	return p->version;
}

/* policy_on_change - CB after each applied snapshot */
void policy_on_change(struct policy *p, void (*cb)(void *arg), void *arg)
{
	p->cb = cb;
	p->cb_arg = arg;
}

/* policy_tenant - by id first, then by name */
const Ph__Tenant *policy_tenant(const struct policy *p, const char *id_or_name)
{
	const Ph__Tenant *t;

	if (p->idx == NULL)
		return NULL;
	t = strmap_get(p->idx->tenant_id, id_or_name);
	return t != NULL ? t : strmap_get(p->idx->tenant_name, id_or_name);
}

/* policy_user - by id */
const Ph__User *policy_user(const struct policy *p, const char *id)
{
	return p->idx != NULL ? strmap_get(p->idx->user, id) : NULL;
}

/* policy_credential - by username */
const Ph__Credential *policy_credential(const struct policy *p, const char *username)
{
	return p->idx != NULL ? strmap_get(p->idx->cred, username) : NULL;
}

/* policy_user_may_use - USER is listed on compartment CID */
bool policy_user_may_use(const Ph__User *user, const char *cid)
{
	for (size_t i = 0; user != NULL && i < user->n_compartment_ids; i++)
		if (strcmp(user->compartment_ids[i], cid) == 0)
			return true;
	return false;
}

/* sender_find - the first entry under KEY usable by USER */
static const Ph__Sender *sender_find(const struct policy *p, const char *tenant_id,
    const char *address, const Ph__User *user)
{
	char key[POLICY_KEY_MAX];

	if (pair_key(key, tenant_id, address) == -1)
		return NULL;
	for (const struct sender_node *n = strmap_get(p->idx->sender, key); n; n = n->next)
		if (user == NULL || policy_user_may_use(user, n->s->compartment_id))
			return n->s;
	return NULL;
}

/* policy_sender - exact address, then "@domain" */
const Ph__Sender *policy_sender(const struct policy *p, const char *tenant_id,
    const Ph__User *user, const char *address)
{
	const Ph__Sender *s;
	const char *domain;

	if (p->idx == NULL || address[0] == '\0')
		return NULL;
	s = sender_find(p, tenant_id, address, user);
	if (s != NULL)
		return s;
	domain = strrchr(address, '@');
	return domain != NULL ? sender_find(p, tenant_id, domain, user) : NULL;
}

/* policy_api_key - by OCI keyId "<tenant>/<user>/<fingerprint>" */
const Ph__ApiKey *policy_api_key(const struct policy *p, const char *key_id)
{
	return p->idx != NULL ? strmap_get(p->idx->apikey, key_id) : NULL;
}

/* policy_dkim_for_domain - the domain's active_dkim_id, if that key is ACTIVE */
const Ph__DkimKey *policy_dkim_for_domain(const struct policy *p,
    const char *tenant_id, const char *domain)
{
	char key[POLICY_KEY_MAX];
	const Ph__EmailDomain *d;
	const Ph__DkimKey *k;

	if (p->idx == NULL || pair_key(key, tenant_id, domain) == -1 ||
	    (d = strmap_get(p->idx->edomain, key)) == NULL || d->active_dkim_id[0] == '\0')
		return NULL;
	k = strmap_get(p->idx->dkim, d->active_dkim_id);
	return k != NULL && strcmp(k->lifecycle_state, "ACTIVE") == 0 ? k : NULL;
}

/* policy_suppression - by tenant and address */
const Ph__Suppression *policy_suppression(const struct policy *p,
    const char *tenant_id, const char *address)
{
	char key[POLICY_KEY_MAX];

	if (p->idx == NULL || pair_key(key, tenant_id, address) == -1)
		return NULL;
	return strmap_get(p->idx->supp, key);
}

/* policy_route - exact, "*.parent" nearest first, then "*" */
const Ph__Route *policy_route(const struct policy *p, const char *domain)
{
	char name[POLICY_KEY_MAX];
	const Ph__Route *r;

	if (p->idx == NULL || strlen(domain) + 2 > sizeof(name))
		return NULL;
	strcpy(name, domain);
	addr_lower(name);
	if ((r = strmap_get(p->idx->route, name)) != NULL)
		return r;
	/* "*.b.c" then "*.c" for "a.b.c": overwrite the label before each dot */
	for (char *dot = strchr(name, '.'); dot != NULL; dot = strchr(dot + 1, '.')) {
		char wild[POLICY_KEY_MAX];
		snprintf(wild, sizeof(wild), "*%s", dot);
		if ((r = strmap_get(p->idx->route, wild)) != NULL)
			return r;
	}
	return strmap_get(p->idx->route, "*");
}
