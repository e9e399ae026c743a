/*
 * serve_gate - the frontends' one rule for serving (see serve_gate.h).
 *
 * The gate is recomputed whenever one of its peers changes (a snapshot
 * applied, a shard up or down) and the owner is called when the result
 * differs from the last one it heard.
 *
 * DIAGNOSTICS: none here (the owner logs what it does with a change); out of
 * memory is fatal.
 */
#include <stdlib.h>

#include "log.h"
#include "policy.h"
#include "queue_client.h"
#include "rl_client.h"
#include "serve_gate.h"

struct serve_gate {
	struct policy *policy;
	struct queue_client *queue;
	struct rl_client *rl;
	serve_gate_cb cb;
	void *arg;
	bool open;		/* what the owner heard last */
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

/* gate_on_change - a peer changed: tell the owner when the gate did */
static void
gate_on_change(void *arg)
{
	struct serve_gate *g = arg;
	const char *why;
	bool open = serve_gate_open(g, &why);

	if (open == g->open)
		return;
	g->open = open;
	g->cb(g->arg, open, why);
}

/* serve_gate_new - hook into every peer */
struct serve_gate *
serve_gate_new(struct policy *policy, struct queue_client *queue, struct rl_client *rl,
    serve_gate_cb cb, void *arg)
{
	struct serve_gate *g = calloc(1, sizeof(*g));

	if (g == NULL)
		fatal_nomem(__func__);
	g->policy = policy;
	g->queue = queue;
	g->rl = rl;
	g->cb = cb;
	g->arg = arg;
	policy_on_change(policy, gate_on_change, g);
	queue_client_watch(queue, gate_on_change, g);
	rl_client_watch(rl, gate_on_change, g);
	return g;
}

/* serve_gate_free - after the peers were freed */
void
serve_gate_free(struct serve_gate *g)
{
	free(g);
}
