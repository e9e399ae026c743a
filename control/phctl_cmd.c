/*
 * phctl_cmd - the commands of phctl: a table of {noun, verb, arguments,
 * options, handler}; each handler builds one request (or a few: name
 * look-ups), sends it with phctl_policy/phctl_call and prints the result.
 *
 * TENANT arguments may be an id or a name; --compartment takes an id or a
 * name within the tenant.
 *
 * DIAGNOSTICS: usage errors exit 2, refusals and unreachable services exit 1,
 * both with a message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "control_obj.h"
#include "phctl.h"

struct phctl_cmd {
	const char *noun, *verb;
	int min_pos, max_pos;
	const char *opts;	/* allowed --options, comma separated */
	int (*fn)(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a);
	const char *usage;
};

/* opt_get - the last value of --NAME, or NULL */
static const char *opt_get(const struct phctl_args *a, const char *name)
{
	const char *v = NULL;

	for (int i = 0; i < a->nopt; i++)
		if (strcmp(a->opt_name[i], name) == 0)
			v = a->opt_val[i];
	return v;
}

/* opt_u64 - --NAME as a number into *OUT (unchanged when absent); -1 if bad */
static int opt_u64(const struct phctl_args *a, const char *name, uint64_t *out)
{
	const char *v = opt_get(a, name);
	char *end;

	if (v == NULL)
		return 0;
	*out = strtoull(v, &end, 10);
	if (v[0] == '\0' || v[0] == '-' || *end != '\0')
		return phctl_err("--%s needs a number", name), -1;
	return 0;
}

/* phctl_opt / phctl_opt_u64 - the option readers for other command files */
const char *phctl_opt(const struct phctl_args *a, const char *name)
{
	return opt_get(a, name);
}

int phctl_opt_u64(const struct phctl_args *a, const char *name, uint64_t *out)
{
	return opt_u64(a, name, out);
}

/* phctl_read_file - the whole of PATH (at most LEN - 1 bytes) into BUF,
 * NUL-terminated */
int phctl_read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return phctl_err("cannot read %s", path), -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

/* phctl_policy_req - an envelope for one control request */
void phctl_policy_req(Ph__Envelope *env, Ph__Envelope__BodyCase c, void *body)
{
	msg_init(env);
	env->body_case = c;
	env->policy_put = body;	/* every body member shares the oneof's storage */
}

/* phctl_list_objects - PolicyList for KIND and TENANT ("" = all) */
int phctl_list_objects(struct phctl *ph, const char *kind, const char *tenant,
    Ph__Envelope **rep)
{
	Ph__Envelope env;
	Ph__PolicyList pl = PH__POLICY_LIST__INIT;

	pl.kind = (char *)kind;
	pl.tenant_id = (char *)tenant;
	phctl_policy_req(&env, PH__ENVELOPE__BODY_POLICY_LIST, &pl);
	return phctl_policy(ph, &env, rep);
}

/* phctl_print_objects - OBJS as a table or JSON (an array when ARRAY) */
void phctl_print_objects(struct phctl *ph, Ph__PolicyObject **objs, size_t n, bool array)
{
	const ProtobufCMessage **msgs = calloc(n + 1, sizeof(*msgs));

	if (msgs == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		msgs[i] = control_obj_msg(objs[i]);
	if (ph->json)
		phctl_print_json(msgs, n, array);
	else
		phctl_print_table(msgs, n, NULL, NULL);
	free(msgs);
}

/* phctl_find_named - the id of the KIND object whose id or name is ARG (in TENANT) */
int phctl_find_named(struct phctl *ph, const char *kind, const char *tenant,
    const char *arg, char out[PHCTL_ID_MAX])
{
	Ph__Envelope *rep;
	int rc = -1;

	if (phctl_list_objects(ph, kind, tenant, &rep) == -1)
		return -1;
	for (size_t i = 0; i < rep->policy_reply->n_objects && rc == -1; i++) {
		const ProtobufCMessage *m = control_obj_msg(rep->policy_reply->objects[i]);
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "name");
		const char *id = control_obj_id(rep->policy_reply->objects[i]);
		const char *name = f ? *(char *const *)((const char *)m + f->offset) : "";
		if (strcmp(id, arg) == 0 || strcmp(name, arg) == 0) {
			snprintf(out, PHCTL_ID_MAX, "%s", id);
			rc = 0;
		}
	}
	msg_free(rep);
	if (rc == -1)
		phctl_err("no such %s: %s", kind, arg);
	return rc;
}

