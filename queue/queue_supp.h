/*
 * queue_supp - the HARDBOUNCE suppressions a shard owes ph-control: each is
 * persisted (p/<id>) before it is first offered, offered again with a
 * doubling back-off (1 s up to 5 min) until ph-control takes it, and loaded
 * again after a restart. It owns only memory: writes and the offers leave
 * through the io callbacks (the shard: writer thread and rpc; tests: the
 * memory store and a fake). Time comes from clock_now_ms().
 */
#ifndef PH_QUEUE_SUPP_H
#define PH_QUEUE_SUPP_H

#include <stddef.h>
#include <stdint.h>

#include "common.pb-c.h"
#include "control.pb-c.h"

struct qsupp;
struct qsupp_item;

#define QSUPP_DELAY_MIN_MS 1000
#define QSUPP_DELAY_MAX_MS 300000

struct qsupp_io {
	/* save - persist the p/ record ID (DATA: a packed Suppression) */
	void (*save)(void *arg, const char *id, const void *data, size_t len);
	/* forget - delete the p/ record ID */
	void (*forget)(void *arg, const char *id);
	/* send - offer X to ph-control; its answer (or none) must come back
	 * through qsupp_answer(IT, ...). 0 sent, -1 not sent (retried). */
	int (*send)(void *arg, struct qsupp_item *it, const Ph__Suppression *x);
	void *arg;
};

struct qsupp *qsupp_new(const struct qsupp_io *io);
/* qsupp_free - forget the memory (the records stay for the next start);
 * answers still expected must have been cancelled */
void qsupp_free(struct qsupp *s);
/* qsupp_add - persist X under a new id and offer it now; 0 or -1 */
int qsupp_add(struct qsupp *s, const Ph__Suppression *x);
/* qsupp_restore - a p/ record found at start-up, offered at the next tick;
 * -1 when malformed (left on disk) */
int qsupp_restore(struct qsupp *s, const char *id, const void *data,
    size_t len);
/* qsupp_answer - ph-control's STATUS for IT (NULL: no answer): ok or
 * ERR_EXISTS forget it, ERR_BAD_REQUEST or ERR_NOT_FOUND drop it with a
 * warning, anything else retries it after the back-off */
void qsupp_answer(struct qsupp_item *it, const Ph__Status *status);
/* qsupp_tick - offer the suppressions whose retry time came */
void qsupp_tick(struct qsupp *s);
/* qsupp_pending - how many are waiting for ph-control */
size_t qsupp_pending(const struct qsupp *s);

#endif
