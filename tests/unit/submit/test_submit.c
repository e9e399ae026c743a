/*
 * test_submit - the submission pipeline on its own: the order of its steps
 * (which refusal wins when several apply), the outcome and its SMTP form,
 * the EnqueueRequest it builds, the Message-ID it adds, DKIM signing on the
 * real worker pool (after the ratelimiter, before the enqueue), the
 * accepted-log records, the same message over both channels, and
 * cancellation. The ratelimiter and queue clients are fakes (--wrap): their
 * callbacks run "later", when the test completes them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "fake_peers.h"
#include "log.h"
#include "policy.h"
#include "submit.h"
#include "submit_buf.h"

#define TENANT "ocid1.tenancy.oc1..tenant"
#define USER "ocid1.user.oc1..user"
#define ID "0123456789abcdef0123456789abcdef"

/* what DONE got */
static struct {
	int done;
	struct submit_result res;	/* its pointers are dangling after DONE */
	char queue_id[64], message_id[256], address[256];
	char status[512];		/* submit_status, during DONE */
} got;

/* on_done - the pipeline's one callback: keep a copy of the result */
static void
on_done(void *arg, const struct submit_result *r)
{
	got.done++;
	got.res = *r;
	snprintf(got.queue_id, sizeof(got.queue_id), "%s", r->queue_id);
	snprintf(got.message_id, sizeof(got.message_id), "%s", r->message_id);
	snprintf(got.address, sizeof(got.address), "%s", r->address);
	submit_status(r, got.status, sizeof(got.status));
}

/* ---- fixture ---- */
struct fixture {
	struct event_base *base;
	struct policy *policy;
	struct submit_service *svc;
	struct submit_buf msg;
	struct submit_rcpt rcpts[4];
	char logdir[64];
};

/* an ACTIVE key for @d.example (a test key: openssl genpkey -algorithm ed25519) */
static char ed25519_pem[] = "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIKy5JrT8FxYYTweBFjZIr2LWwCVgjca7j2rXizLjo4K3\n"
    "-----END PRIVATE KEY-----\n";
static char logdir[] = "/tmp/test_submit.XXXXXX";	/* the event logs */

/* OBJ - policy object O (evaluated once) of case C pointing at V */
#define OBJ(o, field, c, v) \
	do { Ph__PolicyObject *o_ = &(o); o_->obj_case = (c); o_->field = (v); } while (0)

/* fixture_policy - tenant (77 per minute), a user of compartment c1, the
 * approved senders s@x.example, @b.example, @d.example (signed) and
 * @bad.example (a key that cannot sign), one suppressed address */
