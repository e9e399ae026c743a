/*
 * queue_sched - tasks, leases, relays and results of one queue shard.
 *
 * A task is one attempt at the pending recipients of one message that share
 * a domain. It is in exactly one state:
 *   READY   on s->ready (FIFO), waiting for a relay with credits;
 *   LEASED  on its relay's list and in the timer heap until its lease ends;
 *   WAIT    in the timer heap until its retry time.
 * A result (or the end of the task some other way) destroys the task; its
 * recipients that are still pending go into one new WAIT task. So every
 * pending recipient belongs to exactly one task, and a message whose
 * recipients are all final has no task left and is removed.
 *
 * Relays are known by relay_id (from RelayHello, TaskCredit, TaskResult) and
 * reached through the routing id of the last message they sent. A RelayHello
 * sets the relay's credits; TaskCredit and TaskResult add to them; each
 * DeliveryTask pushed uses one. Ready tasks go round robin over the relays
 * that have credits.
 *
 * Expiry: a deferral after received + max_age fails the recipient
 * ("4.4.7 message expired"); so does a tick that finds its task still
 * ready then (no relay took it), checked at most once a second.
 *
 * DIAGNOSTICS: lease expiry and relay restarts are logged (info); a body
 * that cannot be read defers the task (warning); a push that fails takes the
 * relay's credits away until it sends more (warning).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "clock.h"
#include "log.h"
#include "queue_heap.h"
#include "queue_msg.h"
#include "queue_sched.h"
#include "queue_store.h"

#define CREDITS_MAX 100000
#define EXPIRY_SCAN_MS 1000	/* ready tasks are checked for expiry this often */
#define REPLY_EXPIRED "4.4.7 message expired"
#define REPLY_NO_RESULT "4.4.0 no result from relay"
#define REPLY_NO_BODY "4.3.0 message body unavailable"

enum qtask_state { QTASK_READY, QTASK_LEASED, QTASK_WAIT };

struct qrelay;

struct qtask {
	uint64_t id;
	struct qmsg *msg;
	uint32_t *idx;		/* recipient indices in msg */
	size_t nidx;
	enum qtask_state state;
	struct qheap_node due;	/* lease end (LEASED) or retry time (WAIT) */
	uint32_t attempt;
	struct qrelay *relay;	/* LEASED only */
	struct qtask *hnext;	/* task id hash chain */
	TAILQ_ENTRY(qtask) link;	/* s->ready or relay->leased */
};
TAILQ_HEAD(qtask_list, qtask);

struct qrelay {
	char *id;
	uint64_t incarnation;
	uint32_t credits;
	struct zpeer peer;
	struct qtask_list leased;
};

struct qsched {
	struct qsched_cfg cfg;
	struct queue_store *store;
	struct qsched_io io;
	uint64_t next_task_id;
	struct qtask_list ready;
	struct qheap timer;	/* LEASED and WAIT tasks by due time */
	struct qtask **hash;	/* task id -> task */
	size_t nhash, nbuckets;
	struct qrelay **relays;
	size_t nrelays, rr;
	uint64_t messages, rcpts_pending, nready, nleased, nwait;
	uint64_t delivered_total, failed_total, deferred_total;
	uint64_t expiry_scan_ms;	/* the next walk of the ready list */
};

/* ---- task id hash ---- */

/* hash_slot - bucket of task ID */
static size_t
hash_slot(const struct qsched *s, uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ULL) >> 20) & (s->nbuckets - 1);
}

/* hash_grow - double the buckets when the table is full */
static void
hash_grow(struct qsched *s)
{
	size_t old = s->nbuckets;
	struct qtask **ob = s->hash;

	s->nbuckets = old ? old * 2 : 1024;
	s->hash = calloc(s->nbuckets, sizeof(*s->hash));
	if (s->hash == NULL)
		fatal_nomem("queue_sched");
	for (size_t i = 0; i < old; i++) {
		for (struct qtask *t = ob[i], *n; t != NULL; t = n) {
			size_t b = hash_slot(s, t->id);
			n = t->hnext;
			t->hnext = s->hash[b];
			s->hash[b] = t;
		}
	}
	free(ob);
}

/* hash_put - index T by id */
static void
hash_put(struct qsched *s, struct qtask *t)
{
	size_t b;

	if (s->nhash >= s->nbuckets)
		hash_grow(s);
	b = hash_slot(s, t->id);
	t->hnext = s->hash[b];
	s->hash[b] = t;
	s->nhash++;
}

