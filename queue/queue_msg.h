/*
 * queue_msg - what a shard keeps in memory about one queued message: its
 * envelope and the state of each recipient (the body stays on disk), and
 * the encoding of the recipient states stored under s/<queue_id>.
 */
#ifndef PH_QUEUE_MSG_H
#define PH_QUEUE_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "queue.pb-c.h"

enum qrcpt_state {
	QRCPT_PENDING,
	QRCPT_DELIVERED,
	QRCPT_FAILED,
};

struct qrcpt {
	char *addr;
	char *domain;		/* lowercased part after the last '@' */
	uint8_t state;		/* enum qrcpt_state */
	uint32_t attempts;	/* attempts that ended in a result */
	uint64_t next_ms;	/* earliest next attempt (unix ms), 0 = now */
};

struct qmsg {
	char qid[33];
	char *tenant_id;
	char *mail_from;
	char *dkim_selector;	/* "" when the frontend did not sign */
	uint64_t received_ms;
	size_t nrcpt;
	size_t pending;		/* recipients not final */
	size_t ntasks;		/* live scheduler tasks (queue_sched.c) */
	struct qrcpt *rcpts;
	uint8_t *hrec;		/* packed header log record, loaded on the
				 * first outcome (queue_hlog.c), or NULL */
	size_t hlen;
	int hdirty;		/* hrec changed since it was last saved */
};

/* qmsg_new - a message with every recipient pending; NULL on malloc failure */
struct qmsg *qmsg_new(const char *qid, const Ph__EnqueueRequest *req);
/* qmsg_restore - from a stored metadata record and state (STATE may be NULL);
 * NULL when either is malformed */
struct qmsg *qmsg_restore(const char *qid, const void *meta, size_t mlen,
    const void *state, size_t slen);
void qmsg_free(struct qmsg *m);

/* qmsg_state_encode - the s/ record of M into a malloc'd *BUF. 0 or -1. */
int qmsg_state_encode(const struct qmsg *m, uint8_t **buf, size_t *len);

/* qmsg_pack_meta - the m/ record for REQ: REQ packed without its body,
 * malloc'd. 0 or -1. */
int qmsg_pack_meta(const Ph__EnqueueRequest *req, uint8_t **buf, size_t *len);

#endif