static struct policy *
fixture_policy(void)
{
	Ph__PolicySnapshot snap = PH__POLICY_SNAPSHOT__INIT;
	Ph__PolicyObject o[12];
	Ph__PolicyObject *objs[12];
	Ph__Tenant t = PH__TENANT__INIT;
	Ph__User u = PH__USER__INIT;
	Ph__Suppression sup = PH__SUPPRESSION__INIT;
	Ph__Sender s[4] = { PH__SENDER__INIT, PH__SENDER__INIT, PH__SENDER__INIT,
	    PH__SENDER__INIT };
	Ph__EmailDomain d[2] = { PH__EMAIL_DOMAIN__INIT, PH__EMAIL_DOMAIN__INIT };
	Ph__DkimKey k[2] = { PH__DKIM_KEY__INIT, PH__DKIM_KEY__INIT };
	static const char *addrs[4] = { "s@x.example", "@b.example", "@d.example",
	    "@bad.example" };
	char *comps[1] = { "c1" };
	size_t n = 0, i;

	for (i = 0; i < 12; i++) {
		ph__policy_object__init(&o[i]);
		objs[i] = &o[i];
	}
	t.id = TENANT;
	t.name = "default";
	t.per_minute = 77;
	OBJ(o[n++], tenant, PH__POLICY_OBJECT__OBJ_TENANT, &t);
	u.id = USER;
	u.tenant_id = TENANT;
	u.n_compartment_ids = 1;
	u.compartment_ids = comps;
	OBJ(o[n++], user, PH__POLICY_OBJECT__OBJ_USER, &u);
	sup.id = "sup1";
	sup.tenant_id = TENANT;
	sup.address = "sup@x.example";
	OBJ(o[n++], suppression, PH__POLICY_OBJECT__OBJ_SUPPRESSION, &sup);
	for (i = 0; i < 4; i++) {
		s[i].id = (char *)addrs[i];
		s[i].tenant_id = TENANT;
		s[i].compartment_id = "c1";
		s[i].address = (char *)addrs[i];
		OBJ(o[n++], sender, PH__POLICY_OBJECT__OBJ_SENDER, &s[i]);
	}
	for (i = 0; i < 2; i++) {
		d[i].id = i ? "dom-bad" : "dom-d";
		d[i].tenant_id = TENANT;
		d[i].name = i ? "bad.example" : "d.example";
		d[i].lifecycle_state = "ACTIVE";
		d[i].active_dkim_id = i ? "key-bad" : "key-d";
		OBJ(o[n++], email_domain, PH__POLICY_OBJECT__OBJ_EMAIL_DOMAIN, &d[i]);
		k[i].id = d[i].active_dkim_id;
		k[i].tenant_id = TENANT;
		k[i].email_domain_id = d[i].id;
		k[i].domain = d[i].name;
		k[i].selector = i ? "bad1" : "sel1";
		k[i].private_key_pem = i ? "not a key" : ed25519_pem;
		k[i].lifecycle_state = "ACTIVE";
		OBJ(o[n++], dkim_key, PH__POLICY_OBJECT__OBJ_DKIM_KEY, &k[i]);
	}
	snap.version = 1;
	snap.n_objects = n;
	snap.objects = objs;
	return policy_new_static(&snap);
}

/* group_setup - one key and one event-log directory for every test */
static int
group_setup(void **state)
{
	assert_non_null(mkdtemp(logdir));
	assert_int_equal(eventlog_open(logdir), 0);
	return 0;
}

/* group_teardown - the log directory goes */
static int
group_teardown(void **state)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/accepted.log", logdir);
	unlink(path);
	rmdir(logdir);
	return 0;
}

/* setup - a service on fakes, a real worker pool */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct submit_conf c = { 0 };

	f->base = event_base_new();
	f->policy = fixture_policy();
	assert_non_null(f->policy);
	c.policy = f->policy;
	c.rl = (struct rl_client *)&fake;
	c.queue = (struct queue_client *)&fake;
	c.hostname = "mx.test";
	c.max_message_size = 10000;
	c.default_per_minute = 18000;
	c.default_per_day = 50000;
	c.worker_threads = 1;
	f->svc = submit_service_xnew(f->base, &c);
	assert_non_null(submit_service_work(f->svc));
	fake_peers_reset();
	memset(&got, 0, sizeof(got));
	*state = f;
	return 0;
}

/* teardown - everything, pending work included */
static int
teardown(void **state)
{
	struct fixture *f = *state;

	submit_service_free(f->svc);
	policy_free(f->policy);
	event_base_free(f->base);
	submit_buf_free(&f->msg);
	for (size_t i = 0; i < 4; i++)
		free(f->rcpts[i].addr);
	fake_peers_reset();
	free(f);
	return 0;
}

/* request - CHANNEL's request for MSG from MAIL_FROM to the comma-separated
 * RCPTS (state NEW), by the trusted tenant or (USER) the user in COMP */
