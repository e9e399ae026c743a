/*
 * serve_gate - the frontends' one rule for serving (see serve_gate.h).
 *
 * The gate is recomputed whenever one of its peers changes (a snapshot
 * applied, a shard up or down); what differs from the last result is acted
 * on: the first opening opens the listeners and reports READY.
 *
 * DIAGNOSTICS: closing is a warning with the reason, opening again is info;
 * out of memory is fatal.
 */
#include <stdlib.h>

#include "log.h"
#include "policy.h"
#include "proc.h"
#include "queue_client.h"
#include "rl_client.h"
#include "serve_gate.h"

struct serve_gate {
	struct proc *proc;
	struct policy *policy;
	struct queue_client *queue;
	struct rl_client *rl;
	void (*listen)(void *arg);
	void *arg;
	bool open;		/* the last result acted on */
	bool listening;		/* the listeners are open, READY reported */
};

/* serve_gate_open - replica, a queue shard, every ratelimiter shard once */
bool
serve_gate_open(const struct serve_gate *g, const char **why)
{
	const char *missing = NULL;

	if (!policy_ready(g->policy))
		missing = "policy replica not loaded";
	else if (queue_client_shards_up(g->queue) == 0)
		missing = "no queue shard answering";
	else if (!rl_client_reached(g->rl))
		missing = "ratelimiter not reached";
	if (why != NULL)
		*why = missing;
	return missing == NULL;
}

/* gate_on_change - a peer changed: act on a change of the gate */
static void
gate_on_change(void *arg)
{
	struct serve_gate *g = arg;
	const char *why;
	bool open = serve_gate_open(g, &why);

	if (open == g->open)
		return;
	g->open = open;
	if (!open)
		log_warnx("not serving: %s", why);
	else if (g->listening)
		log_info("serving again");
	else if (!g->proc->stopping) {
		g->listen(g->arg);
		g->listening = true;
		proc_ready(g->proc);
	}
}

/* gate_status - /health/ready: open, and listening */
static void
gate_status(void *arg, struct health_status *st)
{
	struct serve_gate *g = arg;

	st->ready = serve_gate_open(g, &st->reason) && g->listening;
}

/* serve_gate_new - hook into every peer and into P's status */
struct serve_gate *
serve_gate_new(struct proc *p, struct policy *policy, struct queue_client *queue,
    struct rl_client *rl, void (*listen)(void *arg), void *arg)
{
	struct serve_gate *g = calloc(1, sizeof(*g));

	if (g == NULL)
		fatal_nomem(__func__);
	*g = (struct serve_gate){ .proc = p, .policy = policy, .queue = queue, .rl = rl,
	    .listen = listen, .arg = arg };
	policy_on_change(policy, gate_on_change, g);
	queue_client_watch(queue, gate_on_change, g);
	rl_client_watch(rl, gate_on_change, g);
	proc_set_status(p, gate_status, g);
	return g;
}

/* serve_gate_free - after the peers were freed */
void
serve_gate_free(struct serve_gate *g)
{
	free(g);
}
