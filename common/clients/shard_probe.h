/*
 * shard_probe - which shards of a service answer right now, for the typed
 * clients (queue_client, rl_client) whose owners must know whether they can
 * serve.
 *
 * Each shard is asked a cheap request (the client's PROBE envelope) over the
 * client's own rpc_client: every SHARD_PROBE_UP_MS while it answers, every
 * SHARD_PROBE_DOWN_MS while it does not, never twice at once. A shard is up
 * from its first answer (to a probe, or to real traffic reported with
 * shard_probe_answered) until a probe goes unanswered within the client's
 * timeout or cannot be sent at all (no connection: the process is gone).
 * So a stopped shard is noticed within one probe interval plus the timeout,
 * a dead one within a probe interval.
 */
#ifndef PH_SHARD_PROBE_H
#define PH_SHARD_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "rpc.h"

#define SHARD_PROBE_UP_MS 1000
#define SHARD_PROBE_DOWN_MS 100

struct event_base;
struct shard_probe;

/* shard_probe_new - probe SHARDS[0..n) with PROBE (both must outlive the
 * probe), each call with TIMEOUT_MS; ON_CHANGE(ARG) runs after a shard went
 * up or down. Fatal when out of memory. */
struct shard_probe *shard_probe_new(struct event_base *base, struct rpc_client *const *shards,
    size_t n, const Ph__Envelope *probe, unsigned timeout_ms,
    void (*on_change)(void *arg), void *arg);
/* shard_probe_free - stop probing (pending probes are cancelled); NULL is fine */
void shard_probe_free(struct shard_probe *sp);
/* shard_probe_answered - SHARD answered real traffic: it is up */
void shard_probe_answered(struct shard_probe *sp, size_t shard);
/* shard_probe_up - how many shards are up now */
size_t shard_probe_up(const struct shard_probe *sp);
/* shard_probe_all_seen - every shard answered at least once */
bool shard_probe_all_seen(const struct shard_probe *sp);

#endif
