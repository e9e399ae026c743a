/*
 * phctl - the admin CLI: synchronous requests to ph-control and the queue
 * shards, text tables or JSON on stdout.
 */
#ifndef PH_PHCTL_H
#define PH_PHCTL_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"
#include "msg.h"

#define PHCTL_EXIT_OK 0
#define PHCTL_EXIT_ERR 1
#define PHCTL_EXIT_USAGE 2
#define PHCTL_MAX_OPTS 16

struct phctl {
	struct ph_config *cfg;
	struct ph_endpoints ep;
	bool json;
	unsigned timeout_ms;
};

/* phctl_args - a command's positional arguments and --options */
struct phctl_args {
	char **pos;
	int npos;
	const char *opt_name[PHCTL_MAX_OPTS];
	const char *opt_val[PHCTL_MAX_OPTS];
	int nopt;
};

/* phctl_run - NOUN VERB ARGS...; returns the exit code (phctl_cmd.c) */
int phctl_run(struct phctl *ph, int argc, char **argv);
void phctl_usage_commands(void);

/* phctl_call - send REQ to ENDPOINT and wait up to the timeout for the reply.
 * *REP is msg_free'd by the caller. 0, or -1 with a message on stderr
 * (phctl_net.c) */
int phctl_call(struct phctl *ph, const char *endpoint, Ph__Envelope *req,
    Ph__Envelope **rep);
/* phctl_policy - phctl_call to ph-control expecting an ok PolicyReply */
int phctl_policy(struct phctl *ph, Ph__Envelope *req, Ph__Envelope **rep);

/* output (phctl_out.c): MSGS are messages of one type */
void phctl_print_table(const ProtobufCMessage **msgs, size_t n, const char *first_col,
    const char **first_vals);
void phctl_print_json(const ProtobufCMessage **msgs, size_t n, bool array);
/* phctl_json_msg - a jansson object (json_t *) with every non-bytes field */
void *phctl_json_msg(const ProtobufCMessage *m);
void phctl_json_dump(void *json);

/* phctl_err - "phctl: message" on stderr; returns PHCTL_EXIT_ERR */
int phctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