static struct submit_req
request(struct fixture *f, enum submit_channel channel, bool user, const char *comp,
    const char *mail_from, const char *rcpts, const char *msg)
{
	struct submit_req r = { 0 };
	char list[256], *save = NULL, *a;

	for (size_t i = 0; i < 4; i++) {
		free(f->rcpts[i].addr);
		f->rcpts[i].addr = NULL;
	}
	snprintf(list, sizeof(list), "%s", rcpts);
	for (a = strtok_r(list, ",", &save); a && r.nrcpt < 4; a = strtok_r(NULL, ",", &save)) {
		f->rcpts[r.nrcpt].addr = strdup(a);
		f->rcpts[r.nrcpt++].state = SUBMIT_RCPT_NEW;
	}
	assert_int_equal(submit_received(f->svc, &f->msg, channel == SUBMIT_SMTP ? "ESMTP" :
	    "HTTPS", channel == SUBMIT_SMTP ? "c.example" : "", "192.0.2.1", ID,
	    1700000000000ULL), 0);
	r.msg_start = f->msg.len;
	assert_int_equal(submit_buf_append(&f->msg, msg, strlen(msg)), 0);
	r.channel = channel;
	r.id = ID;
	r.who = (struct submit_ident){ TENANT, user ? USER : "", comp };
	r.mail_from = mail_from;
	r.rcpts = f->rcpts;
	r.msg = &f->msg;
	r.msg_size = f->msg.len;
	r.client_ip = "192.0.2.1";
	r.helo = channel == SUBMIT_SMTP ? "c.example" : "";
	r.received_ms = 1700000000000ULL;
	return r;
}

/* complete - answer pending calls and run the loop (the worker pool) until
 * the submission is done */
static void
complete(struct fixture *f)
{
	for (int i = 0; i < 1000 && !got.done; i++)
		if (!fake_peers_step())
			event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(got.done, 1);
}

/* run - start REQ and complete it */
static void
run(struct fixture *f, const struct submit_req *req)
{
	submit_start(f->svc, req, on_done, f);
	complete(f);
}

/* log_mark - the accepted log's size now */
static long
log_mark(void)
{
	char path[128];
	FILE *fp;
	long n;

	eventlog_flush();
	snprintf(path, sizeof(path), "%s/accepted.log", logdir);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fclose(fp);
	return n;
}

/* log_since - the data objects of the records written after MARK, as one
 * JSON array (decref'd by the caller) */
static json_t *
log_since(long mark)
{
	char path[128], line[4096];
	json_t *all = json_array(), *rec;
	FILE *fp;

	eventlog_flush();
	snprintf(path, sizeof(path), "%s/accepted.log", logdir);
	assert_non_null(fp = fopen(path, "r"));
	fseek(fp, mark, SEEK_SET);
	while (fgets(line, sizeof(line), fp) != NULL) {
		assert_non_null(rec = json_loads(line, 0, NULL));
		json_array_append(all, json_object_get(rec, "data"));
		json_decref(rec);
	}
	fclose(fp);
	return all;
}

/* assert_json - GOT equals the JSON text WANT */
static void
assert_json(json_t *got_json, const char *want)
{
	json_t *w = json_loads(want, 0, NULL);
	char *text = json_dumps(got_json, JSON_SORT_KEYS);

	assert_non_null(w);
	if (!json_equal(w, got_json))
		fail_msg("got %s", text);
	free(text);
	json_decref(w);
}

#define RECEIVED "Received: from c.example (192.0.2.1)\r\n\tby mx.test (posthaste) " \
    "with ESMTP id 0123456789abcdef;\r\n\t"
#define MSG "From: Sender <s@x.example>\r\nSubject: test\r\nMessage-ID: <m1@x.example>\r\n" \
    "\r\nbody\r\n"