/* phctl_put - PolicyPut O; *REP is the ok reply */
int phctl_put(struct phctl *ph, Ph__PolicyObject *o, Ph__Envelope **rep)
{
	Ph__Envelope env;
	Ph__PolicyPut put = PH__POLICY_PUT__INIT;

	put.object = o;
	phctl_policy_req(&env, PH__ENVELOPE__BODY_POLICY_PUT, &put);
	return phctl_policy(ph, &env, rep);
}

/* phctl_put_object - PolicyPut O and print what was stored */
int phctl_put_object(struct phctl *ph, Ph__PolicyObject *o)
{
	Ph__Envelope *rep;

	if (phctl_put(ph, o, &rep) == -1)
		return PHCTL_EXIT_ERR;
	phctl_print_objects(ph, rep->policy_reply->objects, rep->policy_reply->n_objects, false);
	msg_free(rep);
	return PHCTL_EXIT_OK;
}

/* cmd_kind - the policy kind of a command's noun */
static const char *cmd_kind(const struct phctl_cmd *cmd)
{
	return strcmp(cmd->noun, "domain") == 0 ? "emaildomain" : cmd->noun;
}

/* phctl_put_new - PolicyPut the new object BODY of kind C and print it */
int phctl_put_new(struct phctl *ph, Ph__PolicyObject__ObjCase c, void *body)
{
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;

	o.obj_case = c;
	o.tenant = body;	/* every member of the oneof shares its storage */
	return phctl_put_object(ph, &o);
}

/* phctl_cmd_list - "<noun> list [TENANT]" */
int phctl_cmd_list(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a)
{
	char tenant[PHCTL_ID_MAX] = "";
	Ph__Envelope *rep;

	if (a->npos > 0 && phctl_find_named(ph, "tenant", "", a->pos[0], tenant) == -1)
		return PHCTL_EXIT_ERR;
	if (phctl_list_objects(ph, cmd_kind(cmd), tenant, &rep) == -1)
		return PHCTL_EXIT_ERR;
	phctl_print_objects(ph, rep->policy_reply->objects, rep->policy_reply->n_objects, true);
	msg_free(rep);
	return PHCTL_EXIT_OK;
}

/* phctl_cmd_del - "<noun> del ID" (a tenant may also be named; an email
 * domain's DKIM keys go with it) */
int phctl_cmd_del(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a)
{
	Ph__Envelope env, *rep;
	Ph__PolicyDelete del = PH__POLICY_DELETE__INIT;
	char id[PHCTL_ID_MAX];

	snprintf(id, sizeof(id), "%s", a->pos[0]);
	if (strcmp(cmd->noun, "tenant") == 0 &&
	    phctl_find_named(ph, "tenant", "", a->pos[0], id) == -1)
		return PHCTL_EXIT_ERR;
	del.kind = (char *)cmd_kind(cmd);
	del.id = id;
	phctl_policy_req(&env, PH__ENVELOPE__BODY_POLICY_DELETE, &del);
	if (phctl_policy(ph, &env, &rep) == -1)
		return PHCTL_EXIT_ERR;
	msg_free(rep);
	if (ph->json) {
		json_t *o = json_object();
		json_object_set_new(o, "deleted", json_string(id));
		phctl_json_dump(o);
	} else {
		printf("deleted %s\n", id);
	}
	return PHCTL_EXIT_OK;
}

/* cmd_tenant_add - "tenant add NAME [--per-minute N] [--per-day N]" */
static int cmd_tenant_add(struct phctl *ph, const struct phctl_cmd *cmd,
    struct phctl_args *a)
{
	Ph__Tenant t = PH__TENANT__INIT;

