/*
 * test_smtp_session - the SMTP state machine driven by event sequences,
 * without sockets: bytes go in with smtp_session_input(), replies come out of
 * the session's output buffer; the submission pipeline runs behind DATA. The
 * ratelimiter and queue clients are fakes (tests/unit/submit/fake_peers):
 * their callbacks run "later", when the test completes them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <event2/buffer.h>

#include "fake_peers.h"
#include "policy.h"
#include "smtp_auth.h"
#include "smtp_session.h"
#include "smtp_tx.h"
#include "smtpd.h"
#include "strmap.h"
#include "submit.h"

#define TENANT "ocid1.tenancy.oc1..tenant"

/* fake_run - complete pending calls, as the loop would later */
static void
fake_run(void)
{
	while (fake_peers_step())
		;
}

/* ---- fixture ---- */
struct fixture {
	struct smtpd sd;
	struct policy *policy;
};

/* fixture_policy - tenant "default", one suppressed address, approved
 * senders s@x.example and the domain @b.example */
static struct policy *
fixture_policy(void)
{
	Ph__PolicySnapshot snap = PH__POLICY_SNAPSHOT__INIT;
	Ph__PolicyObject o1 = PH__POLICY_OBJECT__INIT, o2 = PH__POLICY_OBJECT__INIT;
	Ph__PolicyObject o3 = PH__POLICY_OBJECT__INIT, o4 = PH__POLICY_OBJECT__INIT;
	Ph__PolicyObject *objs[4] = { &o1, &o2, &o3, &o4 };
	Ph__Tenant t = PH__TENANT__INIT;
	Ph__Suppression sup = PH__SUPPRESSION__INIT;
	Ph__Sender s1 = PH__SENDER__INIT, s2 = PH__SENDER__INIT;

	t.id = TENANT;
	t.name = "default";
	t.per_minute = 77;
	o1.obj_case = PH__POLICY_OBJECT__OBJ_TENANT;
	o1.tenant = &t;
	sup.id = "sup1";
	sup.tenant_id = TENANT;
	sup.address = "sup@x.example";
	o2.obj_case = PH__POLICY_OBJECT__OBJ_SUPPRESSION;
	o2.suppression = &sup;
	s1.id = "snd1";
	s1.tenant_id = TENANT;
	s1.compartment_id = "c1";
	s1.address = "s@x.example";
	o3.obj_case = PH__POLICY_OBJECT__OBJ_SENDER;
	o3.sender = &s1;
	s2 = s1;
	s2.id = "snd2";
	s2.address = "@b.example";
	o4.obj_case = PH__POLICY_OBJECT__OBJ_SENDER;
	o4.sender = &s2;
	snap.version = 1;
	snap.n_objects = 4;
	snap.objects = objs;
	return policy_new_static(&snap);
}

/* setup - a server context without sockets */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct smtpd_conf *c = &f->sd.conf;

	c->max_message_size = 10000;
	c->command_timeout = c->data_timeout = 300000;
	c->max_connections = c->max_connections_per_ip = 100;
	c->max_recipients = 3;
	c->trusted_tenant = "default";
	c->default_per_minute = 18000;
	c->default_per_day = 50000;
	snprintf(f->sd.hostname, sizeof(f->sd.hostname), "mx.test");
	f->sd.per_ip = strmap_new();
	f->sd.rl = (struct rl_client *)&fake;
	f->sd.queue = (struct queue_client *)&fake;
	LIST_INIT(&f->sd.sessions);
	f->policy = f->sd.policy = fixture_policy();
	assert_non_null(f->policy);
	f->sd.submit = submit_service_xnew(NULL, &(struct submit_conf){ .policy = f->policy,
	    .rl = f->sd.rl, .queue = f->sd.queue, .hostname = f->sd.hostname,
	    .max_message_size = 10000, .default_per_minute = 18000,
	    .default_per_day = 50000 });
	fake_peers_reset();
	*state = f;
	return 0;
}

