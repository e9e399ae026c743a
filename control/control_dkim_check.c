/*
 * control_dkim_check - ph-control's DKIM DNS checker. Every [dkim]
 * check_interval (default 10 min), at once after a key is stored, and on a
 * DkimCheck request, each key's names (dkim_diag_names) are queried for
 * CNAME and TXT through c-ares in the loop ([dkim] dns_servers, empty = the
 * system resolver); dkim_diagnose turns the answers into a state (ACTIVE or
 * NEEDS_ATTENTION) and a check_detail with the fix. A key that becomes
 * ACTIVE while its domain has no active key becomes the domain's
 * active_dkim_id (same batch). The key is written, and PolicyChanged
 * published, only when its state or detail changed or a DkimCheck waits
 * for the result (so a quiet check costs the replicas nothing).
 *
 * DIAGNOSTICS: a bad [dkim] section or a resolver that cannot be set up is
 * fatal; state changes are logged at info (kind, id and verdict only); a
 * failed write is warned about and retried at the next round.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/nameser.h>
#include <event2/event.h>

#include "ares_ev.h"
#include "clock.h"
#include "config.h"
#include "control_dkim.h"
#include "control_obj.h"
#include "control_store.h"
#include "log.h"
#include "proc.h"

#define DKIM_RR_MAX (4 * DKIM_DIAG_NAMES_MAX)
#define DKIM_TXT_MAX 4096

struct waiter {
	struct zpeer peer;
	uint64_t rid;
	struct waiter *next;
};

/* check - one key being checked: its queries and their answers */
struct check {
	char *id;
	char *names[DKIM_DIAG_NAMES_MAX];
	size_t nnames;
	struct dkim_rr rrs[DKIM_RR_MAX];
	size_t nrr;
	size_t pending;
	struct waiter *waiters;
	struct check *next;
};

/* query - one CNAME or TXT question of a check */
struct query {
	struct check *chk;
	const char *name;
	enum dkim_rr_type type;
};

static struct {
	struct control *c;
	struct ares_ev *dns;
	struct event *timer;
	long long interval_ms;
	struct check *running;
} ck;

/* rr_add - remember one answer (copies) */
static void rr_add(struct check *chk, const char *name, enum dkim_rr_type type,
    const char *value)
{
	struct dkim_rr *rr;

	if (chk->nrr == DKIM_RR_MAX)
		return;
	rr = &chk->rrs[chk->nrr];
	rr->name = strdup(name);
	rr->value = strdup(value);
	rr->type = type;
	if (rr->name != NULL && rr->value != NULL)
		chk->nrr++;
	else
		free((char *)rr->name), free((char *)rr->value);
}

/* txt_join - the character-strings of one TXT rdata, concatenated */
static void txt_join(const unsigned char *p, const unsigned char *end, char *out)
{
	size_t n = 0;

	while (p < end && n < DKIM_TXT_MAX - 1) {
		size_t len = *p++;
		if (len > (size_t)(end - p) || n + len >= DKIM_TXT_MAX)
			break;
		memcpy(out + n, p, len);
		n += len;
		p += len;
	}
	out[n] = '\0';
}

/* skip_questions - past the question section; NULL on a bad packet */
static const unsigned char *skip_questions(const unsigned char *abuf, int alen)
{
	const unsigned char *p = abuf + NS_HFIXEDSZ;
	unsigned qd = (unsigned)(abuf[4] << 8 | abuf[5]);
	char *name;
	long len;

	for (unsigned i = 0; i < qd; i++) {
		if (ares_expand_name(p, abuf, alen, &name, &len) != ARES_SUCCESS)
			return NULL;
		ares_free_string(name);
		p += len + NS_QFIXEDSZ;
		if (p > abuf + alen)
			return NULL;
	}
	return p;
}

