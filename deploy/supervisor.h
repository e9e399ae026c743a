/*
 * supervisor - the one-machine master process (like Postfix's master):
 * starts every posthaste process from one config, restarts a process that
 * dies (with back-off), stops them all on SIGTERM/SIGINT.
 */
#ifndef PH_SUPERVISOR_H
#define PH_SUPERVISOR_H

struct ph_config;

/* supervisor_init - data dir layout and the first-start TLS certificate */
int supervisor_init(struct ph_config *cfg);

/* supervisor_run - runs until a stop signal; returns the exit code */
int supervisor_run(struct ph_config *cfg, const char *bin_dir);

#endif
