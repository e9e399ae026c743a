/*
 * queue_heap - an intrusive binary min-heap on a due time (unix ms): the
 * scheduler's timer for leases and retries. A node knows its slot, so it
 * can leave the heap from anywhere in O(log n).
 */
#ifndef PH_QUEUE_HEAP_H
#define PH_QUEUE_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct qheap_node {
	uint64_t due_ms;
	size_t pos;		/* slot while in the heap */
};

struct qheap {
	struct qheap_node **v;
	size_t n, cap;
};

/* qheap_push - add X (due_ms set); panics when out of memory */
void qheap_push(struct qheap *h, struct qheap_node *x);
/* qheap_remove - take X (in H) out */
void qheap_remove(struct qheap *h, struct qheap_node *x);
/* qheap_top - the earliest node, NULL when empty */
struct qheap_node *qheap_top(const struct qheap *h);
/* qheap_clear - free the slots (not the nodes) */
void qheap_clear(struct qheap *h);

#endif