/* test_accepted - the request to the queue, the result, the records */
static void
test_accepted(void **state)
{
	struct fixture *f = *state;
	struct submit_req r = request(f, SUBMIT_SMTP, false, "", "s@x.example",
	    "r@y.example,sup@x.example,r2@y.example", MSG);
	long mark = log_mark();
	const char *want;
	json_t *recs;

	run(f, &r);
	assert_int_equal(got.res.outcome, SUBMIT_ACCEPTED);
	assert_string_equal(got.queue_id, "Q1");
	assert_string_equal(got.message_id, "m1@x.example");
	assert_int_equal(fake.rl_cost, 2);
	assert_string_equal(fake.rl_shard, TENANT);
	assert_string_equal(fake.tenant, TENANT);
	assert_string_equal(fake.rl_key0, "tenant:" TENANT ":minute");
	assert_int_equal(fake.rl_limit0, 77);
	assert_string_equal(fake.source, "smtp");
	/* the header log keeps the field as written */
	assert_string_equal(fake.message_id, "<m1@x.example>");
	assert_string_equal(fake.header_from, "s@x.example");
	assert_string_equal(fake.subject, "test");
	assert_string_equal(fake.compartment, "c1");
	assert_string_equal(fake.selector, "");
	assert_string_equal(fake.rcpts, "r@y.example,r2@y.example");
	assert_int_equal(f->rcpts[1].state, SUBMIT_RCPT_SUPPRESSED);
	assert_true(strncmp(fake.body, RECEIVED, strlen(RECEIVED)) == 0);
	recs = log_since(mark);
	want = "[{\"recipient\": \"r@y.example\", \"sender\": \"s@x.example\", "
	    "\"action\": \"accept\", \"smtpStatus\": \"250 2.1.5 r@y.example and options Ok\", "
	    "\"messageId\": \"m1@x.example\", \"sourceAddress\": \"192.0.2.1\", "
	    "\"senderCompartmentId\": \"c1\"}, "
	    "{\"recipient\": \"sup@x.example\", \"sender\": \"s@x.example\", "
	    "\"action\": \"accept\", \"errorType\": \"Recipient suppressed\", "
	    "\"smtpStatus\": \"254 4.7.1 Suppression for user " TENANT " to sup@x.example\", "
	    "\"messageId\": \"m1@x.example\", \"sourceAddress\": \"192.0.2.1\", "
	    "\"senderCompartmentId\": \"c1\"}, "
	    "{\"recipient\": \"r2@y.example\", \"sender\": \"s@x.example\", "
	    "\"action\": \"accept\", \"smtpStatus\": \"250 2.1.5 r2@y.example and options Ok\", "
	    "\"messageId\": \"m1@x.example\", \"sourceAddress\": \"192.0.2.1\", "
	    "\"senderCompartmentId\": \"c1\"}]";
	assert_json(recs, want);
	json_decref(recs);
}

/* order_case - one submission and the outcome the first refusing step gives */
struct order_case {
	const char *name;
	bool user;			/* the user (else the trusted tenant) */
	const char *comp;		/* the request's compartment */
	const char *mail_from, *rcpts, *msg;
	bool nomem;
	size_t size;			/* 0: the message's */
	enum rl_status rl;
	int q_ok;
	enum submit_outcome want;
	const char *want_status;	/* submit_status */
	int want_rl_calls, want_enqueued;
};

