/*
 * load_stats - counting and reporting of a ph-load run.
 *
 * DIAGNOSTICS: none; the summary is the program's output.
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "log.h"
#include "load_stats.h"

/* the percentiles of the summary, as printed and as JSON keys */
static const struct {
	double q;
	const char *name;
} percentiles[] = {
	{ 50, "p50" }, { 90, "p90" }, { 99, "p99" }, { 99.9, "p99.9" },
};
#define NPERCENTILES (sizeof(percentiles) / sizeof(percentiles[0]))

/* load_stats_new - see load_stats.h */
struct load_stats *load_stats_new(uint64_t now_us)
{
	struct load_stats *st = calloc(1, sizeof(*st));

	if (!st)
		fatal_nomem("ph-load stats");
	st->start_us = st->end_us = st->progress_us = now_us;
	return st;
}

/* load_stats_free - release ST */
void load_stats_free(struct load_stats *st)
{
	free(st);
}

/* since - B - A, 0 when B is earlier (clocks of two events) */
static uint64_t since(uint64_t a, uint64_t b)
{
	return b > a ? b - a : 0;
}

/* load_stats_message - one verdict */
void load_stats_message(struct load_stats *st, const struct load_ticket *t,
    const struct load_result *r)
{
	st->counts[r->cls]++;
	st->rcpt_refused += r->rcpt_refused;
	if (!st->first_reply[r->cls][0])
		snprintf(st->first_reply[r->cls], sizeof(st->first_reply[r->cls]),
		    "%s", r->text);
	if (r->has_dot_reply)
		load_hist_record(&st->end_of_data, since(r->dot_us, r->end_us));
	if (r->cls != LOAD_CLASS_LOST)
		load_hist_record(&st->message, since(t->start_us, r->end_us));
	if (r->end_us > st->end_us)
		st->end_us = r->end_us;
}

/* load_stats_failure - one connection failure */
void load_stats_failure(struct load_stats *st, const char *why)
{
	st->conn_failures++;
	if (!st->first_failure[0])
		snprintf(st->first_failure, sizeof(st->first_failure), "%s", why);
}

/* load_stats_done - verdicts so far */
uint64_t load_stats_done(const struct load_stats *st)
{
	uint64_t n = 0;
	int c;

	for (c = 0; c < LOAD_CLASS_COUNT; c++)
		n += st->counts[c];
	return n;
}

/* answered - verdicts that are replies */
static uint64_t answered(const struct load_stats *st)
{
	return load_stats_done(st) - st->counts[LOAD_CLASS_LOST];
}

/* elapsed_s - from the start to the last verdict */
static double elapsed_s(const struct load_stats *st)
{
	return (double)since(st->start_us, st->end_us) / 1e6;
}

/* per_second - N over the run's time */
static double per_second(const struct load_stats *st, uint64_t n)
{
	double s = elapsed_s(st);

	return s > 0 ? (double)n / s : 0.0;
}

/* load_stats_progress - the live line */
void load_stats_progress(struct load_stats *st, uint64_t now_us, char *out,
    size_t len)
{
	uint64_t done = load_stats_done(st);
	double dt = (double)since(st->progress_us, now_us) / 1e6;
	double rate = dt > 0 ? (double)(done - st->progress_done) / dt : 0.0;

	snprintf(out, len, "sent %llu  2xx %llu  4xx %llu  5xx %llu  lost %llu  %.0f msg/s",
	    (unsigned long long)st->started,
	    (unsigned long long)st->counts[LOAD_CLASS_2XX],
	    (unsigned long long)st->counts[LOAD_CLASS_4XX],
	    (unsigned long long)st->counts[LOAD_CLASS_5XX],
	    (unsigned long long)st->counts[LOAD_CLASS_LOST], rate);
	st->progress_done = done;
	st->progress_us = now_us;
}

/* ms - microseconds as milliseconds */
static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

/* print_latency - one histogram's line */
static void print_latency(FILE *f, const char *what, const struct load_hist *h)
{
	size_t i;

	fprintf(f, "  %s (ms, %llu):", what, (unsigned long long)h->count);
	for (i = 0; i < NPERCENTILES; i++)
		fprintf(f, " %s %.3f", percentiles[i].name,
		    ms(load_hist_percentile(h, percentiles[i].q)));
	fprintf(f, " max %.3f mean %.3f\n", ms(h->max), load_hist_mean(h) / 1000.0);
}