/* teardown - every session and the context */
static int
teardown(void **state)
{
	struct fixture *f = *state;

	while (!LIST_EMPTY(&f->sd.sessions))
		smtp_session_free(LIST_FIRST(&f->sd.sessions));
	submit_service_free(f->sd.submit);
	policy_free(f->policy);
	strmap_free(f->sd.per_ip, NULL);
	fake_peers_reset();
	free(f);
	return 0;
}

/* take_output - the replies so far, drained, lines joined with '|' */
static void
take_output(struct smtp_session *s, char *buf, size_t len)
{
	size_t n = evbuffer_get_length(s->out), i, j = 0;
	char *raw = malloc(n + 1);

	evbuffer_remove(s->out, raw, n);
	for (i = 0; i < n && j + 1 < len; i++) {
		if (raw[i] == '\r')
			continue;
		buf[j++] = raw[i] == '\n' ? '|' : raw[i];
	}
	if (j > 0 && buf[j - 1] == '|')
		j--;
	buf[j] = '\0';
	free(raw);
}

/* replies_match - every reply line starts with the '|'-separated prefix */
static bool
replies_match(const char *got, const char *want)
{
	while (*want) {
		const char *wend = strchr(want, '|'), *gend = strchr(got, '|');
		size_t wl = wend ? (size_t)(wend - want) : strlen(want);
		size_t gl = gend ? (size_t)(gend - got) : strlen(got);

		if (gl < wl || strncmp(got, want, wl) != 0)
			return false;
		want += wl + (wend ? 1 : 0);
		got += gl + (gend ? 1 : 0);
		if ((wend == NULL) != (gend == NULL))
			return false;
	}
	return *got == '\0';
}

struct step {
	const char *send;
	const char *want;	/* reply prefixes, '|' between lines */
};

#define EHLO_REPLY "250-mx.test|250-PIPELINING|250-SIZE 10000|250-8BITMIME|250 ENHANCEDSTATUSCODES"
#define MSG "From: Sender <s@x.example>\r\nSubject: test\r\n\r\nbody\r\n.\r\n"
#define MAX_STEPS 12

struct seq {
	const char *name;
	bool trusted;
	struct step steps[MAX_STEPS];
};

/* run_seq - play SEQ on a fresh session; fail with the first mismatch */
static struct smtp_session *
run_seq(struct fixture *f, const struct seq *q)
{
	struct smtp_session *s = smtp_session_new(&f->sd, NULL, "127.0.0.1", q->trusted);
	char got[4096];
	int i;

	fake.enqueued = 0;
	take_output(s, got, sizeof(got));
	assert_string_equal(got, "220 mx.test ESMTP posthaste");
	for (i = 0; i < MAX_STEPS && q->steps[i].send; i++) {
		smtp_session_input(s, q->steps[i].send, strlen(q->steps[i].send));
		fake_run();
		take_output(s, got, sizeof(got));
		if (!replies_match(got, q->steps[i].want))
			fail_msg("%s step %d: got '%s', want '%s'", q->name, i, got, q->steps[i].want);
	}
	return s;
}

