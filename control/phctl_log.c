/*
 * phctl_log - the header log and queue maintenance commands of phctl:
 *
 *   phctl log [--message-id ID] [--queue-id ID] [--sender A] [--recipient A]
 *             [--limit N]
 *       asks every queue shard (endpoints.queue) for its matching header
 *       records, merges them newest first and prints at most N (default
 *       100): a block per message with one line per attempt, or with --json
 *       an array of records (recipients and their attempts nested).
 *   phctl queue compact
 *       asks every shard to flush and compact its database.
 *
 * DIAGNOSTICS: a shard that does not answer or refuses fails the command
 * (exit 1) after the others were asked.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "msg.h"
#include "phctl.h"

#define LOG_LIMIT_DEFAULT 100

struct log_set {
	Ph__HeaderRecord **v;	/* borrowed from the replies */
	size_t n;
	Ph__Envelope **reps;
	size_t nreps;
};

/* fmt_time - unix MS as "2006-01-02T15:04:05Z", "-" for 0 */
static const char *fmt_time(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0)
		return "-";
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* print_record - one message as a text block */
static void print_record(const Ph__HeaderRecord *r)
{
	char t[32];

	printf("queue_id     %s  (%s)\nmessage_id   %s\nreceived     %s  size %" PRIu64
	    "  source %s  dkim_selector %s\nfrom         %s\nenvelope     <%s>\n"
	    "to           %s\ncc           %s\nsubject      %s\ndate         %s\n",
	    r->queue_id, r->shard, r->message_id, fmt_time(r->received_ms, t, sizeof(t)),
	    r->size, r->source, r->dkim_selector[0] ? r->dkim_selector : "-",
	    r->header_from, r->mail_from, r->to, r->cc, r->subject, r->date);
	for (size_t i = 0; i < r->n_rcpts; i++) {
		const Ph__HeaderRecipient *rc = r->rcpts[i];
		printf("  rcpt <%s>  %s %s\n", rc->address, rc->outcome, rc->final_reply);
		for (size_t k = 0; k < rc->n_attempts; k++) {
			const Ph__HeaderAttempt *a = rc->attempts[k];
			printf("    %s  %-9s  %s  %s  %s %s\n", fmt_time(a->time_ms, t, sizeof(t)),
			    msg_outcome_name(a->outcome), a->reply,
			    a->remote_host[0] ? a->remote_host : "-",
			    a->tls_version[0] ? a->tls_version : "plain", a->tls_cipher);
		}
	}
	printf("\n");
}

/* record_json - a record with its recipients and attempts nested */
static json_t *record_json(const Ph__HeaderRecord *r)
{
	json_t *o = phctl_json_msg(&r->base), *rcpts = json_array();

	for (size_t i = 0; i < r->n_rcpts; i++) {
		json_t *ro = phctl_json_msg(&r->rcpts[i]->base), *at = json_array();
		for (size_t k = 0; k < r->rcpts[i]->n_attempts; k++) {
			json_t *a = phctl_json_msg(&r->rcpts[i]->attempts[k]->base);
			json_object_set_new(a, "outcome",
			    json_string(msg_outcome_name(r->rcpts[i]->attempts[k]->outcome)));
			json_array_append_new(at, a);
		}
		json_object_set_new(ro, "attempts", at);
		json_array_append_new(rcpts, ro);
	}
	json_object_set_new(o, "rcpts", rcpts);
	return o;
}

/* newest_first - qsort order of records */
static int newest_first(const void *a, const void *b)
{
	const Ph__HeaderRecord *x = *(Ph__HeaderRecord *const *)a;
	const Ph__HeaderRecord *y = *(Ph__HeaderRecord *const *)b;

	return x->received_ms < y->received_ms ? 1 : x->received_ms > y->received_ms ? -1 : 0;
}

/* set_add - keep the records of one shard's reply REP (taken) */
static int set_add(struct log_set *s, Ph__Envelope *rep)
{
	const Ph__HeaderLogReply *r = rep->header_log_reply;
	Ph__HeaderRecord **v = realloc(s->v, (s->n + r->n_records + 1) * sizeof(*v));

	s->reps[s->nreps++] = rep;
	if (v == NULL)
		return -1;
	s->v = v;
	for (size_t i = 0; i < r->n_records; i++)
		s->v[s->n++] = r->records[i];
	return 0;
}

