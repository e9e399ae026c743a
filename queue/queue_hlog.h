/*
 * queue_hlog - the header log of a shard: one HeaderRecord per message
 * (proto/queue.proto), built at enqueue from the EnqueueRequest and the
 * message's header block, updated with every attempt of every recipient,
 * stored under h/ (queue_store.h) and kept header_retention after the
 * message was received, long after its body is gone.
 */
#ifndef PH_QUEUE_HLOG_H
#define PH_QUEUE_HLOG_H

#include <stddef.h>
#include <stdint.h>

#include "queue.pb-c.h"

struct qmsg;
struct queue_store;

#define QHLOG_ATTEMPTS_MAX 100	/* per recipient; later ones replace the last */
#define QHLOG_LIMIT_DEFAULT 100

/* qhlog_build - the packed record of the new message QID from REQ (body
 * included: To, Cc, Date and missing fields come from its header) into a
 * malloc'd *BUF. 0 or -1. */
int qhlog_build(const char *qid, const Ph__EnqueueRequest *req,
    const char *shard, uint8_t **buf, size_t *len);

/* qhlog_outcome - add the attempt R (NULL: none came back; REPLY says why)
 * of recipient I to M's loaded record m->hrec, with the state it left
 * m->rcpts[i] in, at NOW. 0, or -1 (record malformed, out of memory). */
int qhlog_outcome(struct qmsg *m, uint32_t i, const Ph__RecipientResult *r,
    const char *reply, uint64_t now);

/* qhlog_last - the last attempt of recipient I in the record REC, or NULL */
const Ph__HeaderAttempt *qhlog_last(const Ph__HeaderRecord *rec, uint32_t i);

/* qhlog_match - REC passes every filter set in Q */
int qhlog_match(const Ph__HeaderRecord *rec, const Ph__HeaderLogQuery *q);

/* qhlog_query - the newest records of ST matching Q (at most its limit),
 * skipping expired ones, into REP->records (unpacked; release with
 * qhlog_reply_clear). A queue id is a point lookup; other filters scan the
 * whole log. 0 or -1. */
int qhlog_query(struct queue_store *st, uint64_t retention_ms,
    const Ph__HeaderLogQuery *q, Ph__HeaderLogReply *rep);
void qhlog_reply_clear(Ph__HeaderLogReply *rep);

#endif