	t.name = a->pos[0];
	if (opt_u64(a, "per-minute", &t.per_minute) == -1 ||
	    opt_u64(a, "per-day", &t.per_day) == -1)
		return PHCTL_EXIT_USAGE;
	return phctl_put_new(ph, PH__POLICY_OBJECT__OBJ_TENANT, &t);
}

/* cmd_limits_set - "limits set TENANT --per-minute N --per-day N" */
static int cmd_limits_set(struct phctl *ph, const struct phctl_cmd *cmd,
    struct phctl_args *a)
{
	Ph__Envelope *rep;
	Ph__PolicyObject *found = NULL;
	int rc;

	if (opt_get(a, "per-minute") == NULL && opt_get(a, "per-day") == NULL)
		return phctl_err("limits set needs --per-minute and/or --per-day"),
		    PHCTL_EXIT_USAGE;
	if (phctl_list_objects(ph, "tenant", "", &rep) == -1)
		return PHCTL_EXIT_ERR;
	for (size_t i = 0; i < rep->policy_reply->n_objects; i++) {
		Ph__Tenant *t = rep->policy_reply->objects[i]->tenant;
		if (strcmp(t->id, a->pos[0]) == 0 || strcmp(t->name, a->pos[0]) == 0)
			found = rep->policy_reply->objects[i];
	}
	if (found == NULL)
		rc = phctl_err("no such tenant: %s", a->pos[0]);
	else if (opt_u64(a, "per-minute", &found->tenant->per_minute) == -1 ||
	    opt_u64(a, "per-day", &found->tenant->per_day) == -1)
		rc = PHCTL_EXIT_USAGE;
	else
		rc = phctl_put_object(ph, found);
	msg_free(rep);
	return rc;
}

/* cmd_compartment_add - "compartment add TENANT NAME" */
static int cmd_compartment_add(struct phctl *ph, const struct phctl_cmd *cmd,
    struct phctl_args *a)
{
	char tenant[PHCTL_ID_MAX];
	Ph__Compartment c = PH__COMPARTMENT__INIT;

	if (phctl_find_named(ph, "tenant", "", a->pos[0], tenant) == -1)
		return PHCTL_EXIT_ERR;
	c.tenant_id = tenant;
	c.name = a->pos[1];
	return phctl_put_new(ph, PH__POLICY_OBJECT__OBJ_COMPARTMENT, &c);
}

/* cmd_user_add - "user add TENANT NAME [--compartment ID]..." */
static int cmd_user_add(struct phctl *ph, const struct phctl_cmd *cmd,
    struct phctl_args *a)
{
	char tenant[PHCTL_ID_MAX], cids[PHCTL_MAX_OPTS][PHCTL_ID_MAX];
	char *cptr[PHCTL_MAX_OPTS];
	Ph__User u = PH__USER__INIT;

	if (phctl_find_named(ph, "tenant", "", a->pos[0], tenant) == -1)
		return PHCTL_EXIT_ERR;
	for (int i = 0; i < a->nopt; i++) {
		if (strcmp(a->opt_name[i], "compartment") != 0)
			continue;
		if (phctl_find_named(ph, "compartment", tenant, a->opt_val[i],
		    cids[u.n_compartment_ids]) == -1)
			return PHCTL_EXIT_ERR;
		cptr[u.n_compartment_ids] = cids[u.n_compartment_ids];
		u.n_compartment_ids++;
	}
	u.tenant_id = tenant;
	u.name = a->pos[1];
	u.compartment_ids = cptr;
	return phctl_put_new(ph, PH__POLICY_OBJECT__OBJ_USER, &u);
}

/* cmd_credential_create - "credential create USER_ID": the password, once */
static int cmd_credential_create(struct phctl *ph, const struct phctl_cmd *cmd,
    struct phctl_args *a)
{
	Ph__Envelope env, *rep;
	Ph__CredentialCreate cc = PH__CREDENTIAL_CREATE__INIT;
	const Ph__Credential *k;