/* valid sequences: every step gets its positive reply */
static const struct seq valid_seqs[] = {
	{ "one message", true, {
	    { "EHLO c.example\r\n", EHLO_REPLY },
	    { "MAIL FROM:<s@x.example>\r\n", "250 2.1.0 Ok" },
	    { "RCPT TO:<r@y.example>\r\n", "250 2.1.5 r@y.example and options Ok" },
	    { "DATA\r\n", "354 " },
	    { MSG, "250 2.0.0 Ok: queued as Q1" },
	    { "QUIT\r\n", "221 2.0.0 Bye" } } },
	{ "pipelined", true, {
	    { "EHLO c\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<r@y.example>\r\nDATA\r\n" MSG
	      "MAIL FROM:<a@B.example>\r\nRCPT TO:<r2@y.example>\r\nDATA\r\n" MSG "QUIT\r\n",
	      EHLO_REPLY "|250 2.1.0|250 2.1.5|354 |250 2.0.0 Ok: queued as Q1"
	      "|250 2.1.0|250 2.1.5|354 |250 2.0.0 Ok: queued as Q2|221 " } } },
	{ "helo, bare LF commands", true, {
	    { "HELO c\n", "250 mx.test" },
	    { "mail from:<s@x.example>\n", "250 2.1.0 Ok" },
	    { "rcpt to:<r@y.example>\n", "250 2.1.5" },
	    { "data\n", "354 " },
	    { MSG, "250 2.0.0 Ok: queued as Q1" } } },
	{ "rset and retry", true, {
	    { "EHLO c\r\n", EHLO_REPLY },
	    { "MAIL FROM:<s@x.example>\r\n", "250 2.1.0" },
	    { "RSET\r\n", "250 2.0.0 Ok" },
	    { "MAIL FROM:<s@x.example>\r\n", "250 2.1.0" },
	    { "RCPT TO:<r@y.example>\r\n", "250 2.1.5" },
	    { "DATA\r\n", "354 " },
	    { MSG, "250 2.0.0 Ok: queued as Q1" } } },
	{ "noop vrfy help", true, {
	    { "NOOP\r\n", "250 2.0.0 Ok" },
	    { "VRFY root\r\n", "252 " },
	    { "HELP\r\n", "214 " },
	    { "EHLO c\r\n", EHLO_REPLY } } },
	{ "suppressed recipient", true, {
	    { "EHLO c\r\nMAIL FROM:<s@x.example>\r\n", EHLO_REPLY "|250 2.1.0" },
	    { "RCPT TO:<Sup@X.example>\r\n", "254 4.7.1 Suppression for user " TENANT " to Sup@X.example" },
	    { "RCPT TO:<r@y.example>\r\n", "250 2.1.5" },
	    { "DATA\r\n", "354 " },
	    { MSG, "250 2.0.0 Ok: queued as Q1" } } },
	{ "only suppressed", true, {
	    { "EHLO c\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<sup@x.example>\r\nDATA\r\n",
	      EHLO_REPLY "|250 2.1.0|254 4.7.1|354 " },
	    { MSG, "250 2.0.0 Ok: queued as " } } },
};

