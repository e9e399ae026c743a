/*
 * relay_throttle - outbound per-destination throttles, shared by every relay
 * through ph-ratelimiter: at most [relay] destination_rate messages and
 * destination_connections_rate new connections per destination_window
 * (default 60s) to one destination (relay_dest_name: the domain for MX
 * delivery, "[host]:port" for a static route), keys
 * "dest:<destination>:msgs" and ":conns" (ratelimit.h).
 *
 * A task whose token is refused stays in its destination's queue (it is not
 * a failure and the queue shard hears nothing); the destination is pumped
 * again when the refused token's retry_after_ms has passed. Only a task that
 * would then have waited in the relay longer than [relay]
 * destination_hold_max goes back to its shard, deferred ("4.7.0 destination
 * rate limit reached, retry later"), so that no task outlives its lease. No answer from
 * the ratelimiter lets the message or connection through (fail open, ratelimit.h).
 */
#ifndef PH_RELAY_THROTTLE_H
#define PH_RELAY_THROTTLE_H

#include <stdbool.h>
#include "relay.h"

struct relay_dest;

enum relay_throttle_kind { THROTTLE_MSG, THROTTLE_CONN };

/* relay_throttle_new - NULL when both rates are 0 (off); fatal on bad
 * [ratelimit] config or out of memory */
struct relay_throttle *relay_throttle_new(struct relay *r);
void relay_throttle_free(struct relay_throttle *th);
/* relay_throttle_permit - may D start one more KIND now? True when that
 * throttle is off or a token is in hand (used up by this call). Otherwise a
 * token is asked for (one request at a time per destination and kind) and
 * D is pumped (relay_dest_pump) once it arrives or its retry time passed. */
bool relay_throttle_permit(struct relay_throttle *th, struct relay_dest *d,
    enum relay_throttle_kind kind);
/* relay_throttle_waiting - D's message token was refused and its retry
 * time has not come: opening connections for D now would be wasted */
bool relay_throttle_waiting(struct relay_throttle *th, const struct relay_dest *d);
/* relay_throttle_hold - while D's message token is refused, tasks that
 * would wait past destination_hold_max go back to their shard, deferred */
void relay_throttle_hold(struct relay_throttle *th, struct relay_dest *d);
/* relay_throttle_forget - D is being freed: drop its requests and timers */
void relay_throttle_forget(struct relay_throttle *th, const struct relay_dest *d);

#endif
