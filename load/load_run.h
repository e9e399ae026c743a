/*
 * load_run - one ph-load run: resolve the server, prepare the message and
 * TLS, open --sessions connections, hand out messages (as fast as the
 * sessions go, or on an open-loop schedule with --rate), reconnect
 * sessions the server closed, stop on the message count, --duration or
 * SIGINT/SIGTERM, and print the summary.
 *
 * Stopping: no message is started after the stop; messages in flight get
 * their verdicts (each wait bounded by --timeout), then every session
 * QUITs. A second SIGINT drops the connections at once (their messages
 * count as lost). The run gives up (exit 2) when max(10, 2 x sessions)
 * connection attempts in a row fail without one session set up between
 * and none is set up now.
 */
#ifndef PH_LOAD_RUN_H
#define PH_LOAD_RUN_H

#include "load_opts.h"

/* load_run - run the test O describes; the exit code (load_stats.h) */
int load_run(const struct load_opts *o);

#endif