	cc.user_id = a->pos[0];
	phctl_policy_req(&env, PH__ENVELOPE__BODY_CREDENTIAL_CREATE, &cc);
	if (phctl_policy(ph, &env, &rep) == -1)
		return PHCTL_EXIT_ERR;
	if (rep->policy_reply->n_objects != 1) {
		msg_free(rep);
		return phctl_err("unexpected reply");
	}
	k = rep->policy_reply->objects[0]->credential;
	if (ph->json) {
		json_t *o = phctl_json_msg(&k->base);
		json_object_set_new(o, "password", json_string(rep->policy_reply->password));
		phctl_json_dump(o);
	} else {
		printf("id        %s\nusername  %s\npassword  %s\n", k->id, k->username,
		    rep->policy_reply->password);
	}
	msg_free(rep);
	return PHCTL_EXIT_OK;
}

/* cmd_sender_add - "sender add TENANT ADDRESS [--compartment ID]" */
static int cmd_sender_add(struct phctl *ph, const struct phctl_cmd *cmd,
    struct phctl_args *a)
{
	char tenant[PHCTL_ID_MAX], comp[PHCTL_ID_MAX] = "";
	const char *copt = opt_get(a, "compartment");
	Ph__Sender s = PH__SENDER__INIT;

	if (phctl_find_named(ph, "tenant", "", a->pos[0], tenant) == -1 ||
	    (copt != NULL && phctl_find_named(ph, "compartment", tenant, copt, comp) == -1))
		return PHCTL_EXIT_ERR;
	s.tenant_id = tenant;
	s.compartment_id = comp;	/* "" = the tenant's default (server side) */
	s.address = a->pos[1];
	return phctl_put_new(ph, PH__POLICY_OBJECT__OBJ_SENDER, &s);
}

/* cmd_suppression_add - "suppression add TENANT ADDRESS [--reason R]" */
static int cmd_suppression_add(struct phctl *ph, const struct phctl_cmd *cmd,
    struct phctl_args *a)
{
	char tenant[PHCTL_ID_MAX];
	const char *reason = opt_get(a, "reason");
	Ph__Suppression x = PH__SUPPRESSION__INIT;

	if (phctl_find_named(ph, "tenant", "", a->pos[0], tenant) == -1)
		return PHCTL_EXIT_ERR;
	x.tenant_id = tenant;
	x.address = a->pos[1];
	if (reason != NULL)
		x.reason = (char *)reason;
	return phctl_put_new(ph, PH__POLICY_OBJECT__OBJ_SUPPRESSION, &x);
}

/* parse_hostport - "host:port" or "[v6]:port" */
static int parse_hostport(const char *arg, char *host, size_t len, uint32_t *port)
{
	const char *colon = strrchr(arg, ':');
	char *end;
	size_t hl;

	if (colon == NULL || colon == arg)
		return -1;
	*port = (uint32_t)strtoul(colon + 1, &end, 10);
	if (*end != '\0' || *port == 0 || *port > 65535)
		return -1;
	if (arg[0] == '[' && colon[-1] == ']')
		arg++, hl = (size_t)(colon - arg) - 1;
	else
		hl = (size_t)(colon - arg);
	if (hl == 0 || hl >= len)
		return -1;
	memcpy(host, arg, hl);
	host[hl] = '\0';
	return 0;
}

/* cmd_route_add - "route add DOMAIN HOST:PORT" */
static int cmd_route_add(struct phctl *ph, const struct phctl_cmd *cmd,
    struct phctl_args *a)
{
	char host[PHCTL_ID_MAX];
	Ph__Route r = PH__ROUTE__INIT;

	if (parse_hostport(a->pos[1], host, sizeof(host), &r.port) == -1)
		return phctl_err("bad HOST:PORT: %s", a->pos[1]), PHCTL_EXIT_USAGE;
	r.domain = a->pos[0];
	r.host = host;
	return phctl_put_new(ph, PH__POLICY_OBJECT__OBJ_ROUTE, &r);
}

/* stats_add - TOTAL += S, field by field (every QueueStats field is uint64) */
static void stats_add(Ph__QueueStats *total, const Ph__QueueStats *s)
{
	const ProtobufCMessageDescriptor *d = &ph__queue_stats__descriptor;

	for (unsigned i = 0; i < d->n_fields; i++)
		if (d->fields[i].type == PROTOBUF_C_TYPE_UINT64)
			*(uint64_t *)((char *)total + d->fields[i].offset) +=
			    *(const uint64_t *)((const char *)s + d->fields[i].offset);
}