/* invalid sequences: the last step gets the error reply */
static const struct seq invalid_seqs[] = {
	{ "unknown command", true, { { "FOO\r\n", "500 5.5.1" } } },
	{ "control char", true, { { "NO\x01OP\r\n", "500 5.5.2" } } },
	{ "not implemented", true, { { "EXPN x\r\n", "502 5.5.1" } } },
	{ "mail before helo", true, { { "MAIL FROM:<s@x.example>\r\n", "503 5.5.1" } } },
	{ "rcpt before mail", true, { { "EHLO c\r\n", EHLO_REPLY }, { "RCPT TO:<r@y.example>\r\n", "503 5.5.1" } } },
	{ "data before mail", true, { { "EHLO c\r\n", EHLO_REPLY }, { "DATA\r\n", "503 Need RCPT command" } } },
	{ "data without rcpt", true, { { "EHLO c\r\nMAIL FROM:<s@x.example>\r\n", EHLO_REPLY "|250 2.1.0" },
	    { "DATA\r\n", "503 Need RCPT command" } } },
	{ "data after bad rcpt", true, { { "EHLO c\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<bad>\r\n",
	    EHLO_REPLY "|250 2.1.0|553 <bad> Invalid email address" },
	    { "DATA\r\n", "503 Need RCPT command" } } },
	{ "nested mail", true, { { "EHLO c\r\nMAIL FROM:<s@x.example>\r\n", EHLO_REPLY "|250" },
	    { "MAIL FROM:<s@x.example>\r\n", "503 5.5.1" } } },
	{ "helo without name", true, { { "EHLO\r\n", "501 5.5.4" } } },
	{ "bad sender", true, { { "EHLO c\r\n", EHLO_REPLY },
	    { "MAIL FROM:<a b@x>\r\n", "553 <a b@x> Invalid email address" } } },
	{ "mail syntax", true, { { "EHLO c\r\n", EHLO_REPLY }, { "MAIL <s@x.example>\r\n", "501 5.5.4" } } },
	{ "size too big", true, { { "EHLO c\r\n", EHLO_REPLY },
	    { "MAIL FROM:<s@x.example> SIZE=10001\r\n", "552 Exceeds byte limit" } } },
	{ "too many recipients", true, { { "EHLO c\r\nMAIL FROM:<s@x.example>\r\n"
	    "RCPT TO:<a@y.example>\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<c@y.example>\r\n",
	    EHLO_REPLY "|250|250|250|250" },
	    { "RCPT TO:<d@y.example>\r\n", "452 4.5.3 Too many recipients" } } },
	{ "no from header", true, { { "EHLO c\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<r@y.example>\r\nDATA\r\n",
	    EHLO_REPLY "|250|250|354" },
	    { "Subject: x\r\n\r\nbody\r\n.\r\n", "554 Message parse error" } } },
	{ "no header", true, { { "EHLO c\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<r@y.example>\r\nDATA\r\n",
	    EHLO_REPLY "|250|250|354" },
	    { "just a body line\r\n.\r\n", "554 Message parse error" } } },
	{ "untrusted mail", false, { { "EHLO c\r\n", EHLO_REPLY },
	    { "MAIL FROM:<s@x.example>\r\n", "535 Authentication required" } } },
	{ "untrusted rcpt", false, { { "EHLO c\r\n", EHLO_REPLY },
	    { "RCPT TO:<r@y.example>\r\n", "535 Authentication required" } } },
	{ "rcpt param", true, { { "EHLO c\r\nMAIL FROM:<s@x.example>\r\n", EHLO_REPLY "|250" },
	    { "RCPT TO:<r@y.example> NOTIFY=NEVER\r\n", "555 5.5.4" } } },
	{ "sender not approved", true, { { "EHLO c\r\nMAIL FROM:<t@x.example>\r\nRCPT TO:<r@y.example>\r\n",
	    EHLO_REPLY "|535 Authorization failed: address t@x.example not authorized|503 5.5.1" } } },
	{ "null sender", true, { { "EHLO c\r\nMAIL FROM:<>\r\n",
	    EHLO_REPLY "|535 Authorization failed: address <> not authorized" } } },
	{ "header from not approved", true, { { "EHLO c\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<r@y.example>\r\nDATA\r\n",
	    EHLO_REPLY "|250|250|354" },
	    { "From: s@x.example, t@y.example\r\n\r\nbody\r\n.\r\nNOOP\r\n",
	      "535 Authorization failed: address t@y.example not authorized|250 2.0.0 Ok" } } },
	{ "auth before tls", false, { { "EHLO c\r\nAUTH PLAIN AGEAYg==\r\n",
	    EHLO_REPLY "|530 5.7.0 Must issue a STARTTLS command first" } } },
	{ "auth before helo", false, { { "AUTH PLAIN\r\n", "503 5.5.1 Error: send HELO/EHLO first" } } },
};

/* test_valid - every valid sequence passes */
static void
test_valid(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(valid_seqs) / sizeof(valid_seqs[0]); i++)
		smtp_session_free(run_seq(f, &valid_seqs[i]));
}

/* test_invalid - every invalid sequence ends in its error reply */
static void
test_invalid(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(invalid_seqs) / sizeof(invalid_seqs[0]); i++)
		smtp_session_free(run_seq(f, &invalid_seqs[i]));
}

static const struct seq to_data = { "to data", true, {
	{ "EHLO c\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<r@y.example>\r\n"
	  "RCPT TO:<sup@x.example>\r\nRCPT TO:<r2@y.example>\r\nDATA\r\n",
	  EHLO_REPLY "|250|250|254|250|354" } } };

