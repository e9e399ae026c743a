/*
 * serve_gate - may a frontend (ph-smtpd, ph-httpd) serve its public
 * listeners? One rule for both:
 *
 *   - the policy replica is loaded (a snapshot was applied; once loaded it
 *     stays usable while ph-control is away: it is the last state ph-control
 *     confirmed, and every change goes through ph-control anyway);
 *   - at least one queue shard answers (queue_client_watch: probed every
 *     second, down when a probe goes unanswered within [*] queue_timeout or
 *     cannot be sent);
 *   - every ratelimiter shard has answered once since the start (a key always
 *     maps to the same shard, so each is needed; a ratelimiter that stops
 *     answering later is met with the documented per-key choice, e.g. 451
 *     Server error, not with a closed gate).
 *
 * The gate opens when all three hold and closes when the replica or every
 * queue shard is lost. At its first opening the frontend's public listeners
 * are opened and READY is reported (proc.h); later closings and openings are
 * logged, and the frontend asks serve_gate_open for each new connection or
 * request. /health/ready (proc_status) follows the gate.
 */
#ifndef PH_SERVE_GATE_H
#define PH_SERVE_GATE_H

#include <stdbool.h>

struct policy;
struct proc;
struct queue_client;
struct rl_client;
struct serve_gate;

/* serve_gate_new - watch the three peers of frontend P (takes over
 * policy_on_change, starts the queue and ratelimiter probes, sets P's
 * status); LISTEN(ARG) opens the public listeners at the first opening,
 * unless P is stopping by then. Fatal when out of memory. Free it after the
 * peers: their callbacks point at it. */
struct serve_gate *serve_gate_new(struct proc *p, struct policy *policy,
    struct queue_client *queue, struct rl_client *rl, void (*listen)(void *arg), void *arg);
void serve_gate_free(struct serve_gate *g);
/* serve_gate_open - the rule holds now; else *WHY (may be NULL) says what is
 * missing ("policy replica not loaded", "no queue shard answering",
 * "ratelimiter not reached") */
bool serve_gate_open(const struct serve_gate *g, const char **why);

#endif
