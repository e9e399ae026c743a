/*
 * test_smtp_data - the DATA reader (dot-unstuffing, end detection, line ends,
 * size limit); the header scan is the pipeline's (tests/unit/submit).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <event2/buffer.h>

#include "smtp_data.h"
#include "submit_buf.h"

struct fixture {
	struct evbuffer *in;
	struct submit_buf body;
	struct smtp_data data;
};

/* setup - empty input, empty body, 1 MB limit */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->in = evbuffer_new();
	smtp_data_start(&f->data, &f->body, 1024 * 1024);
	*state = f;
	return 0;
}

/* teardown - free it all */
static int
teardown(void **state)
{
	struct fixture *f = *state;

	evbuffer_free(f->in);
	submit_buf_free(&f->body);
	free(f);
	return 0;
}

/* feed - add S and run the reader */
static enum smtp_data_status
feed(struct fixture *f, const char *s)
{
	evbuffer_add(f->in, s, strlen(s));
	return smtp_data_feed(&f->data, f->in);
}

/* body_is - the body equals WANT */
static void
body_is(struct fixture *f, const char *want)
{
	if (f->body.len != strlen(want) || memcmp(f->body.p, want, f->body.len) != 0)
		fail_msg("body got '%.*s', want '%s'", (int)f->body.len, f->body.p, want);
}

/* test_simple - a message and the final dot; pipelined rest stays */
static void
test_simple(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(feed(f, "From: a@b\r\n\r\nhello\r\n"), DATA_MORE);
	assert_int_equal(feed(f, ".\r\nQUIT\r\n"), DATA_END);
	body_is(f, "From: a@b\r\n\r\nhello\r\n");
	assert_int_equal(evbuffer_get_length(f->in), 6);
}

/* test_unstuff - ".." at line start loses one dot */
static void
test_unstuff(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(feed(f, "From: a@b\r\n\r\n..\r\n...x\r\n.y\r\n.\r\n"), DATA_END);
	body_is(f, "From: a@b\r\n\r\n.\r\n..x\r\ny\r\n");
}

/* test_split_input - the final dot split over reads */
static void
test_split_input(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(feed(f, "From: a@b\r\n\r\nx\r"), DATA_MORE);
	assert_int_equal(feed(f, "\n."), DATA_MORE);
	assert_int_equal(feed(f, "\r"), DATA_MORE);
	assert_int_equal(feed(f, "\n"), DATA_END);
	body_is(f, "From: a@b\r\n\r\nx\r\n");
}

/* test_bare_lf - bare LF lines become CRLF; "\n.\n" and ".\n" do not end DATA */
static void
test_bare_lf(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(feed(f, "From: a@b\n\nx\n.\nsmuggled\r\n.\n"), DATA_MORE);
	assert_int_equal(feed(f, "y\r\n.\r\n"), DATA_END);
	body_is(f, "From: a@b\r\n\r\nx\r\n\r\nsmuggled\r\n\r\ny\r\n");
}

/* test_lf_dot_crlf - "<LF>.<CRLF>" does not end DATA either */
static void
test_lf_dot_crlf(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(feed(f, "From: a@b\r\n\r\nx\n.\r\n"), DATA_MORE);
	assert_int_equal(feed(f, ".\r\n"), DATA_END);
}

/* test_size_limit - overflow is flagged; reading goes on to the dot */
static void
test_size_limit(void **state)
{
	struct fixture *f = *state;
	char line[1002];

	f->data.max_size = 4000;
	memset(line, 'x', 998);
	strcpy(line + 998, "\r\n");
	feed(f, "From: a@b\r\n\r\n");
	for (int i = 0; i < 10; i++)
		assert_int_equal(feed(f, line), DATA_MORE);
	assert_true(f->data.overflow);
	assert_true(f->body.len <= 4000);
	assert_int_equal(feed(f, ".\r\n"), DATA_END);
}

/* test_long_line - a line longer than the chunk is consumed in pieces */
static void
test_long_line(void **state)
{
	struct fixture *f = *state;
	size_t n = SMTP_DATA_CHUNK * 2 + 10;
	char *big = malloc(n + 1);

	memset(big, 'y', n);
	big[n] = '\0';
	feed(f, "From: a@b\r\n\r\n");
	assert_int_equal(feed(f, big), DATA_MORE);
	assert_true(evbuffer_get_length(f->in) < SMTP_DATA_CHUNK);
	assert_int_equal(feed(f, "\r\n.\r\n"), DATA_END);
	assert_int_equal(f->body.len, strlen("From: a@b\r\n\r\n") + n + 2);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_simple, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unstuff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bare_lf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lf_dot_crlf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