/* expect_after_data - send MSG after to_data, want WANT */
static struct smtp_session *
expect_after_data(struct fixture *f, const char *msg, const char *want)
{
	struct smtp_session *s = run_seq(f, &to_data);
	char got[4096];

	smtp_session_input(s, msg, strlen(msg));
	fake_run();
	take_output(s, got, sizeof(got));
	if (!replies_match(got, want))
		fail_msg("got '%s', want '%s'", got, want);
	return s;
}

/* test_enqueue_request - suppressed excluded, Received line first, cost */
static void
test_enqueue_request(void **state)
{
	struct fixture *f = *state;
	struct smtp_session *s = expect_after_data(f, MSG, "250 2.0.0 Ok: queued as Q1");

	assert_string_equal(fake.rcpts, "r@y.example,r2@y.example");
	assert_string_equal(fake.header_from, "s@x.example");
	assert_string_equal(fake.subject, "test");
	assert_string_equal(fake.source, "smtp");
	assert_string_equal(fake.tenant, TENANT);
	assert_true(strncmp(fake.body, "Received: from c (127.0.0.1)\r\n", 30) == 0);
	assert_string_equal(fake.rl_shard, TENANT);
	assert_int_equal(fake.rl_cost, 2);
	assert_string_equal(fake.rl_key0, "tenant:" TENANT ":minute");
	assert_int_equal(fake.rl_limit0, 77);
	assert_int_equal(s->state, STATE_HELO);
}

