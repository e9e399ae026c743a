/*
 * proc - what every posthaste process does before and after its own work:
 * parse "--config FILE --instance N", load the config and apply [global]
 * (log level), set up logging, the libevent base, signals (SIGTERM/SIGINT stop
 * the loop after the stop hooks ran; SIGPIPE ignored), report READY, run the
 * loop, clean up.
 *
 * READY: when the environment has PH_READY_FD=<fd>, proc_ready writes
 * "READY <name> <instance>\n" to that fd and closes it (the supervisor waits for it).
 * A process reports READY only once it can do its job: the frontends once
 * their listeners are open (serve_gate.h), the others once set up.
 *
 * Health: proc_status says whether the process is ready now (by default:
 * READY was reported; a process with a rule of its own sets it with
 * proc_set_status); never while it is stopping. proc_health opens the
 * [health] listener (health.h) answering from it; proc_run closes it.
 */
#ifndef PH_PROC_H
#define PH_PROC_H

#include <stdbool.h>

#include "config.h"
#include "health.h"

struct event_base;
struct health;

struct proc {
	const char *name;	/* "ph-queue" */
	int instance;		/* --instance, default 0 */
	struct ph_config *cfg;
	struct event_base *base;
	int stopping;		/* set once SIGTERM/SIGINT arrived */
	bool ready;		/* READY reported */
	health_status_fn status;	/* NULL: ready once READY was reported */
	void *status_arg;
	struct health *health;	/* the [health] listener, NULL when off */
};

/* proc_init - fatal on a bad command line or config */
void proc_init(struct proc *p, const char *name, int argc, char **argv);
/* proc_on_stop - run CB(arg) when a stop signal arrives, before the loop ends.
 * A hook may keep the loop alive briefly (e.g. to say 421 to clients); the loop
 * exits once all hooks ran and PH_STOP_GRACE_MS (default 2000) passed or
 * proc_stop_done was called by every hook that returned 1. */
void proc_on_stop(struct proc *p, int (*cb)(void *arg), void *arg);
void proc_stop_done(struct proc *p);
void proc_ready(struct proc *p);
/* proc_set_status - FN(ARG) decides /health/ready from now on */
void proc_set_status(struct proc *p, health_status_fn fn, void *arg);
/* proc_status - ready now? (not while stopping) */
void proc_status(struct proc *p, struct health_status *st);
/* proc_health - open the [health] listener (fatal when it cannot be bound) */
void proc_health(struct proc *p);
/* proc_run - dispatch the loop; returns the exit code for main */
int proc_run(struct proc *p);
/* proc_data_dirs - the data dir and its run/ and log/, fatal on failure */
void proc_data_dirs(const struct ph_config *cfg);
/* proc_endpoint - the Nth entry of a CFG_LIST of endpoints, fatal if missing */
const char *proc_endpoint(const struct strvec *endpoints, int n, const char *what);

#endif