/* hash_get - the task with ID or NULL */
static struct qtask *
hash_get(const struct qsched *s, uint64_t id)
{
	if (s->nbuckets == 0)
		return NULL;
	for (struct qtask *t = s->hash[hash_slot(s, id)]; t; t = t->hnext)
		if (t->id == id)
			return t;
	return NULL;
}

/* hash_del - unindex T */
static void
hash_del(struct qsched *s, struct qtask *t)
{
	struct qtask **pp = &s->hash[hash_slot(s, t->id)];

	while (*pp != t)
		pp = &(*pp)->hnext;
	*pp = t->hnext;
	s->nhash--;
}

/* ---- task states ---- */

/* task_unlink - take T out of whatever list/heap its state puts it in */
static void
task_unlink(struct qsched *s, struct qtask *t)
{
	switch (t->state) {
	case QTASK_READY:
		TAILQ_REMOVE(&s->ready, t, link);
		s->nready--;
		break;
	case QTASK_LEASED:
		TAILQ_REMOVE(&t->relay->leased, t, link);
		t->relay = NULL;
		qheap_remove(&s->timer, &t->due);
		s->nleased--;
		break;
	case QTASK_WAIT:
		qheap_remove(&s->timer, &t->due);
		s->nwait--;
		break;
	}
}

/* task_set_ready - T (unlinked or new) waits for a relay; HEAD: go first */
static void
task_set_ready(struct qsched *s, struct qtask *t, int head)
{
	t->state = QTASK_READY;
	if (head)
		TAILQ_INSERT_HEAD(&s->ready, t, link);
	else
		TAILQ_INSERT_TAIL(&s->ready, t, link);
	s->nready++;
}

/* task_set_wait - T (unlinked or new) sleeps until DUE */
static void
task_set_wait(struct qsched *s, struct qtask *t, uint64_t due)
{
	t->state = QTASK_WAIT;
	t->due.due_ms = due;
	qheap_push(&s->timer, &t->due);
	s->nwait++;
}

/* task_set_leased - T (unlinked) is out with relay R until its lease ends */
static void
task_set_leased(struct qsched *s, struct qtask *t, struct qrelay *r)
{
	t->state = QTASK_LEASED;
	t->relay = r;
	t->due.due_ms = clock_now_ms() + s->cfg.lease_ms;
	TAILQ_INSERT_TAIL(&r->leased, t, link);
	qheap_push(&s->timer, &t->due);
	s->nleased++;
}

/* task_new - a task for the NIDX recipients IDX of M, due at DUE */
static struct qtask *
task_new(struct qsched *s, struct qmsg *m, const uint32_t *idx, size_t nidx,
    uint64_t due)
{
	struct qtask *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->idx = malloc(nidx * sizeof(*idx))) == NULL)
		fatal_nomem("queue_sched");
	memcpy(t->idx, idx, nidx * sizeof(*idx));
	t->nidx = nidx;
	t->msg = m;
	m->ntasks++;
	t->id = ++s->next_task_id;
	for (size_t i = 0; i < nidx; i++)
		if (m->rcpts[idx[i]].attempts >= t->attempt)
			t->attempt = m->rcpts[idx[i]].attempts + 1;
	hash_put(s, t);
	if (due <= clock_now_ms())
		task_set_ready(s, t, 0);
	else
		task_set_wait(s, t, due);
	return t;
}

/* task_free - unlink and free T (its message stays) */
static void
task_free(struct qsched *s, struct qtask *t)
{
	task_unlink(s, t);
	hash_del(s, t);
	t->msg->ntasks--;
	free(t->idx);
	free(t);
}

/* ---- messages ---- */

/* msg_schedule - group M's pending recipients by (domain, next attempt) */
static void
msg_schedule(struct qsched *s, struct qmsg *m)
{
	uint32_t *idx = malloc(m->nrcpt * sizeof(*idx));
	char *taken = calloc(m->nrcpt, 1);

	if (idx == NULL || taken == NULL)
		fatal_nomem("queue_sched");
	for (size_t i = 0; i < m->nrcpt; i++) {
		struct qrcpt *a = &m->rcpts[i];
		size_t n = 0;
		if (taken[i] || a->state != QRCPT_PENDING)
			continue;
		for (size_t j = i; j < m->nrcpt; j++) {
			struct qrcpt *b = &m->rcpts[j];
			if (!taken[j] && b->state == QRCPT_PENDING &&
			    b->next_ms == a->next_ms &&
			    strcmp(b->domain, a->domain) == 0) {
				taken[j] = 1;
				idx[n++] = (uint32_t)j;
			}
		}
		task_new(s, m, idx, n, a->next_ms);
	}
	free(idx);
	free(taken);
}

