/*
 * queue_client - typed client of the ph-queue shards, used by the frontends.
 *
 * Spreads messages over the shards (round robin) and fails over to the next
 * shard when one cannot be reached or does not answer within the deadline. A
 * callback with ok=0 means no shard persisted the message (SMTP: 452 System
 * storage error). At-least-once: a shard that timed out may still have stored
 * the message, so a fail-over can deliver it twice, never zero times.
 */
#ifndef PH_QUEUE_CLIENT_H
#define PH_QUEUE_CLIENT_H

#include "config.h"
#include "queue.pb-c.h"

struct event_base;
struct queue_client;

/* queue_enqueue_cb - OK=1 and the queue id when a shard synced the message */
typedef void (*queue_enqueue_cb)(void *arg, int ok, const char *queue_id);

struct queue_client *queue_client_new(struct event_base *base,
    const struct strvec *endpoints, unsigned timeout_ms);
void queue_client_free(struct queue_client *c);
/* queue_client_enqueue - REQ must stay valid until CB ran or the call was
 * cancelled. CB runs exactly once, later, from the loop. */
void queue_client_enqueue(struct queue_client *c, Ph__EnqueueRequest *req,
    queue_enqueue_cb cb, void *arg);
void queue_client_cancel(struct queue_client *c, void *arg);
/* queue_client_watch - probe every shard from now on; CB(ARG) runs whenever
 * a shard went up or down */
void queue_client_watch(struct queue_client *c, void (*cb)(void *arg), void *arg);
/* queue_client_shards_up - shards answering now (0 when not watched) */
size_t queue_client_shards_up(const struct queue_client *c);

#endif