/* answer_one - parse the RR at *PP into Q's check; -1 on a bad packet */
static int answer_one(struct query *q, const unsigned char *abuf, int alen,
    const unsigned char **pp)
{
	const unsigned char *p = *pp, *end = abuf + alen;
	char *owner, *target, txt[DKIM_TXT_MAX];
	long len;
	unsigned type, rdlen;

	if (ares_expand_name(p, abuf, alen, &owner, &len) != ARES_SUCCESS)
		return -1;
	ares_free_string(owner);
	p += len;
	if (end - p < NS_RRFIXEDSZ)
		return -1;
	type = (unsigned)(p[0] << 8 | p[1]);
	rdlen = (unsigned)(p[8] << 8 | p[9]);
	p += NS_RRFIXEDSZ;
	if ((size_t)(end - p) < rdlen)
		return -1;
	if (type == ns_t_cname && q->type == DKIM_RR_CNAME &&
	    ares_expand_name(p, abuf, alen, &target, &len) == ARES_SUCCESS) {
		rr_add(q->chk, q->name, DKIM_RR_CNAME, target);
		ares_free_string(target);
	} else if (type == ns_t_txt && q->type == DKIM_RR_TXT) {
		txt_join(p, p + rdlen, txt);
		rr_add(q->chk, q->name, DKIM_RR_TXT, txt);
	}
	*pp = p + rdlen;
	return 0;
}

/* answers_parse - every CNAME or TXT answer (TXT after a followed CNAME too) */
static void answers_parse(struct query *q, const unsigned char *abuf, int alen)
{
	const unsigned char *p;
	unsigned an;

	if (alen < NS_HFIXEDSZ || (p = skip_questions(abuf, alen)) == NULL)
		return;
	an = (unsigned)(abuf[6] << 8 | abuf[7]);
	for (unsigned i = 0; i < an; i++)
		if (answer_one(q, abuf, alen, &p) == -1)
			return;
}

static void check_done(struct check *chk);

/* on_answer - one query is back */
static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	struct check *chk = q->chk;

	if (status == ARES_SUCCESS)
		answers_parse(q, abuf, alen);
	free(q);
	if (--chk->pending == 0 && !ares_ev_destroying(ck.dns))
		check_done(chk);
}

/* check_free - answers, names, waiters */
static void check_free(struct check *chk)
{
	for (size_t i = 0; i < chk->nrr; i++) {
		free((char *)chk->rrs[i].name);
		free((char *)chk->rrs[i].value);
	}
	for (size_t i = 0; i < chk->nnames; i++)
		free(chk->names[i]);
	while (chk->waiters != NULL) {
		struct waiter *w = chk->waiters;
		chk->waiters = w->next;
		free(w);
	}
	free(chk->id);
	free(chk);
}

