/*
 * test_load_reply - replies read out of a connection buffer: one-line,
 * multi-line, split across reads, pipelined replies one at a time, and
 * the broken ones; reply classes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <event2/buffer.h>
#include "load_reply.h"

static int setup(void **state)
{
	*state = evbuffer_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	evbuffer_free(*state);
	return 0;
}

/* add - append TEXT to the buffer */
static void add(struct evbuffer *in, const char *text)
{
	assert_int_equal(evbuffer_add(in, text, strlen(text)), 0);
}

static void test_one_line(void **state)
{
	struct evbuffer *in = *state;
	struct smtpc_reply r;

	smtpc_reply_reset(&r);
	add(in, "250 2.0.0 Ok: queued as 1234\r\n");
	assert_int_equal(load_reply_read(in, &r), LOAD_REPLY_COMPLETE);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.text, "2.0.0 Ok: queued as 1234");
	assert_int_equal(evbuffer_get_length(in), 0);
}

static void test_multi_line_in_pieces(void **state)
{
	struct evbuffer *in = *state;
	struct smtpc_reply r;
	char sum[256];

	smtpc_reply_reset(&r);
	add(in, "250-posthaste.localdomain\r\n250-PIPE");
	assert_int_equal(load_reply_read(in, &r), LOAD_REPLY_PARTIAL);
	add(in, "LINING\r\n250-STARTTLS\r");
	assert_int_equal(load_reply_read(in, &r), LOAD_REPLY_PARTIAL);
	add(in, "\n250 SIZE 2097152\r\n");
	assert_int_equal(load_reply_read(in, &r), LOAD_REPLY_COMPLETE);
	assert_int_equal(r.lines, 4);
	assert_int_equal(smtpc_ehlo_caps(&r),
	    SMTPC_CAP_PIPELINING | SMTPC_CAP_STARTTLS | SMTPC_CAP_SIZE);
	smtpc_reply_summary(&r, sum, sizeof(sum));
	assert_string_equal(sum, "250 posthaste.localdomain PIPELINING STARTTLS SIZE 2097152");
}

static void test_pipelined_one_at_a_time(void **state)
{
	static const int want[] = { 250, 550, 554 };
	struct evbuffer *in = *state;
	struct smtpc_reply r;
	size_t i;

	add(in, "250 2.1.0 Ok\r\n550 5.1.1 <u0@x.test>: no such user\r\n"
	    "554 5.5.1 Error: no valid recipients\r\n");
	for (i = 0; i < 3; i++) {
		smtpc_reply_reset(&r);
		assert_int_equal(load_reply_read(in, &r), LOAD_REPLY_COMPLETE);
		if (r.code != want[i])
			fail_msg("reply %zu: got %d, want %d", i, r.code, want[i]);
	}
	smtpc_reply_reset(&r);
	assert_int_equal(load_reply_read(in, &r), LOAD_REPLY_PARTIAL);
}

static void test_broken(void **state)
{
	static const struct {
		const char *text;
		enum load_reply_read_result want;
	} cases[] = {
		{ "hello\r\n", LOAD_REPLY_MALFORMED },
		{ "2500 ok\r\n", LOAD_REPLY_MALFORMED },
		{ "250-first\r\n550 second\r\n", LOAD_REPLY_MALFORMED },
		{ "650 out of range\r\n", LOAD_REPLY_MALFORMED },
	};
	struct evbuffer *in = *state;
	struct smtpc_reply r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		evbuffer_drain(in, evbuffer_get_length(in));
		smtpc_reply_reset(&r);
		add(in, cases[i].text);
		if (load_reply_read(in, &r) != cases[i].want)
			fail_msg("\"%s\": not %d", cases[i].text, cases[i].want);
	}
}

static void test_too_long(void **state)
{
	struct evbuffer *in = *state;
	struct smtpc_reply r;
	char line[LOAD_REPLY_LINE_MAX + 10];

	smtpc_reply_reset(&r);
	memset(line, 'x', sizeof(line));
	memcpy(line, "250 ", 4);
	assert_int_equal(evbuffer_add(in, line, sizeof(line)), 0);
	assert_int_equal(load_reply_read(in, &r), LOAD_REPLY_TOO_LONG);	/* no CRLF yet */
	add(in, "\r\n");
	assert_int_equal(load_reply_read(in, &r), LOAD_REPLY_TOO_LONG);
}

static void test_classes(void **state)
{
	static const struct {
		int code;
		enum load_class cls;
		const char *name;
	} cases[] = {
		{ 250, LOAD_CLASS_2XX, "2xx" }, { 251, LOAD_CLASS_2XX, "2xx" },
		{ 421, LOAD_CLASS_4XX, "4xx" }, { 455, LOAD_CLASS_4XX, "4xx" },
		{ 535, LOAD_CLASS_5XX, "5xx" }, { 554, LOAD_CLASS_5XX, "5xx" },
		{ 354, LOAD_CLASS_LOST, "lost" }, { 0, LOAD_CLASS_LOST, "lost" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (load_class_of(cases[i].code) != cases[i].cls)
			fail_msg("%d: got class %d, want %d", cases[i].code,
			    load_class_of(cases[i].code), cases[i].cls);
		assert_string_equal(load_class_name(cases[i].cls), cases[i].name);
	}
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_one_line), T(test_multi_line_in_pieces),
		T(test_pipelined_one_at_a_time), T(test_broken), T(test_too_long),
		cmocka_unit_test(test_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
