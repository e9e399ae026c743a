/*
 * queue_supp - pending HARDBOUNCE suppressions of one shard, retried until
 * ph-control confirms them.
 *
 * An item is either waiting for its retry time (due_ms) or in flight (sent,
 * its answer not back yet). The list is short-lived and small (only while
 * ph-control is away), so a tick walks all of it.
 *
 * DIAGNOSTICS: a suppression ph-control refuses for good (ERR_BAD_REQUEST,
 * ERR_NOT_FOUND: e.g. the tenant is gone) is dropped with a warning; one
 * without an answer is retried with a warning on the first miss only; a
 * malformed stored record is reported by the caller. Out of memory panics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "clock.h"
#include "log.h"
#include "queue_supp.h"

struct qsupp_item {
	struct qsupp *owner;
	char id[33];
	uint8_t *data;		/* packed Suppression, as stored */
	size_t len;
	Ph__Suppression *x;	/* DATA unpacked */
	uint64_t due_ms;
	uint64_t delay_ms;	/* the next back-off */
	int inflight;
	TAILQ_ENTRY(qsupp_item) link;
};

struct qsupp {
	struct qsupp_io io;
	TAILQ_HEAD(, qsupp_item) items;
	size_t n;
};

/* qsupp_new - an empty list */
struct qsupp *
qsupp_new(const struct qsupp_io *io)
{
	struct qsupp *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->io = *io;
	TAILQ_INIT(&s->items);
	return s;
}

/* item_free - unlink and free IT */
static void
item_free(struct qsupp_item *it)
{
	struct qsupp *s = it->owner;

	TAILQ_REMOVE(&s->items, it, link);
	s->n--;
	ph__suppression__free_unpacked(it->x, NULL);
	free(it->data);
	free(it);
}

/* qsupp_free - every item */
void
qsupp_free(struct qsupp *s)
{
	struct qsupp_item *it;

	if (s == NULL)
		return;
	while ((it = TAILQ_FIRST(&s->items)) != NULL)
		item_free(it);
	free(s);
}

/* item_new - an item ID holding a copy of DATA; NULL when malformed */
static struct qsupp_item *
item_new(struct qsupp *s, const char *id, const void *data, size_t len)
{
	struct qsupp_item *it = calloc(1, sizeof(*it));

	if (it == NULL || (it->data = malloc(len ? len : 1)) == NULL)
		fatal_nomem("queue_supp");
	memcpy(it->data, data, len);
	it->len = len;
	it->x = ph__suppression__unpack(NULL, len, data);
	if (it->x == NULL) {
		free(it->data);
		free(it);
		return NULL;
	}
	it->owner = s;
	snprintf(it->id, sizeof(it->id), "%s", id);
	it->delay_ms = QSUPP_DELAY_MIN_MS;
	it->due_ms = clock_now_ms();
	TAILQ_INSERT_TAIL(&s->items, it, link);
	s->n++;
	return it;
}

/* item_later - IT is offered again after its back-off, which doubles */
static void
item_later(struct qsupp_item *it)
{
	it->inflight = 0;
	it->due_ms = clock_now_ms() + it->delay_ms;
	it->delay_ms *= 2;
	if (it->delay_ms > QSUPP_DELAY_MAX_MS)
		it->delay_ms = QSUPP_DELAY_MAX_MS;
}

/* item_send - offer IT to ph-control */
static void
item_send(struct qsupp_item *it)
{
	struct qsupp *s = it->owner;

	it->inflight = 1;
	if (s->io.send(s->io.arg, it, it->x) < 0)
		item_later(it);
}

/* qsupp_add - a new suppression: stored first, then offered */
int
qsupp_add(struct qsupp *s, const Ph__Suppression *x)
{
	size_t len = ph__suppression__get_packed_size(x);
	uint8_t *buf = malloc(len ? len : 1);
	struct qsupp_item *it;
	char id[33];

	if (buf == NULL)
		fatal_nomem("queue_supp");
	ph__suppression__pack(x, buf);
	id_new(id);
	it = item_new(s, id, buf, len);
	free(buf);
	if (it == NULL)
		return -1;
	s->io.save(s->io.arg, it->id, it->data, it->len);
	item_send(it);
	return 0;
}

/* qsupp_restore - a stored suppression, offered at the next tick */
int
qsupp_restore(struct qsupp *s, const char *id, const void *data, size_t len)
{
	return item_new(s, id, data, len) != NULL ? 0 : -1;
}

/* qsupp_answer - what ph-control said about IT */
void
qsupp_answer(struct qsupp_item *it, const Ph__Status *st)
{
	struct qsupp *s = it->owner;
	const char *addr = it->x->address;

	if (st != NULL && (st->ok || st->code == PH__ERROR_CODE__ERR_EXISTS)) {
		log_info("suppression HARDBOUNCE for <%s> %s", addr,
		    st->ok ? "added" : "was there already");
	} else if (st != NULL && (st->code == PH__ERROR_CODE__ERR_BAD_REQUEST ||
	    st->code == PH__ERROR_CODE__ERR_NOT_FOUND)) {
		log_warnx("suppression for <%s> dropped: %s", addr,
		    st->message);
	} else {
		if (it->delay_ms == QSUPP_DELAY_MIN_MS)
			log_warnx("suppression for <%s> not added yet (%s), "
			    "retried", addr, st != NULL ? st->message :
			    "no answer from ph-control");
		item_later(it);
		return;
	}
	s->io.forget(s->io.arg, it->id);
	item_free(it);
}

/* qsupp_tick - offer what is due */
void
qsupp_tick(struct qsupp *s)
{
	uint64_t now = clock_now_ms();
	struct qsupp_item *it, *next;

	/* a send may answer at once (and free its item): keep NEXT first */
	for (it = TAILQ_FIRST(&s->items); it != NULL; it = next) {
		next = TAILQ_NEXT(it, link);
		if (!it->inflight && it->due_ms <= now)
			item_send(it);
	}
}

/* qsupp_pending - the number of items */
size_t
qsupp_pending(const struct qsupp *s)
{
	return s->n;
}