/* load_stats_print - the human summary */
void load_stats_print(const struct load_stats *st, const struct load_opts *o,
    FILE *f)
{
	int c;

	fprintf(f, "ph-load: %llu messages in %.3f s: %.1f msg/s (2xx %.1f/s)%s%s\n",
	    (unsigned long long)answered(st), elapsed_s(st),
	    per_second(st, answered(st)), per_second(st, st->counts[LOAD_CLASS_2XX]),
	    st->interrupted ? ", interrupted" : "",
	    st->gave_up ? ", gave up after connection failures" : "");
	fprintf(f, "  replies: 2xx %llu, 4xx %llu, 5xx %llu, lost %llu; recipients refused %llu\n",
	    (unsigned long long)st->counts[LOAD_CLASS_2XX],
	    (unsigned long long)st->counts[LOAD_CLASS_4XX],
	    (unsigned long long)st->counts[LOAD_CLASS_5XX],
	    (unsigned long long)st->counts[LOAD_CLASS_LOST],
	    (unsigned long long)st->rcpt_refused);
	fprintf(f, "  connections: %llu set up, %llu failed\n",
	    (unsigned long long)st->connections, (unsigned long long)st->conn_failures);
	print_latency(f, "end of DATA -> reply", &st->end_of_data);
	print_latency(f, o->rate > 0 ? "scheduled start -> reply" : "MAIL -> reply",
	    &st->message);
	for (c = LOAD_CLASS_4XX; c <= LOAD_CLASS_5XX; c++)
		if (st->first_reply[c][0])
			fprintf(f, "  first %s: %s\n", load_class_name(c), st->first_reply[c]);
	if (st->first_failure[0])
		fprintf(f, "  first connection failure: %s\n", st->first_failure);
}

/* json_latency - one histogram as {"count", "p50", ..., "max", "mean"} */
static json_t *json_latency(const struct load_hist *h)
{
	json_t *j = json_object();
	size_t i;

	json_object_set_new(j, "count", json_integer((json_int_t)h->count));
	for (i = 0; i < NPERCENTILES; i++)
		json_object_set_new(j, percentiles[i].name,
		    json_real(ms(load_hist_percentile(h, percentiles[i].q))));
	json_object_set_new(j, "max", json_real(ms(h->max)));
	json_object_set_new(j, "mean", json_real(load_hist_mean(h) / 1000.0));
	return j;
}

/* json_replies - counts and first replies by class */
static void json_replies(json_t *root, const struct load_stats *st)
{
	json_t *counts = json_object(), *first = json_object();
	int c;

	for (c = 0; c < LOAD_CLASS_COUNT; c++) {
		json_object_set_new(counts, load_class_name(c),
		    json_integer((json_int_t)st->counts[c]));
		if (st->first_reply[c][0] && c != LOAD_CLASS_LOST)
			json_object_set_new(first, load_class_name(c),
			    json_string(st->first_reply[c]));
	}
	json_object_set_new(root, "replies", counts);
	json_object_set_new(root, "first_reply", first);
}

/* json_run - what was asked for */
static void json_run(json_t *root, const struct load_opts *o)
{
	char server[LOAD_HOST_MAX + 16];

	if (strchr(o->host, ':'))	/* an IPv6 literal */
		snprintf(server, sizeof(server), "[%s]:%u", o->host, o->port);
	else
		snprintf(server, sizeof(server), "%s:%u", o->host, o->port);
	json_object_set_new(root, "server", json_string(server));
	json_object_set_new(root, "sessions", json_integer(o->sessions));
	json_object_set_new(root, "messages_requested",
	    o->messages ? json_integer((json_int_t)o->messages) : json_null());
	json_object_set_new(root, "rate_target", o->rate > 0 ? json_real(o->rate) : json_null());
	json_object_set_new(root, "tls", json_string(o->tls ? "implicit" :
	    o->starttls ? "starttls" : "none"));
}

/* load_stats_json - the summary object */
char *load_stats_json(const struct load_stats *st, const struct load_opts *o)
{
	json_t *root = json_object(), *conns = json_object(), *lat = json_object();
	char *text;

	json_run(root, o);
	json_object_set_new(root, "started", json_integer((json_int_t)st->started));
	json_object_set_new(root, "messages", json_integer((json_int_t)answered(st)));
	json_object_set_new(root, "elapsed_s", json_real(elapsed_s(st)));
	json_object_set_new(root, "per_second", json_real(per_second(st, answered(st))));
	json_object_set_new(root, "accepted_per_second",
	    json_real(per_second(st, st->counts[LOAD_CLASS_2XX])));
	json_replies(root, st);
	json_object_set_new(root, "recipients_refused", json_integer((json_int_t)st->rcpt_refused));
	json_object_set_new(conns, "up", json_integer((json_int_t)st->connections));
	json_object_set_new(conns, "failed", json_integer((json_int_t)st->conn_failures));
	json_object_set_new(conns, "first_failure",
	    st->first_failure[0] ? json_string(st->first_failure) : json_null());
	json_object_set_new(root, "connections", conns);
	json_object_set_new(lat, "end_of_data", json_latency(&st->end_of_data));
	json_object_set_new(lat, "message", json_latency(&st->message));
	json_object_set_new(root, "latency_ms", lat);
	json_object_set_new(root, "interrupted", json_boolean(st->interrupted));
	json_object_set_new(root, "exit", json_integer(load_stats_exit_code(st)));
	text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(9));
	json_decref(root);
	return text;
}

/* load_stats_exit_code - see load_stats.h */
int load_stats_exit_code(const struct load_stats *st)
{
	if (st->conn_failures || st->gave_up || st->counts[LOAD_CLASS_LOST])
		return 2;
	if (st->counts[LOAD_CLASS_4XX] || st->counts[LOAD_CLASS_5XX])
		return 1;
	return 0;
}
