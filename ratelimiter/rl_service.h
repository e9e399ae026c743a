/*
 * rl_service - the ratelimiter's request handling: RateCheckRequest in,
 * RateCheckReply out (proto/ratelimit.proto), and the periodic flush of the
 * counters to the store.
 */
#ifndef PH_RL_SERVICE_H
#define PH_RL_SERVICE_H

#include <stdint.h>
#include "ratelimit.pb-c.h"
#include "rl_table.h"
#include "rl_store.h"

struct event_base;
struct rl_service;

/* rl_service_decide - apply REQ to T at NOW_MS and fill REP (REP->used points
 * into USED, RL_MAX_LIMITS entries). 0, or -1 with *why for a bad request. */
int rl_service_decide(struct rl_table *t, const Ph__RateCheckRequest *req,
    uint64_t now_ms, Ph__RateCheckReply *rep, uint64_t *used, const char **why);

/* rl_service_new - serve T at ENDPOINT; flush to STORE (may be NULL: memory
 * only) every FLUSH_MS. NULL when the endpoint cannot be bound. */
struct rl_service *rl_service_new(struct event_base *base, const char *endpoint,
    struct rl_table *t, struct rl_store *store, unsigned flush_ms);
/* rl_service_stop - final flush (a proc_on_stop hook: returns 0) */
int rl_service_stop(void *arg);
void rl_service_free(struct rl_service *svc);

#endif