/* msg_take - M becomes the scheduler's */
static void
msg_take(struct qsched *s, struct qmsg *m)
{
	s->messages++;
	s->rcpts_pending += m->pending;
	msg_schedule(s, m);
}

/* msg_final - every recipient of M is final: remove it (its header log
 * record stays; the io outcome calls kept it up to date) */
static void
msg_final(struct qsched *s, struct qmsg *m)
{
	s->io.remove(s->io.arg, m);
	s->messages--;
	qmsg_free(m);
}

/* msg_save - persist M's recipient states, or remove M when all are final */
static void
msg_save(struct qsched *s, struct qmsg *m)
{
	uint8_t *buf;
	size_t len;

	if (m->pending == 0) {
		msg_final(s, m);
		return;
	}
	if (qmsg_state_encode(m, &buf, &len) < 0)
		fatal_nomem("queue_sched");
	s->io.save_state(s->io.arg, m, buf, len);
	free(buf);
}

/* ---- outcomes ---- */

/* rcpt_final - recipient I of M reached a final state */
static void
rcpt_final(struct qsched *s, struct qmsg *m, uint32_t i, enum qrcpt_state st,
    const char *reply)
{
	m->rcpts[i].state = st;
	m->pending--;
	s->rcpts_pending--;
	if (st == QRCPT_DELIVERED) {
		s->delivered_total++;
		return;
	}
	s->failed_total++;
	log_info("%s failed: from=<%s> to=<%s> reply=\"%s\"", m->qid,
	    m->mail_from, m->rcpts[i].addr, reply ? reply : "");
}

/* retry_delay - the delay after the Nth deferral (N >= 1) */
static uint64_t
retry_delay(const struct qsched *s, uint32_t n)
{
	size_t k = n - 1 < s->cfg.nretry ? n - 1 : s->cfg.nretry - 1;

	return s->cfg.nretry ? s->cfg.retry_ms[k] : 60000;
}

/* rcpt_defer - recipient I of M gets a temporary failure: retry or expire.
 * Returns 1 when it stays pending (its next_ms is set). */
static int
rcpt_defer(struct qsched *s, struct qmsg *m, uint32_t i)
{
	struct qrcpt *r = &m->rcpts[i];
	uint64_t now = clock_now_ms(), expiry = m->received_ms + s->cfg.max_age_ms;

	r->attempts++;
	if (now >= expiry) {
		rcpt_final(s, m, i, QRCPT_FAILED, REPLY_EXPIRED);
		return 0;
	}
	s->deferred_total++;
	r->next_ms = now + retry_delay(s, r->attempts);
	if (r->next_ms > expiry)
		r->next_ms = expiry;	/* one last attempt when it expires */
	return 1;
}

/* rcpt_apply - one result for recipient I; 1 when it stays pending */
static int
rcpt_apply(struct qsched *s, struct qmsg *m, uint32_t i,
    const Ph__RecipientResult *r)
{
	const char *reply = r != NULL ? r->reply : REPLY_NO_RESULT;
	int pending = 0;

	if (r != NULL && (r->outcome == PH__OUTCOME__OUTCOME_DELIVERED ||
	    r->outcome == PH__OUTCOME__OUTCOME_FAILED)) {
		m->rcpts[i].attempts++;
		rcpt_final(s, m, i, r->outcome == PH__OUTCOME__OUTCOME_DELIVERED ?
		    QRCPT_DELIVERED : QRCPT_FAILED, reply);
	} else if ((pending = rcpt_defer(s, m, i)) == 0) {
		reply = REPLY_EXPIRED;
	}
	s->io.outcome(s->io.arg, m, i, r, reply);
	return pending;
}