static const struct order_case order_cases[] = {
	{ "nomem before too big", false, "", "t@x.example", "r@y.example", "junk\r\n", true,
	  20000, RL_ALLOWED, 1, SUBMIT_NOMEM, "451 Server error", 0, 0 },
	{ "too big before parse error and sender", false, "", "t@x.example", "r@y.example",
	  "junk\r\n", false, 20000, RL_ALLOWED, 1, SUBMIT_TOO_BIG, "552 Exceeds byte limit", 0, 0 },
	{ "parse error before sender", false, "", "t@x.example", "r@y.example",
	  "Subject: no from\r\n\r\nx\r\n", false, 0, RL_ALLOWED, 1, SUBMIT_PARSE_ERROR,
	  "554 Message parse error", 0, 0 },
	{ "envelope sender refused", false, "", "t@x.example", "r@y.example", MSG, false, 0,
	  RL_ALLOWED, 1, SUBMIT_NOT_AUTHORIZED,
	  "535 Authorization failed: address t@x.example not authorized", 0, 0 },
	{ "null sender", false, "", "", "r@y.example", MSG, false, 0, RL_ALLOWED, 1,
	  SUBMIT_NOT_AUTHORIZED, "535 Authorization failed: address <> not authorized", 0, 0 },
	{ "a header From mailbox refused", false, "", "s@x.example", "r@y.example",
	  "From: s@x.example, \"T\" <t@y.example>\r\n\r\nx\r\n", false, 0, RL_ALLOWED, 1,
	  SUBMIT_NOT_AUTHORIZED, "535 Authorization failed: address t@y.example not authorized",
	  0, 0 },
	{ "sender before suppression", false, "", "t@x.example", "sup@x.example", MSG, false, 0,
	  RL_ALLOWED, 1, SUBMIT_NOT_AUTHORIZED,
	  "535 Authorization failed: address t@x.example not authorized", 0, 0 },
	{ "all suppressed: no limits, no enqueue", false, "", "s@x.example", "Sup@X.example",
	  MSG, false, 0, RL_ALLOWED, 1, SUBMIT_ALL_SUPPRESSED, "", 0, 0 },
	{ "rate limited", false, "", "s@x.example", "r@y.example", MSG, false, 0, RL_DENIED, 1,
	  SUBMIT_RATE_LIMITED, "455 Maximum messages sent per minute reached : limit is 77", 1, 0 },
	{ "ratelimiter unavailable", false, "", "s@x.example", "r@y.example", MSG, false, 0,
	  RL_UNAVAILABLE, 1, SUBMIT_RL_UNAVAILABLE, "451 Server error", 1, 0 },
	{ "no shard stored it", false, "", "s@x.example", "r@y.example", MSG, false, 0,
	  RL_ALLOWED, 0, SUBMIT_STORAGE_FAILED, "452 System storage error", 1, 1 },
	{ "signing failed", false, "", "a@bad.example", "r@y.example",
	  "From: a@bad.example\r\n\r\nx\r\n", false, 0, RL_ALLOWED, 1, SUBMIT_SIGN_FAILED,
	  "451 Error in Processing", 1, 0 },
	{ "user in a compartment of theirs", true, "c1", "s@x.example", "r@y.example", MSG,
	  false, 0, RL_ALLOWED, 1, SUBMIT_ACCEPTED, "", 1, 1 },
	{ "user in a compartment not theirs", true, "c2", "s@x.example", "r@y.example", MSG,
	  false, 0, RL_ALLOWED, 1, SUBMIT_NOT_AUTHORIZED,
	  "535 Authorization failed: address s@x.example not authorized", 0, 0 },
};

/* test_order - table: got outcome X after N calls, want Y */
static void
test_order(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(order_cases) / sizeof(order_cases[0]); i++) {
		const struct order_case *c = &order_cases[i];
		struct submit_req r = request(f, SUBMIT_HTTPS, c->user, c->comp, c->mail_from,
		    c->rcpts, c->msg);

		r.msg_nomem = c->nomem;
		if (c->size)
			r.msg_size = c->size;
		fake.rl_calls = fake.enqueued = got.done = 0;
		fake.rl_result = (struct rl_result){ c->rl, c->rl == RL_DENIED ? 0 : -1,
		    c->rl == RL_DENIED ? 77 : 0, 0 };
		fake.q_ok = c->q_ok;
		run(f, &r);
		if (got.res.outcome != c->want || strcmp(got.status, c->want_status) != 0 ||
		    fake.rl_calls != c->want_rl_calls || fake.enqueued != c->want_enqueued)
			fail_msg("%s: got %s '%s' (%d ratelimiter, %d enqueue calls), want %s '%s' "
			    "(%d, %d)", c->name, submit_outcome_name(got.res.outcome), got.status,
			    fake.rl_calls, fake.enqueued, submit_outcome_name(c->want),
			    c->want_status, c->want_rl_calls, c->want_enqueued);
		if (c->want == SUBMIT_ALL_SUPPRESSED)
			assert_string_equal(got.queue_id, ID);
	}
}

