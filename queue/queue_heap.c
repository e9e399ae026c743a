/*
 * queue_heap - the min-heap behind the scheduler's timer.
 *
 * DIAGNOSTICS: running out of memory while growing is a panic.
 */
#include <stdlib.h>

#include "log.h"
#include "queue_heap.h"

/* heap_swap - exchange two slots, keeping pos right */
static void
heap_swap(struct qheap *h, size_t a, size_t b)
{
	struct qheap_node *t = h->v[a];

	h->v[a] = h->v[b];
	h->v[b] = t;
	h->v[a]->pos = a;
	h->v[b]->pos = b;
}

/* heap_up - restore order from slot I towards the root */
static void
heap_up(struct qheap *h, size_t i)
{
	while (i > 0 && h->v[(i - 1) / 2]->due_ms > h->v[i]->due_ms) {
		heap_swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

/* heap_down - restore order from slot I towards the leaves */
static void
heap_down(struct qheap *h, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && h->v[l]->due_ms < h->v[m]->due_ms)
			m = l;
		if (r < h->n && h->v[r]->due_ms < h->v[m]->due_ms)
			m = r;
		if (m == i)
			return;
		heap_swap(h, i, m);
		i = m;
	}
}

/* qheap_push - add X */
void
qheap_push(struct qheap *h, struct qheap_node *x)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 256;
		h->v = realloc(h->v, h->cap * sizeof(*h->v));
		if (h->v == NULL)
			fatal_nomem("queue_heap");
	}
	x->pos = h->n;
	h->v[h->n++] = x;
	heap_up(h, x->pos);
}

/* qheap_remove - take X out */
void
qheap_remove(struct qheap *h, struct qheap_node *x)
{
	size_t i = x->pos;

	if (i != --h->n) {
		heap_swap(h, i, h->n);
		heap_down(h, i);
		heap_up(h, i);
	}
}

/* qheap_top - the earliest node */
struct qheap_node *
qheap_top(const struct qheap *h)
{
	return h->n > 0 ? h->v[0] : NULL;
}

/* qheap_clear - free the slot array */
void
qheap_clear(struct qheap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