/* test_data_too_big - 552 after the final dot, session goes on */
static void
test_data_too_big(void **state)
{
	struct fixture *f = *state;
	char *msg = malloc(12100);
	struct smtp_session *s;

	strcpy(msg, "From: a@b.example\r\n\r\n");
	for (int i = 0; i < 120; i++)
		strcat(msg, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n");
	strcat(msg, ".\r\nNOOP\r\n");
	s = expect_after_data(f, msg, "552 Exceeds byte limit|250 2.0.0 Ok");
	assert_int_equal(fake.enqueued, 0);
	assert_int_equal(s->state, STATE_HELO);
	free(msg);
}

/* test_rate_minute - 455 per minute with the limit */
static void
test_rate_minute(void **state)
{
	struct fixture *f = *state;

	fake.rl_result = (struct rl_result){ RL_DENIED, 0, 77, 1000 };
	expect_after_data(f, MSG, "455 Maximum messages sent per minute reached : limit is 77");
	assert_int_equal(fake.enqueued, 0);
}

/* test_rate_day - 455 per day */
static void
test_rate_day(void **state)
{
	struct fixture *f = *state;

	fake.rl_result = (struct rl_result){ RL_DENIED, 1, 50000, 1000 };
	expect_after_data(f, MSG, "455 Maximum messages sent per day reached : limit is 50000");
}

/* test_rate_unavailable - 451 Server error */
static void
test_rate_unavailable(void **state)
{
	struct fixture *f = *state;

	fake.rl_result = (struct rl_result){ RL_UNAVAILABLE, -1, 0, 0 };
	expect_after_data(f, MSG, "451 Server error");
}

/* test_storage_error - 452 System storage error */
static void
test_storage_error(void **state)
{
	struct fixture *f = *state;

	fake.q_ok = 0;
	expect_after_data(f, MSG, "452 System storage error");
}

/* test_wait_pauses_input - nothing pipelined after DATA is read until the commit ends */
static void
test_wait_pauses_input(void **state)
{
	struct fixture *f = *state;
	struct smtp_session *s = run_seq(f, &to_data);
	const char *in = MSG "NOOP\r\nQUIT\r\n";
	char got[256];

	smtp_session_input(s, in, strlen(in));
	take_output(s, got, sizeof(got));
	assert_string_equal(got, "");
	assert_int_equal(s->state, STATE_WAIT);
	fake_run();
	take_output(s, got, sizeof(got));
	assert_true(replies_match(got, "250 2.0.0 Ok: queued as Q1|250 2.0.0 Ok|221 2.0.0 Bye"));
	assert_true(s->closing);
}

/* test_free_while_waiting - a client gone mid-commit cancels the calls */
static void
test_free_while_waiting(void **state)
{
	struct fixture *f = *state;
	struct smtp_session *s = run_seq(f, &to_data);

	smtp_session_input(s, MSG, strlen(MSG));
	assert_non_null(fake.rl_cb);
	smtp_session_free(s);
	assert_null(fake.rl_cb);
}

/* test_policy_not_ready - 421 4.4.0 and close */
static void
test_policy_not_ready(void **state)
{
	struct fixture *f = *state;
	static const struct seq q = { "policy", true, {
		{ "EHLO c\r\n", EHLO_REPLY },
		{ "MAIL FROM:<s@x.example>\r\nNOOP\r\n",
		  "421 4.4.0 Problem attempting to execute commands. Please try again later" } } };
	struct smtp_session *s;

	f->sd.policy = NULL;
	s = run_seq(f, &q);
	assert_true(s->closing);
}

/* test_line_too_long - 500 5.5.2, then the session goes on */
static void
test_line_too_long(void **state)
{
	struct fixture *f = *state;
	struct smtp_session *s = smtp_session_new(&f->sd, NULL, "127.0.0.1", true);
	char line[3000], got[512];

	memset(line, 'A', sizeof(line));
	memcpy(line, "NOOP ", 5);
	take_output(s, got, sizeof(got));
	smtp_session_input(s, line, sizeof(line));
	smtp_session_input(s, "\r\nNOOP\r\n", 8);
	take_output(s, got, sizeof(got));
	assert_string_equal(got, "500 5.5.2 Line too long|250 2.0.0 Ok");
	memset(line, 'B', 1001);
	memcpy(line + 999, "\r\n", 2);
	smtp_session_input(s, line, 1001);
	take_output(s, got, sizeof(got));
	assert_string_equal(got, "500 5.5.2 Line too long");
}

/* test_timeout - 421 and close */
static void
test_timeout(void **state)
{
	struct fixture *f = *state;
	struct smtp_session *s = smtp_session_new(&f->sd, NULL, "127.0.0.1", true);
	char got[512];

	take_output(s, got, sizeof(got));
	smtp_session_timeout(s);
	take_output(s, got, sizeof(got));
	assert_string_equal(got, "421 Timeout waiting for data from client");
	assert_true(s->closing);
}

/* test_shutdown - 421 4.3.0 at a prompt; a waiting session finishes first */
static void test_shutdown(void **state);

/* test_authz_too_many - a refused sender over the failure limit: 421, close */
static void
test_authz_too_many(void **state)
{
	static const struct seq q = { "too many", true, {
		{ "EHLO c\r\nMAIL FROM:<t@x.example>\r\nNOOP\r\n",
		  EHLO_REPLY "|421 Too many auth failures, try again later" } } };
	struct fixture *f = *state;
	struct smtp_session *s;

	fake.authfail_over = true;
	s = run_seq(f, &q);
	assert_true(s->closing);
	assert_int_equal(fake.authfail, 1);
	assert_string_equal(fake.authfail_key, "authfail:127.0.0.1");
}

/* test_auth_syntax - the AUTH rows that need no credential check (TLS on) */
static void
test_auth_syntax(void **state)
{
	static const struct step steps[] = {
		{ "AUTH\r\n", "504 AUTH mechanism mismatch" },
		{ "AUTH PL@IN\r\n", "504 AUTH mechanism mismatch" },
		{ "AUTH PLAIN a b\r\n", "504 AUTH mechanism mismatch" },
		{ "AUTH CRAM-MD5\r\n", "504 Method not supported" },
		{ "AUTH XOAUTH2 dG9rZW4=\r\n", "504 Method not supported" },
		{ "AUTH PLAIN !!!!\r\n", "501 Invalid command argument, not a valid Base64 string" },
		{ "AUTH PLAIN dXNlcg==\r\n", "501 Invalid command argument, does not contain NUL" },
		{ "AUTH PLAIN AHVzZXI=\r\n", "501 Invalid command argument, does not contain the second NUL" },
		{ "AUTH PLAIN\r\n", "334 " },
		{ "dXNlcg\r\n", "501 Invalid command argument, not a valid Base64 string" },
		{ "AUTH LOGIN\r\n", "334 VXNlcm5hbWU6" },
		{ "dXNlcg==\r\n", "334 UGFzc3dvcmQ6" },
		{ "*\r\n", "501 5.7.0 Authentication aborted" },
		{ "AUTH LOGIN dXNlcg==\r\n", "334 UGFzc3dvcmQ6" },
		{ "*\r\nMAIL FROM:<s@x.example>\r\n", "501 5.7.0|535 Authentication required" },
	};
	struct fixture *f = *state;
	struct smtp_session *s = smtp_session_new(&f->sd, NULL, "127.0.0.1", false);
	char got[4096];
	size_t i;

	s->tls = true;
	smtp_session_input(s, "EHLO c\r\n", 8);
	take_output(s, got, sizeof(got));
	assert_non_null(strstr(got, "250-AUTH PLAIN LOGIN"));
	assert_null(strstr(got, "STARTTLS"));
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		smtp_session_input(s, steps[i].send, strlen(steps[i].send));
		take_output(s, got, sizeof(got));
		if (!replies_match(got, steps[i].want))
			fail_msg("step %zu: got '%s', want '%s'", i, got, steps[i].want);
	}
}

