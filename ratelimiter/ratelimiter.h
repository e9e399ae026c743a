/*
 * ratelimiter - ph-ratelimiter's entry point: one shard of the shared
 * sliding-window counters (see rl_service.c for the wire protocol).
 */
#ifndef PH_RATELIMITER_H
#define PH_RATELIMITER_H

struct proc;

/* ratelimiter_run - set up, serve until stopped, clean up; the exit code */
int ratelimiter_run(struct proc *p);

#endif