/* test_message_id_added - none in the message: one after the Received: line,
 * ending in the hostname; the result and the request carry it bare */
static void
test_message_id_added(void **state)
{
	struct fixture *f = *state;
	struct submit_req r = request(f, SUBMIT_HTTPS, true, "c1", "s@x.example", "r@y.example",
	    "From: s@x.example\r\nSubject: no id\r\n\r\nbody\r\n");

	run(f, &r);
	assert_int_equal(got.res.outcome, SUBMIT_ACCEPTED);
	assert_string_equal(got.message_id, ID "@mx.test");
	assert_string_equal(fake.message_id, "<" ID "@mx.test>");
	assert_true(strncmp(fake.body, "Received: from [192.0.2.1]\r\n", 28) == 0);
	/* the Received: line, then the Message-ID, then the client's first field */
	assert_non_null(strstr(fake.body, "\r\nMessage-ID: <" ID "@mx.test>\r\n"
	    "From: s@x.example\r\n"));
	assert_string_equal(fake.source, "https");
}

/* test_dkim_signed - a domain with an ACTIVE key: signed on the worker pool
 * after the ratelimiter allowed it, the selector in the request */
static void
test_dkim_signed(void **state)
{
	struct fixture *f = *state;
	struct submit_req r = request(f, SUBMIT_SMTP, false, "", "alice@d.example",
	    "r@y.example", "From: Alice <alice@d.example>\r\nSubject: signed\r\n\r\nbody\r\n");

	fake.rl_result = (struct rl_result){ RL_DENIED, 0, 77, 0 };
	run(f, &r);
	assert_int_equal(got.res.outcome, SUBMIT_RATE_LIMITED);
	assert_null(memmem(f->msg.p, f->msg.len, "DKIM-Signature", 14));	/* never signed */
	r = request(f, SUBMIT_SMTP, false, "", "alice@d.example", "r@y.example",
	    "From: Alice <alice@d.example>\r\nSubject: signed\r\n\r\nbody\r\n");
	fake.rl_result = (struct rl_result){ RL_ALLOWED, -1, 0, 0 };
	got.done = 0;
	run(f, &r);
	assert_int_equal(got.res.outcome, SUBMIT_ACCEPTED);
	assert_string_equal(fake.selector, "sel1");
	assert_true(strncmp(fake.body, "DKIM-Signature: v=1; a=ed25519-sha256;", 38) == 0);
	assert_non_null(strstr(fake.body, " d=d.example;"));
	assert_non_null(strstr(fake.body, " s=sel1;"));
	assert_non_null(strstr(fake.body, "\r\nReceived: from c.example"));
}

/* capture - one channel's submission of the same message: its request to
 * the queue and its records */
struct capture {
	char source[16], message_id[256], header_from[256], subject[256], compartment[64];
	char mail_from[256], rcpts[512];
	char *body;
	json_t *recs;
};

/* submit_as - MSG over CHANNEL by the user, captured */
static void
submit_as(struct fixture *f, enum submit_channel channel, const char *msg, struct capture *c)
{
	struct submit_req r = request(f, channel, true, channel == SUBMIT_HTTPS ? "c1" : "",
	    "s@x.example", "r@y.example,sup@x.example", msg);
	long mark = log_mark();

	got.done = 0;
	run(f, &r);
	assert_int_equal(got.res.outcome, SUBMIT_ACCEPTED);
	memcpy(c->source, fake.source, sizeof(c->source));
	memcpy(c->message_id, fake.message_id, sizeof(c->message_id));
	memcpy(c->header_from, fake.header_from, sizeof(c->header_from));
	memcpy(c->subject, fake.subject, sizeof(c->subject));
	memcpy(c->compartment, fake.compartment, sizeof(c->compartment));
	memcpy(c->mail_from, fake.mail_from, sizeof(c->mail_from));
	memcpy(c->rcpts, fake.rcpts, sizeof(c->rcpts));
	c->body = strdup(fake.body);
	c->recs = log_since(mark);
}

