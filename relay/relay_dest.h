/*
 * relay_dest - destinations: tasks grouped by next hop (a domain delivered by
 * MX, or a static route's host:port), each with a FIFO of waiting tasks, its
 * resolved addresses and a pool of SMTP connections (at most
 * [relay] max_connections_per_destination). A task waits in its
 * destination's queue until a connection is free; an idle connection takes
 * the next task at once, new connections are opened only while more tasks
 * wait than connections are being set up.
 */
#ifndef PH_RELAY_DEST_H
#define PH_RELAY_DEST_H

#include <stdbool.h>
#include "relay.h"
#include "relay_tls.h"

struct relay_dest;
struct relay_session;

struct relay_dests *relay_dests_new(struct relay *r);
/* relay_dests_free - close every connection, drop waiting tasks unreported */
void relay_dests_free(struct relay_dests *ds);
/* relay_dests_submit - route T to its destination and queue it */
void relay_dests_submit(struct relay_dests *ds, struct relay_task *t);
/* relay_dest_pump - give waiting tasks to idle connections, open more */
void relay_dest_pump(struct relay_dest *d);
/* relay_dest_defer_stale - waiting tasks that arrived more than MAX_MS
 * before UNTIL_MONO go back to their shard, deferred with REPLY */
void relay_dest_defer_stale(struct relay_dest *d, uint64_t until_mono, uint64_t max_ms,
    const char *reply);
/* relay_dests_sweep - forget destinations unused for a while */
void relay_dests_sweep(struct relay_dests *ds);

/* ---- for sessions ---- */
const char *relay_dest_name(const struct relay_dest *d);
/* relay_dest_tls - the TLS policy level of D's connections */
enum relay_tls_level relay_dest_tls(const struct relay_dest *d);
/* relay_dest_feedback - a transaction ended: OK when the server gave a
 * definitive answer (2xx/5xx) for some recipient; not OK when it refused
 * the transaction as a whole (421, 4xx to MAIL FROM), REPLY saying why (a
 * failed attempt, relay_dest.c) */
void relay_dest_feedback(struct relay_dest *d, bool ok, const char *reply);
/* relay_dest_session_up - S finished its greeting: it is established */
void relay_dest_session_up(struct relay_dest *d, struct relay_session *s);
/* relay_dest_next - the next waiting task for idle session S, or NULL */
struct relay_task *relay_dest_next(struct relay_dest *d);
/* relay_dest_requeue - T goes back to the head of the queue (its connection
 * died before the message was sent) */
void relay_dest_requeue(struct relay_dest *d, struct relay_task *t);
/* relay_dest_session_gone - S closed; ERROR (may be NULL) says why it could
 * not be established. S must not be used by the dest afterwards. */
void relay_dest_session_gone(struct relay_dest *d, struct relay_session *s,
    const char *error);

#endif