/* ask_shard - QUERY to shard I; its reply into S */
static int ask_shard(struct phctl *ph, size_t i, Ph__HeaderLogQuery *query,
    struct log_set *s)
{
	Ph__Envelope env, *rep;
	const char *ep = ph->ep.queue.v[i];

	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_HEADER_LOG_QUERY;
	env.header_log_query = query;
	if (phctl_call(ph, ep, &env, &rep) == -1)
		return -1;
	if (rep->body_case != PH__ENVELOPE__BODY_HEADER_LOG_REPLY ||
	    rep->header_log_reply->status == NULL || !rep->header_log_reply->status->ok) {
		msg_free(rep);
		return phctl_err("shard %s refused the query", ep), -1;
	}
	return set_add(s, rep);
}

/* print_set - the newest LIMIT records of S */
static void print_set(struct phctl *ph, struct log_set *s, size_t limit)
{
	json_t *a;

	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), newest_first);
	if (s->n > limit)
		s->n = limit;
	if (!ph->json) {
		for (size_t i = 0; i < s->n; i++)
			print_record(s->v[i]);
		if (s->n == 0)
			printf("no records\n");
		return;
	}
	a = json_array();
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, record_json(s->v[i]));
	phctl_json_dump(a);
}

/* phctl_cmd_log - "log [filters]": every shard, merged */
int phctl_cmd_log(struct phctl *ph, const struct phctl_cmd *cmd, struct phctl_args *a)
{
	Ph__HeaderLogQuery query = PH__HEADER_LOG_QUERY__INIT;
	Ph__Envelope *reps[ph->ep.queue.n + 1];
	struct log_set s = { NULL, 0, reps, 0 };
	uint64_t limit = LOG_LIMIT_DEFAULT;
	int rc = PHCTL_EXIT_OK;
	const char *v;

	if (phctl_opt_u64(a, "limit", &limit) == -1 || limit == 0 || limit > UINT32_MAX)
		return phctl_err("--limit needs a number from 1"), PHCTL_EXIT_USAGE;
	query.limit = (uint32_t)limit;
	if ((v = phctl_opt(a, "message-id")) != NULL)
		query.message_id = (char *)v;
	if ((v = phctl_opt(a, "queue-id")) != NULL)
		query.queue_id = (char *)v;
	if ((v = phctl_opt(a, "sender")) != NULL)
		query.sender = (char *)v;
	if ((v = phctl_opt(a, "recipient")) != NULL)
		query.recipient = (char *)v;
	for (size_t i = 0; i < ph->ep.queue.n; i++)
		if (ask_shard(ph, i, &query, &s) == -1)
			rc = PHCTL_EXIT_ERR;
	if (rc == PHCTL_EXIT_OK)
		print_set(ph, &s, (size_t)limit);
	for (size_t i = 0; i < s.nreps; i++)
		msg_free(s.reps[i]);
	free(s.v);
	return rc;
}

/* phctl_cmd_queue_compact - "queue compact": every shard */
int phctl_cmd_queue_compact(struct phctl *ph, const struct phctl_cmd *cmd,
    struct phctl_args *a)
{
	int rc = PHCTL_EXIT_OK;

	for (size_t i = 0; i < ph->ep.queue.n; i++) {
		Ph__Envelope env, *rep;
		Ph__QueueCompact qc = PH__QUEUE_COMPACT__INIT;
		const char *ep = ph->ep.queue.v[i];
		msg_init(&env);
		env.body_case = PH__ENVELOPE__BODY_QUEUE_COMPACT;
		env.queue_compact = &qc;
		if (phctl_call(ph, ep, &env, &rep) == -1) {
			rc = PHCTL_EXIT_ERR;
			continue;
		}
		if (rep->body_case != PH__ENVELOPE__BODY_STATUS || !rep->status->ok)
			rc = phctl_err("shard %s: compaction failed", ep);
		else if (!ph->json)
			printf("%s compacted\n", ep);
		msg_free(rep);
	}
	if (ph->json && rc == PHCTL_EXIT_OK)
		phctl_json_dump(json_pack("{s:b}", "compacted", 1));
	return rc;
}