/* test_same_both_channels - one message over SMTP and over HTTPS: the same
 * request to the queue (but its source) and the same records */
static void
test_same_both_channels(void **state)
{
	struct fixture *f = *state;
	const char *msg = "From: \"S\" <s@x.example>\r\nTo: r@y.example\r\nSubject: same\r\n"
	    "Message-ID: <same@x.example>\r\n\r\nbody\r\n";
	struct capture a = { 0 }, b = { 0 };

	submit_as(f, SUBMIT_SMTP, msg, &a);
	submit_as(f, SUBMIT_HTTPS, msg, &b);
	assert_string_equal(a.source, "smtp");
	assert_string_equal(b.source, "https");
	assert_string_equal(a.message_id, b.message_id);
	assert_string_equal(a.header_from, b.header_from);
	assert_string_equal(a.subject, b.subject);
	assert_string_equal(a.compartment, b.compartment);
	assert_string_equal(a.mail_from, b.mail_from);
	assert_string_equal(a.rcpts, b.rcpts);
	assert_string_equal(strstr(a.body, "From:"), strstr(b.body, "From:"));
	assert_true(json_equal(a.recs, b.recs));
	assert_int_equal(json_array_size(a.recs), 2);
	free(a.body);
	free(b.body);
	json_decref(a.recs);
	json_decref(b.recs);
}

/* test_cancel - a cancelled submission never calls back, waiting for the
 * ratelimiter or for its signature */
static void
test_cancel(void **state)
{
	struct fixture *f = *state;
	struct submit_req r = request(f, SUBMIT_SMTP, false, "", "s@x.example", "r@y.example",
	    MSG);

	submit_start(f->svc, &r, on_done, f);
	assert_non_null(fake.rl_cb);
	submit_cancel(f->svc, f);
	assert_null(fake.rl_cb);
	r = request(f, SUBMIT_SMTP, false, "", "alice@d.example", "r@y.example",
	    "From: alice@d.example\r\n\r\nbody\r\n");
	submit_start(f->svc, &r, on_done, f);
	fake.rl_cb(fake.rl_arg, &fake.rl_result);	/* allowed: signing starts */
	assert_null(f->msg.p);				/* the job holds the message */
	submit_cancel(f->svc, f);
	for (int i = 0; i < 20; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	usleep(50000);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(got.done, 0);
	assert_null(fake.q_cb);
}

/* restart_done - DONE that starts the next submission for the same arg */
static struct fixture *restart_f;
static void
restart_done(void *arg, const struct submit_result *r)
{
	struct submit_req next = request(restart_f, SUBMIT_SMTP, false, "", "s@x.example",
	    "r@y.example", MSG);

	on_done(arg, r);
	submit_start(restart_f->svc, &next, on_done, arg);
}

/* test_next_from_done - DONE may start the same arg's next submission (an
 * SMTP client's pipelined next message) */
static void
test_next_from_done(void **state)
{
	struct fixture *f = *state;
	struct submit_req r = request(f, SUBMIT_SMTP, false, "", "t@x.example", "r@y.example",
	    MSG);

	restart_f = f;
	submit_start(f->svc, &r, restart_done, f);	/* refused at once */
	assert_int_equal(got.res.outcome, SUBMIT_NOT_AUTHORIZED);
	assert_int_equal(got.done, 1);
	got.done = 0;
	complete(f);
	assert_int_equal(got.res.outcome, SUBMIT_ACCEPTED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_message_id_added, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dkim_signed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_both_channels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_from_done, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
