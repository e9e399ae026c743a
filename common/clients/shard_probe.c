/*
 * shard_probe - up or down per shard (see shard_probe.h).
 *
 * One timer ticks every SHARD_PROBE_DOWN_MS; at each tick every shard whose
 * next probe is due and that has none in flight is asked. The probe is a
 * copy of the owner's envelope (rpc_call writes the request id and the
 * deadline into what it sends).
 *
 * DIAGNOSTICS: a shard going down is a warning, coming back is info; out of
 * memory is fatal (process structures, log.h).
 */
#include <stdlib.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "shard_probe.h"

struct probe_slot {
	struct shard_probe *sp;
	struct rpc_client *rpc;
	bool pending;		/* a probe is in flight */
	bool up;
	bool seen;		/* answered at least once */
	uint64_t due_ms;	/* clock_mono_ms of the next probe */
};

struct shard_probe {
	const Ph__Envelope *probe;
	unsigned timeout_ms;
	struct event *tick;
	void (*on_change)(void *arg);
	void *arg;
	size_t n;
	struct probe_slot slot[];
};

/* slot_set - SLOT is UP now; the owner hears of a change */
static void
slot_set(struct probe_slot *slot, bool up)
{
	struct shard_probe *sp = slot->sp;

	slot->due_ms = clock_mono_ms() + (up ? SHARD_PROBE_UP_MS : SHARD_PROBE_DOWN_MS);
	if (up)
		slot->seen = true;
	if (slot->up == up)
		return;
	slot->up = up;
	if (up)
		log_info("peer %s answers", rpc_client_endpoint(slot->rpc));
	else
		log_warnx("peer %s does not answer", rpc_client_endpoint(slot->rpc));
	sp->on_change(sp->arg);
}

/* probe_on_reply - any reply is an answer; NULL is a timeout */
static void
probe_on_reply(void *arg, Ph__Envelope *reply)
{
	struct probe_slot *slot = arg;

	slot->pending = false;
	slot_set(slot, reply != NULL);
}

/* probe_send - one probe to SLOT; a probe that cannot be sent is a down shard */
static void
probe_send(struct probe_slot *slot)
{
	Ph__Envelope env = *slot->sp->probe;

	if (rpc_call(slot->rpc, &env, slot->sp->timeout_ms, probe_on_reply, slot) == 0)
		slot->pending = true;
	else
		slot_set(slot, false);
}

/* probe_on_tick - every shard whose probe is due */
static void
probe_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct shard_probe *sp = arg;
	uint64_t now = clock_mono_ms();

	for (size_t i = 0; i < sp->n; i++)
		if (!sp->slot[i].pending && now >= sp->slot[i].due_ms)
			probe_send(&sp->slot[i]);
}

/* shard_probe_new - probing starts at the next tick */
struct shard_probe *
shard_probe_new(struct event_base *base, struct rpc_client *const *shards, size_t n,
    const Ph__Envelope *probe, unsigned timeout_ms, void (*on_change)(void *arg), void *arg)
{
	struct shard_probe *sp = calloc(1, sizeof(*sp) + n * sizeof(sp->slot[0]));
	struct timeval tv = { 0, SHARD_PROBE_DOWN_MS * 1000 };

	if (sp == NULL)
		fatal_nomem(__func__);
	sp->probe = probe;
	sp->timeout_ms = timeout_ms;
	sp->on_change = on_change;
	sp->arg = arg;
	sp->n = n;
	for (size_t i = 0; i < n; i++) {
		sp->slot[i].sp = sp;
		sp->slot[i].rpc = shards[i];
	}
	sp->tick = event_new(base, -1, EV_PERSIST, probe_on_tick, sp);
	if (sp->tick == NULL || event_add(sp->tick, &tv) < 0)
		fatal_nomem(__func__);
	return sp;
}

/* shard_probe_free - cancel what is in flight, stop the timer */
void
shard_probe_free(struct shard_probe *sp)
{
	if (sp == NULL)
		return;
	for (size_t i = 0; i < sp->n; i++)
		rpc_cancel(sp->slot[i].rpc, &sp->slot[i]);
	event_free(sp->tick);
	free(sp);
}

/* shard_probe_answered - real traffic came back from SHARD */
void
shard_probe_answered(struct shard_probe *sp, size_t shard)
{
	if (sp != NULL && shard < sp->n)
		slot_set(&sp->slot[shard], true);
}

/* shard_probe_up - shards up now */
size_t
shard_probe_up(const struct shard_probe *sp)
{
	size_t up = 0;

	for (size_t i = 0; i < sp->n; i++)
		up += sp->slot[i].up;
	return up;
}

/* shard_probe_all_seen - each shard answered once */
bool
shard_probe_all_seen(const struct shard_probe *sp)
{
	for (size_t i = 0; i < sp->n; i++)
		if (!sp->slot[i].seen)
			return false;
	return true;
}
