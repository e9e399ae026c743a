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
#define PHCTL_ID_MAX 256	/* an object id or name */
#define PHCTL_PEM_MAX 16384	/* a key file */

struct phctl_cmd;

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

/* phctl_limits_usage - "limits usage TENANT" (phctl_limits.c) */
int phctl_limits_usage(struct phctl *ph, const struct phctl_cmd *cmd,
    struct phctl_args *a);

/* output (phctl_out.c): MSGS are messages of one type */
void phctl_print_table(const ProtobufCMessage **msgs, size_t n, const char *first_col,
    const char **first_vals);
void phctl_print_json(const ProtobufCMessage **msgs, size_t n, bool array);
/* phctl_json_msg - a jansson object (json_t *) with every non-bytes field */
void *phctl_json_msg(const ProtobufCMessage *m);
void phctl_json_dump(void *json);

/* phctl_apikey_add - "apikey add USER_ID PEM_FILE" (phctl_apikey.c) */
int phctl_apikey_add(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a);

/* shared by the command files (phctl_cmd.c) */
/* phctl_list_objects - PolicyList of KIND in TENANT ("" = all); *REP msg_free'd by the caller */
int phctl_list_objects(struct phctl *ph, const char *kind, const char *tenant,
    Ph__Envelope **rep);
/* phctl_find_named - the id of the KIND object whose id or name is ARG */
int phctl_find_named(struct phctl *ph, const char *kind, const char *tenant,
    const char *arg, char out[PHCTL_ID_MAX]);
/* phctl_policy_req - ENV as a request with body case C (BODY: any member of
 * the oneof, which share their storage) */
void phctl_policy_req(Ph__Envelope *env, Ph__Envelope__BodyCase c, void *body);
/* phctl_put - PolicyPut O; 0 with the ok reply in *REP (msg_free'd by the
 * caller), or -1 with a message on stderr */
int phctl_put(struct phctl *ph, Ph__PolicyObject *o, Ph__Envelope **rep);
/* phctl_read_file - the whole of PATH (at most LEN - 1 bytes) into BUF,
 * NUL-terminated; -1 with a message on stderr */
int phctl_read_file(const char *path, char *buf, size_t len);
/* phctl_put_object - PolicyPut O and print what was stored; an exit code */
int phctl_put_object(struct phctl *ph, Ph__PolicyObject *o);
/* phctl_put_new - phctl_put_object of a new object BODY of kind C */
int phctl_put_new(struct phctl *ph, Ph__PolicyObject__ObjCase c, void *body);
void phctl_print_objects(struct phctl *ph, Ph__PolicyObject **objs, size_t n, bool array);
/* phctl_cmd_list / phctl_cmd_del - "<noun> list [TENANT]" and "<noun> del ID"
 * with the noun as the kind */
int phctl_cmd_list(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a);
int phctl_cmd_del(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a);

/* email domains and DKIM keys (phctl_dkim.c) */
int phctl_domain_add(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a);
int phctl_dkim_add(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a);
int phctl_dkim_list(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a);
int phctl_dkim_show(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a);
int phctl_dkim_check(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a);

/* phctl_opt - the last value of --NAME, or NULL; phctl_opt_u64 - as a
 * number into *OUT (unchanged when absent), -1 when bad (phctl_cmd.c) */
const char *phctl_opt(const struct phctl_args *a, const char *name);
int phctl_opt_u64(const struct phctl_args *a, const char *name, uint64_t *out);

/* header log and queue maintenance commands (phctl_log.c) */
int phctl_cmd_log(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a);
int phctl_cmd_queue_compact(struct phctl *ph, const struct phctl_cmd *cmd,
    struct phctl_args *a);

/* phctl_err - "phctl: message" on stderr; returns PHCTL_EXIT_ERR */
int phctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