/* running_find - the check of key ID in flight, NULL if none */
static struct check *running_find(const char *id)
{
	for (struct check *c = ck.running; c != NULL; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

/* running_unlink - CHK is finished */
static void running_unlink(struct check *chk)
{
	for (struct check **pp = &ck.running; *pp != NULL; pp = &(*pp)->next)
		if (*pp == chk) {
			*pp = chk->next;
			return;
		}
}

/* diag_in - the diagnosis input of K */
static void diag_in(const Ph__DkimKey *k, struct dkim_diag_in *in)
{
	in->domain = k->domain;
	in->selector = k->selector;
	in->cname_name = k->cname_record_name;
	in->cname_value = k->cname_record_value;
	in->public_key_b64 = k->public_key_b64;
}

/* ask - one question; PENDING was counted by the caller */
static void ask(struct check *chk, const char *name, enum dkim_rr_type type)
{
	struct query *q = malloc(sizeof(*q));

	if (q == NULL) {
		chk->pending--;
		return;
	}
	q->chk = chk;
	q->name = name;
	q->type = type;
	ares_query(ares_ev_channel(ck.dns), name, ns_c_in,
	    type == DKIM_RR_CNAME ? ns_t_cname : ns_t_txt, on_answer, q);
}

/* check_start - query every name of key K (a check of K in flight: join it) */
static struct check *check_start(const Ph__DkimKey *k)
{
	struct dkim_diag_in in;
	struct check *chk = running_find(k->id);

	if (chk != NULL)
		return chk;
	if ((chk = calloc(1, sizeof(*chk))) == NULL || (chk->id = strdup(k->id)) == NULL) {
		free(chk);
		return NULL;
	}
	diag_in(k, &in);
	chk->nnames = dkim_diag_names(&in, chk->names, DKIM_DIAG_NAMES_MAX);
	chk->next = ck.running;
	ck.running = chk;
	/* one extra count so that answers arriving at once cannot finish it early */
	chk->pending = 2 * chk->nnames + 1;
	for (size_t i = 0; i < chk->nnames; i++) {
		ask(chk, chk->names[i], DKIM_RR_CNAME);
		ask(chk, chk->names[i], DKIM_RR_TXT);
	}
	ares_ev_arm(ck.dns);
	if (--chk->pending == 0) {
		check_done(chk);
		return NULL;
	}
	return chk;
}

/* domain_activate - the domain of K gets K as active key if it has none */
static void domain_activate(struct control_batch *b, const Ph__DkimKey *k)
{
	const Ph__PolicyObject *d = control_store_get(ck.c->store,
	    PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN, k->email_domain_id);
	Ph__PolicyObject *copy;

	if (d == NULL || d->email_domain->active_dkim_id[0] != '\0')
		return;
	copy = control_obj_copy(d);
	if (copy != NULL && control_str_set(&copy->email_domain->active_dkim_id, k->id) == 0)
		control_batch_put(b, copy);
	else
		control_obj_free(copy);
}

/* key_write - store the new state of OLD (and maybe its domain) */
static int key_write(const Ph__PolicyObject *old, const char *state, const char *detail)
{
	Ph__PolicyObject *copy = control_obj_copy(old);
	struct control_batch *b;
	char *err = NULL;

	if (copy == NULL || control_str_set(&copy->dkim_key->lifecycle_state, state) == -1 ||
	    control_str_set(&copy->dkim_key->check_detail, detail) == -1 ||
	    (b = control_batch_new(ck.c->store)) == NULL) {
		control_obj_free(copy);
		return -1;
	}
	copy->dkim_key->time_checked_ms = clock_now_ms();
	if (strcmp(state, DKIM_STATE_ACTIVE) == 0)
		domain_activate(b, copy->dkim_key);
	control_batch_put(b, copy);
	if (control_batch_commit(b, &err) == -1) {
		log_warnx("dkim: cannot store the check of %s: %s", old->dkim_key->id,
		    err ? err : "write failed");
		free(err);
		return -1;
	}
	return 0;
}

/* check_reply - answer the DkimCheck requests waiting for CHK */
static void check_reply(struct check *chk)
{
	const Ph__PolicyObject *o =
	    control_store_get(ck.c->store, PH__POLICY_OBJECT__OBJ_DKIM_KEY, chk->id);
	struct control_err e;

	for (struct waiter *w = chk->waiters; w != NULL; w = w->next) {
		if (o != NULL) {
			control_reply_one(ck.c, &w->peer, w->rid, o, NULL);
			continue;
		}
		control_err_set(&e, PH__ERROR_CODE__ERR_NOT_FOUND, "no such dkim");
		control_reply_err(ck.c, &w->peer, w->rid, &e);
	}
}

/* check_done - diagnose, store what changed, reply, free */
static void check_done(struct check *chk)
{
	const Ph__PolicyObject *o =
	    control_store_get(ck.c->store, PH__POLICY_OBJECT__OBJ_DKIM_KEY, chk->id);
	struct dkim_diag_in in;
	enum dkim_verdict v;
	const char *state;
	char detail[1024];

	running_unlink(chk);
	if (o != NULL) {
		diag_in(o->dkim_key, &in);
		v = dkim_diagnose(&in, chk->rrs, chk->nrr, detail, sizeof(detail));
		state = v == DKIM_OK ? DKIM_STATE_ACTIVE : DKIM_STATE_NEEDS_ATTENTION;
		if ((chk->waiters != NULL || strcmp(state, o->dkim_key->lifecycle_state) != 0 ||
		    strcmp(detail, o->dkim_key->check_detail) != 0) &&
		    key_write(o, state, detail) == 0) {
			log_info("dkim: key %s %s (%s)", chk->id, state, dkim_verdict_name(v));
			control_changed(ck.c, "put", "dkim", chk->id);
		}
	}
	check_reply(chk);
	check_free(chk);
}

/* control_dkim_check_soon - check one key (or every key not ACTIVE) now */
void control_dkim_check_soon(const char *id)
{
	const Ph__PolicyObject *o;

	if (ck.dns == NULL)
		return;
	o = control_store_get(ck.c->store, PH__POLICY_OBJECT__OBJ_DKIM_KEY, id);
	if (o != NULL)
		check_start(o->dkim_key);
}

/* control_dkim_on_check - DkimCheck: start (or join) a check, reply later */
void control_dkim_on_check(struct control *c, const struct zpeer *peer,
    uint64_t rid, const Ph__DkimCheck *req)
{
	const Ph__PolicyObject *o =
	    control_store_get(c->store, PH__POLICY_OBJECT__OBJ_DKIM_KEY, req->id);
	struct check *chk = o != NULL ? check_start(o->dkim_key) : NULL;
	struct waiter *w;
	struct control_err e;

	if (chk == NULL && o != NULL) {
		control_reply_one(c, peer, rid, control_store_get(c->store,
		    PH__POLICY_OBJECT__OBJ_DKIM_KEY, req->id), NULL);
		return;
	}
	if (chk == NULL || (w = calloc(1, sizeof(*w))) == NULL) {
		control_err_set(&e, o == NULL ? PH__ERROR_CODE__ERR_NOT_FOUND :
		    PH__ERROR_CODE__ERR_INTERNAL, o == NULL ? "no such dkim" : "out of memory");
		control_reply_err(c, peer, rid, &e);
		return;
	}
	w->peer = *peer;
	w->rid = rid;
	w->next = chk->waiters;
	chk->waiters = w;
}

/* each_key - start the check of one key */
static void each_key(void *arg, const Ph__PolicyObject *o)
{
	check_start(o->dkim_key);
}

/* on_round - the periodic check of every key */
static void on_round(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = { ck.interval_ms / 1000, (ck.interval_ms % 1000) * 1000 };

	control_store_each(ck.c->store, PH__POLICY_OBJECT__OBJ_DKIM_KEY, each_key, NULL);
	evtimer_add(ck.timer, &tv);
}

/* control_dkim_start - [dkim] config, resolver, first round at once */
void control_dkim_start(struct control *c)
{
	char *zone = NULL, *err = NULL;
	long long timeout_ms = 0;
	struct strvec servers = { NULL, 0 };
	struct config_row rows[] = {
		{ "publish_zone", CFG_STR, 0, -1, DKIM_DEFAULT_ZONE, &zone },
		{ "check_interval", CFG_MS, 100, 7LL * 86400 * 1000, "10m", &ck.interval_ms },
		{ "dns_servers", CFG_LIST, 0, -1, NULL, &servers },
		{ "dns_timeout", CFG_MS, 100, 60000, "2s", &timeout_ms },
		{ NULL, 0, 0, 0, NULL, NULL },
	};
	struct timeval now = { 0, 0 };

	if (config_apply(c->proc->cfg, "dkim", rows, &err) == -1)
		fatalx("config: %s", err);
	control_dkim_set_zone(zone);
	ck.c = c;
	ck.dns = ares_ev_new(c->proc->base, &servers, timeout_ms, &err);
	if (ck.dns == NULL)
		fatalx("dkim: %s", err ? err : "cannot set up the resolver");
	strvec_clear(&servers);
	free(zone);
	ck.timer = evtimer_new(c->proc->base, on_round, NULL);
	if (ck.timer == NULL)
		fatalx("dkim: cannot create the check timer");
	evtimer_add(ck.timer, &now);
}

/* control_dkim_stop - cancel the checks in flight (no replies) and free */
void control_dkim_stop(struct control *c)
{
	if (ck.timer != NULL)
		event_free(ck.timer);
	ares_ev_free(ck.dns);
	while (ck.running != NULL) {
		struct check *chk = ck.running;
		ck.running = chk->next;
		check_free(chk);
	}
	ck.timer = NULL;
	ck.dns = NULL;
}