/* result_for - the result for recipient I in RES, NULL when absent */
static const Ph__RecipientResult *
result_for(const Ph__TaskResult *res, uint32_t i)
{
	for (size_t k = 0; res != NULL && k < res->n_results; k++)
		if (res->results[k] != NULL && res->results[k]->index == i)
			return res->results[k];
	return NULL;
}

/* task_finish - apply RES (NULL: defer all) to T's recipients, destroy T,
 * put the still pending ones into one new task, persist the message */
static void
task_finish(struct qsched *s, struct qtask *t, const Ph__TaskResult *res)
{
	struct qmsg *m = t->msg;
	uint32_t *left = malloc(t->nidx * sizeof(*left));
	uint32_t *failed = malloc(t->nidx * sizeof(*failed));
	uint64_t due = 0;
	size_t n = 0, nf = 0;

	if (left == NULL || failed == NULL)
		fatal_nomem("queue_sched");
	for (size_t k = 0; k < t->nidx; k++) {
		uint32_t i = t->idx[k];
		if (m->rcpts[i].state != QRCPT_PENDING)
			continue;
		if (rcpt_apply(s, m, i, result_for(res, i))) {
			if (n == 0 || m->rcpts[i].next_ms < due)
				due = m->rcpts[i].next_ms;
			left[n++] = i;
		} else if (m->rcpts[i].state == QRCPT_FAILED) {
			failed[nf++] = i;
		}
	}
	task_free(s, t);
	if (n > 0)
		task_new(s, m, left, n, due);
	if (nf > 0)
		s->io.failed(s->io.arg, m, failed, nf);
	free(left);
	free(failed);
	msg_save(s, m);
}

/* ---- relays ---- */

/* relay_find - the relay called ID; create it when CREATE */
static struct qrelay *
relay_find(struct qsched *s, const char *id, int create)
{
	struct qrelay *r;

	for (size_t i = 0; i < s->nrelays; i++)
		if (strcmp(s->relays[i]->id, id) == 0)
			return s->relays[i];
	if (!create)
		return NULL;
	r = calloc(1, sizeof(*r));
	s->relays = realloc(s->relays, (s->nrelays + 1) * sizeof(*s->relays));
	if (r == NULL || s->relays == NULL || (r->id = strdup(id)) == NULL)
		fatal_nomem("queue_sched");
	TAILQ_INIT(&r->leased);
	s->relays[s->nrelays++] = r;
	return r;
}

/* relay_seen - the relay of a message from PEER, its routing id refreshed */
static struct qrelay *
relay_seen(struct qsched *s, const struct zpeer *peer, const char *id)
{
	struct qrelay *r = relay_find(s, id != NULL ? id : "", 1);

	if (peer != NULL)
		r->peer = *peer;
	return r;
}

/* relay_add_credits - N more tasks for R, capped */
static void
relay_add_credits(struct qrelay *r, uint32_t n)
{
	uint64_t c = (uint64_t)r->credits + n;

	r->credits = c > CREDITS_MAX ? CREDITS_MAX : (uint32_t)c;
}

/* relay_requeue - every task leased to R is ready again, first in line */
static void
relay_requeue(struct qsched *s, struct qrelay *r)
{
	struct qtask *t;

	while ((t = TAILQ_LAST(&r->leased, qtask_list)) != NULL) {
		task_unlink(s, t);
		task_set_ready(s, t, 1);
	}
}

/* relay_next - the next relay with credits (round robin), NULL if none */
static struct qrelay *
relay_next(struct qsched *s)
{
	for (size_t k = 0; k < s->nrelays; k++) {
		struct qrelay *r = s->relays[(s->rr + k) % s->nrelays];
		if (r->credits > 0) {
			s->rr = (s->rr + k + 1) % s->nrelays;
			return r;
		}
	}
	return NULL;
}

/* ---- dispatch ---- */