/* stats_print - per-shard rows and the total */
static void stats_print(struct phctl *ph, Ph__Envelope **reps, size_t n,
    Ph__QueueStats *total)
{
	const ProtobufCMessage *msgs[n + 1];
	const char *names[n + 1];

	for (size_t i = 0; i < n; i++) {
		msgs[i] = &reps[i]->queue_stats->base;
		names[i] = ph->ep.queue.v[i];
	}
	msgs[n] = &total->base;
	names[n] = "total";
	if (!ph->json) {
		phctl_print_table(msgs, n + 1, "shard", names);
		return;
	}
	json_t *o = json_object(), *shards = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *s = phctl_json_msg(msgs[i]);
		json_object_set_new(s, "endpoint", json_string(names[i]));
		json_array_append_new(shards, s);
	}
	json_object_set_new(o, "shards", shards);
	json_object_set_new(o, "total", phctl_json_msg(&total->base));
	phctl_json_dump(o);
}

/* cmd_queue_stats - QueueStatsRequest to every shard */
static int cmd_queue_stats(struct phctl *ph, const struct phctl_cmd *cmd,
    struct phctl_args *a)
{
	size_t n = ph->ep.queue.n, got = 0;
	Ph__Envelope *reps[n + 1];
	Ph__QueueStats total = PH__QUEUE_STATS__INIT;
	int rc = PHCTL_EXIT_OK;

	for (size_t i = 0; i < n && rc == PHCTL_EXIT_OK; i++) {
		Ph__Envelope env;
		Ph__QueueStatsRequest q = PH__QUEUE_STATS_REQUEST__INIT;
		phctl_policy_req(&env, PH__ENVELOPE__BODY_QUEUE_STATS_REQUEST, &q);
		if (phctl_call(ph, ph->ep.queue.v[i], &env, &reps[i]) == -1)
			rc = PHCTL_EXIT_ERR;
		else if (got++, reps[i]->body_case != PH__ENVELOPE__BODY_QUEUE_STATS)
			rc = phctl_err("shard %s refused the request", ph->ep.queue.v[i]);
		else
			stats_add(&total, reps[i]->queue_stats);
	}
	if (rc == PHCTL_EXIT_OK)
		stats_print(ph, reps, n, &total);
	for (size_t i = 0; i < got; i++)
		msg_free(reps[i]);
	return rc;
}

/* CMD_LIST_DEL - "<noun> list" (at most MAXPOS arguments) and "<noun> del ID" */
#define CMD_LIST_DEL(noun, maxpos, usage) \
	{ noun, "list", 0, maxpos, "", phctl_cmd_list, usage }, \
	{ noun, "del", 1, 1, "", phctl_cmd_del, "ID" }