/* test_plain_decode - authzid NUL authcid NUL passwd */
static void
test_plain_decode(void **state)
{
	struct smtp_auth_plain p;

	assert_int_equal(smtp_auth_plain_decode("AHVzZXIAcGFzcw==", &p), AUTH_OK);
	assert_string_equal(p.authzid, "");
	assert_string_equal(p.user, "user");
	assert_string_equal(p.pass, "pass");
	assert_int_equal(smtp_auth_plain_decode("YQB1AHA=", &p), AUTH_OK);
	assert_string_equal(p.authzid, "a");
	assert_int_equal(smtp_auth_plain_decode("AHUAcHE=", &p), AUTH_OK);
	assert_string_equal(p.pass, "pq");
	assert_int_equal(smtp_auth_plain_decode("AHUAcAB4", &p), AUTH_ERR_TOO_LONG); /* third NUL */
	assert_int_equal(smtp_auth_plain_decode("AHU=AHA=", &p), AUTH_ERR_BASE64);
	assert_int_equal(smtp_auth_plain_decode("AHU", &p), AUTH_ERR_BASE64);
	assert_int_equal(smtp_auth_plain_decode("", &p), AUTH_ERR_NO_NUL);
}

static void
test_shutdown(void **state)
{
	struct fixture *f = *state;
	struct smtp_session *idle = smtp_session_new(&f->sd, NULL, "127.0.0.1", true);
	struct smtp_session *s = run_seq(f, &to_data);
	char got[512];

	smtp_session_input(s, MSG, strlen(MSG));
	take_output(idle, got, sizeof(got));
	f->sd.stopping = true;
	smtp_session_shutdown(idle);
	smtp_session_shutdown(s);
	take_output(idle, got, sizeof(got));
	assert_string_equal(got, "421 4.3.0 Mail system failure, closing transmission channel");
	assert_false(s->closing);
	fake_run();
	take_output(s, got, sizeof(got));
	assert_true(replies_match(got, "250 2.0.0 Ok: queued as Q1|421 4.3.0"));
	assert_true(s->closing);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_minute, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_day, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_unavailable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storage_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_pauses_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_while_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_not_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authz_too_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_syntax, setup, teardown),
		cmocka_unit_test(test_plain_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