/* task_push - send T to relay R with BODY; 0 or -1 */
static int
task_push(struct qsched *s, struct qtask *t, struct qrelay *r,
    const void *body, size_t blen)
{
	struct qmsg *m = t->msg;
	Ph__DeliveryTask dt = PH__DELIVERY_TASK__INIT;
	Ph__TaskRecipient *rr = calloc(t->nidx, sizeof(*rr));
	Ph__TaskRecipient **rp = calloc(t->nidx, sizeof(*rp));
	Ph__Envelope env;
	int rc;

	if (rr == NULL || rp == NULL)
		fatal_nomem("queue_sched");
	for (size_t k = 0; k < t->nidx; k++) {
		ph__task_recipient__init(&rr[k]);
		rr[k].index = t->idx[k];
		rr[k].address = m->rcpts[t->idx[k]].addr;
		rp[k] = &rr[k];
	}
	dt.task_id = t->id;
	dt.queue_id = m->qid;
	dt.tenant_id = m->tenant_id;
	dt.mail_from = m->mail_from;
	dt.domain = m->rcpts[t->idx[0]].domain;
	dt.n_rcpts = t->nidx;
	dt.rcpts = rp;
	dt.body.data = (uint8_t *)body;
	dt.body.len = blen;
	dt.attempt = t->attempt;
	dt.received_ms = m->received_ms;
	dt.shard = (char *)s->cfg.shard;
	dt.dkim_selector = m->dkim_selector;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_DELIVERY_TASK;
	env.delivery_task = &dt;
	rc = s->io.push(s->io.arg, &r->peer, &env);
	free(rr);
	free(rp);
	return rc;
}

/* task_lease - hand ready task T (unlinked) to R: 0, or -1 when the push
 * failed (T is then ready again, first in line) */
static int
task_lease(struct qsched *s, struct qtask *t, struct qrelay *r)
{
	void *body = NULL;
	size_t blen = 0;

	if (queue_store_get_body(s->store, t->msg->qid, &body, &blen) != 0) {
		log_warnx("%s body unavailable, task %llu deferred", t->msg->qid,
		    (unsigned long long)t->id);
		task_set_ready(s, t, 0);	/* task_finish unlinks it */
		task_finish(s, t, NULL);
		return 0;
	}
	if (task_push(s, t, r, body, blen) < 0) {
		log_warnx("push to relay %s failed, its credits are dropped",
		    r->id);
		free(body);
		r->credits = 0;
		task_set_ready(s, t, 1);
		return -1;
	}
	free(body);
	r->credits--;
	task_set_leased(s, t, r);
	return 0;
}

/* sched_dispatch - hand out ready tasks while some relay has credits */
static void
sched_dispatch(struct qsched *s)
{
	struct qtask *t;
	struct qrelay *r;

	while ((t = TAILQ_FIRST(&s->ready)) != NULL &&
	    (r = relay_next(s)) != NULL) {
		task_unlink(s, t);
		task_lease(s, t, r);
	}
}

/* ---- public ---- */

/* qsched_new - an empty scheduler */
struct qsched *
qsched_new(const struct qsched_cfg *cfg, struct queue_store *store,
    const struct qsched_io *io)
{
	struct qsched *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cfg = *cfg;
	s->store = store;
	s->io = *io;
	/* ids of this incarnation start above those of earlier ones */
	s->next_task_id = (clock_now_ms() & 0xffffffffffULL) << 20;
	TAILQ_INIT(&s->ready);
	return s;
}

/* qsched_free - free every task, message and relay */
void
qsched_free(struct qsched *s)
{
	if (s == NULL)
		return;
	for (size_t b = 0; b < s->nbuckets; b++) {
		for (struct qtask *t = s->hash[b], *n; t != NULL; t = n) {
			struct qmsg *m = t->msg;
			n = t->hnext;
			free(t->idx);
			free(t);
			if (--m->ntasks == 0)
				qmsg_free(m);
		}
	}
	free(s->hash);
	qheap_clear(&s->timer);
	for (size_t i = 0; i < s->nrelays; i++) {
		free(s->relays[i]->id);
		free(s->relays[i]);
	}
	free(s->relays);
	free(s);
}

/* qsched_add - a message just made durable: every recipient is pending */
int
qsched_add(struct qsched *s, const char *qid, const Ph__EnqueueRequest *req)
{
	struct qmsg *m = qmsg_new(qid, req);

	if (m == NULL)
		return -1;
	msg_take(s, m);
	sched_dispatch(s);
	return 0;
}

/* qsched_restore - a message found in the store at start-up */
int
qsched_restore(struct qsched *s, const char *qid, const void *meta,
    size_t mlen, const void *state, size_t slen)
{
	struct qmsg *m = qmsg_restore(qid, meta, mlen, state, slen);

	if (m == NULL)
		return -1;
	if (m->pending == 0) {
		/* final, but its delete was lost in a crash */
		s->messages++;
		msg_final(s, m);
		return 0;
	}
	msg_take(s, m);
	return 0;
}