static const struct phctl_cmd cmds[] = {
	{ "tenant", "add", 1, 1, "per-minute,per-day", cmd_tenant_add,
	    "NAME [--per-minute N] [--per-day N]" },
	CMD_LIST_DEL("tenant", 0, ""),
	{ "compartment", "add", 2, 2, "", cmd_compartment_add, "TENANT NAME" },
	CMD_LIST_DEL("compartment", 1, "[TENANT]"),
	{ "user", "add", 2, 2, "compartment", cmd_user_add,
	    "TENANT NAME [--compartment ID]..." },
	CMD_LIST_DEL("user", 1, "[TENANT]"),
	{ "credential", "create", 1, 1, "", cmd_credential_create, "USER_ID" },
	CMD_LIST_DEL("credential", 1, "[TENANT]"),
	{ "sender", "add", 2, 2, "compartment", cmd_sender_add,
	    "TENANT ADDRESS [--compartment ID]" },
	CMD_LIST_DEL("sender", 1, "[TENANT]"),
	{ "suppression", "add", 2, 2, "reason", cmd_suppression_add,
	    "TENANT ADDRESS [--reason R]" },
	CMD_LIST_DEL("suppression", 1, "[TENANT]"),
	{ "route", "add", 2, 2, "", cmd_route_add, "DOMAIN HOST:PORT" },
	CMD_LIST_DEL("route", 0, ""),
	{ "apikey", "add", 2, 2, "", phctl_apikey_add, "USER_ID PEM_FILE" },
	CMD_LIST_DEL("apikey", 1, "[TENANT]"),
	{ "domain", "add", 2, 2, "", phctl_domain_add, "TENANT NAME" },
	CMD_LIST_DEL("domain", 1, "[TENANT]"),
	{ "dkim", "add", 2, 2, "key-file", phctl_dkim_add,
	    "DOMAIN_ID_OR_NAME SELECTOR [--key-file PEM]" },
	{ "dkim", "list", 0, 1, "", phctl_dkim_list, "[DOMAIN]" },
	{ "dkim", "show", 1, 1, "", phctl_dkim_show, "ID" },
	{ "dkim", "check", 1, 1, "", phctl_dkim_check, "ID" },
	{ "dkim", "del", 1, 1, "", phctl_cmd_del, "ID" },
	{ "queue", "stats", 0, 0, "", cmd_queue_stats, "" },
	{ "queue", "compact", 0, 0, "", phctl_cmd_queue_compact, "" },
	{ "log", "", 0, 0, "message-id,queue-id,sender,recipient,limit", phctl_cmd_log,
	    "[--message-id ID] [--queue-id ID] [--sender A] [--recipient A] [--limit N]" },
	{ "limits", "set", 1, 1, "per-minute,per-day", cmd_limits_set,
	    "TENANT --per-minute N --per-day N" },
	{ "limits", "usage", 1, 1, "", phctl_limits_usage, "TENANT" },
};

/* phctl_usage_commands - every command on stderr */
void phctl_usage_commands(void)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "  phctl %s %s %s\n", cmds[i].noun, cmds[i].verb, cmds[i].usage);
}

/* opt_allowed - NAME is in the comma separated LIST */
static int opt_allowed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; *p; p += strcspn(p, ","), p += *p == ',') {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/* parse_args - split ARGV into positionals and the command's --options */
static int parse_args(const struct phctl_cmd *cmd, int argc, char **argv,
    struct phctl_args *a)
{
	for (int i = 0; i < argc; i++) {
		const char *name = argv[i] + 2;
		if (strncmp(argv[i], "--", 2) != 0) {
			a->pos[a->npos++] = argv[i];
			continue;
		}
		if (!opt_allowed(cmd->opts, name) || i + 1 >= argc || a->nopt == PHCTL_MAX_OPTS)
			return phctl_err("%s %s: bad option %s", cmd->noun, cmd->verb, argv[i]), -1;
		a->opt_name[a->nopt] = name;
		a->opt_val[a->nopt++] = argv[++i];
	}
	if (a->npos < cmd->min_pos || a->npos > cmd->max_pos)
		return phctl_err("usage: phctl %s %s %s", cmd->noun, cmd->verb, cmd->usage), -1;
	return 0;
}

/* phctl_run - find the command, parse its arguments, run it */
int phctl_run(struct phctl *ph, int argc, char **argv)
{
	char *pos[argc + 1];
	struct phctl_args a = { .pos = pos };

	if (argc < 1)
		return PHCTL_EXIT_USAGE;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int skip = cmds[i].verb[0] != '\0' ? 2 : 1;	/* "" = noun only */
		if (strcmp(cmds[i].noun, argv[0]) != 0 || argc < skip ||
		    (skip == 2 && strcmp(cmds[i].verb, argv[1]) != 0))
			continue;
		if (parse_args(&cmds[i], argc - skip, argv + skip, &a) == -1)
			return PHCTL_EXIT_USAGE;
		return cmds[i].fn(ph, &cmds[i], &a);
	}
	if (argc < 2)
		return PHCTL_EXIT_USAGE;
	phctl_err("unknown command: %s %s", argv[0], argv[1]);
	phctl_usage_commands();
	return PHCTL_EXIT_USAGE;
}