/* qsched_on_hello - a relay (re)starts or refreshes: set its credits; a new
 * incarnation means it lost its tasks, so they are ready again at once */
void
qsched_on_hello(struct qsched *s, const struct zpeer *peer,
    const Ph__RelayHello *m)
{
	struct qrelay *r = relay_seen(s, peer, m->relay_id);

	/* incarnation 0: known only from credits or results so far */
	if (r->incarnation != 0 && r->incarnation != m->incarnation) {
		if (!TAILQ_EMPTY(&r->leased))
			log_info("relay %s restarted: its tasks are ready again",
			    r->id);
		relay_requeue(s, r);
	}
	r->incarnation = m->incarnation;
	r->credits = 0;
	relay_add_credits(r, m->credits);
	sched_dispatch(s);
}

/* qsched_push_failed - the push of leased task TASK_ID did not reach its
 * relay after all (a batched push is sent at the end of the loop turn): the
 * task is ready again, first in line, and the relay's credits are dropped,
 * as when a push fails at once */
void
qsched_push_failed(struct qsched *s, uint64_t task_id)
{
	struct qtask *t = hash_get(s, task_id);

	if (t == NULL || t->state != QTASK_LEASED)
		return;
	t->relay->credits = 0;
	task_unlink(s, t);
	task_set_ready(s, t, 1);
}

/* qsched_on_credit - more credits for a relay */
void
qsched_on_credit(struct qsched *s, const struct zpeer *peer,
    const Ph__TaskCredit *m)
{
	relay_add_credits(relay_seen(s, peer, m->relay_id), m->credits);
	sched_dispatch(s);
}

/* qsched_on_result - the outcome of a task; unknown tasks change nothing
 * but the credits that come with them */
void
qsched_on_result(struct qsched *s, const struct zpeer *peer,
    const Ph__TaskResult *m)
{
	struct qtask *t = hash_get(s, m->task_id);

	relay_add_credits(relay_seen(s, peer, m->relay_id), m->credits);
	/* a task id of an earlier incarnation of this shard may name another
	 * message now: the queue id must match too */
	if (t != NULL && m->queue_id != NULL && m->queue_id[0] != '\0' &&
	    strcmp(m->queue_id, t->msg->qid) != 0)
		t = NULL;
	if (t != NULL)
		task_finish(s, t, m);
	sched_dispatch(s);
}

/* sched_expire - ready tasks whose message is past max_age (no relay took
 * them) fail as expired, like a deferral after the expiry; the walk runs at
 * most every EXPIRY_SCAN_MS */
static void
sched_expire(struct qsched *s)
{
	uint64_t now = clock_now_ms();
	struct qtask *t, *next;

	if (now < s->expiry_scan_ms)
		return;
	s->expiry_scan_ms = now + EXPIRY_SCAN_MS;
	/* task_finish frees T only (its message stays while NEXT has it) */
	for (t = TAILQ_FIRST(&s->ready); t != NULL; t = next) {
		next = TAILQ_NEXT(t, link);
		if (now >= t->msg->received_ms + s->cfg.max_age_ms)
			task_finish(s, t, NULL);
	}
}

/* qsched_tick - leases that ended are ready again; so are due retries;
 * what no relay took before its message expired fails */
void
qsched_tick(struct qsched *s)
{
	uint64_t now = clock_now_ms();
	struct qheap_node *top;
	struct qtask *t;

	while ((top = qheap_top(&s->timer)) != NULL && top->due_ms <= now) {
		t = (struct qtask *)((char *)top - offsetof(struct qtask, due));
		if (t->state == QTASK_LEASED)
			log_info("%s task %llu: lease of relay %s expired",
			    t->msg->qid, (unsigned long long)t->id,
			    t->relay->id);
		task_unlink(s, t);
		task_set_ready(s, t, 0);
	}
	sched_dispatch(s);
	sched_expire(s);
}

/* qsched_stats - the scheduler's counters */
void
qsched_stats(const struct qsched *s, Ph__QueueStats *st)
{
	st->messages = s->messages;
	st->recipients_pending = s->rcpts_pending;
	st->ready = s->nready;
	st->leased = s->nleased;
	st->deferred = s->nwait;
	st->delivered_total = s->delivered_total;
	st->failed_total = s->failed_total;
	st->deferred_total = s->deferred_total;
}
