/*
 * test_smtp_data - the DATA reader (dot-unstuffing, end detection, line ends,
 * size limit) and the RFC 5322 header scan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <event2/buffer.h>

#include "smtp_data.h"
#include "smtp_header.h"

struct fixture {
	struct evbuffer *in;
	struct smtp_buf body;
	struct smtp_header hdr;
	struct smtp_data data;
};

/* setup - empty input, empty body, 1 MB limit */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->in = evbuffer_new();
	smtp_header_init(&f->hdr);
	smtp_data_start(&f->data, &f->body, &f->hdr, 1024 * 1024);
	*state = f;
	return 0;
}

/* teardown - free it all */
static int
teardown(void **state)
{
	struct fixture *f = *state;

	evbuffer_free(f->in);
	smtp_buf_free(&f->body);
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
	assert_int_equal(smtp_header_finish(&f->hdr), 0);
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

struct hdr_case {
	const char *msg;	/* lines separated by \n, no final dot */
	int want;
	const char *want_from, *want_subject, *want_msgid;
};

static const struct hdr_case hdr_cases[] = {
	{ "From: a@b.example\nSubject: hi\nMessage-ID: <1@x>\n\nbody", 0, "a@b.example", "hi", "<1@x>" },
	{ "from:a@b.example\nsubject:  folded\n\tsubject\n\nbody", 0, "a@b.example", "folded\tsubject", "" },
	{ "Subject: only header, no body\nFrom: x@y", 0, "x@y", "only header, no body", "" },
	{ "From : a@b\n\n", 0, "a@b", "", "" },
	{ "From: first@x\nFrom: second@x\n\n", 0, "first@x", "", "" },
	{ "Subject: no from\n\nbody", -1, NULL, NULL, NULL },
	{ "\nbody without header", -1, NULL, NULL, NULL },
	{ "this is not a header\n\nbody", -1, NULL, NULL, NULL },
	{ "From: a@b\nbroken line\n\nbody", -1, NULL, NULL, NULL },
	{ " leading continuation\nFrom: a@b\n\n", -1, NULL, NULL, NULL },
	{ "Bad Name: x\nFrom: a@b\n\n", -1, NULL, NULL, NULL },
	{ ": x\nFrom: a@b\n\n", -1, NULL, NULL, NULL },
	{ "", -1, NULL, NULL, NULL },
};

/* scan - feed MSG's lines to a fresh header scan */
static int
scan(struct smtp_header *h, const char *msg)
{
	const char *p = msg, *nl;

	smtp_header_init(h);
	while (*msg && (nl = strchr(p, '\n')) != NULL) {
		smtp_header_line(h, p, (size_t)(nl - p));
		p = nl + 1;
	}
	if (*p)
		smtp_header_line(h, p, strlen(p));
	return smtp_header_finish(h);
}

/* test_header_table - table of messages: got X, want Y */
static void
test_header_table(void **state)
{
	struct smtp_header h;
	size_t i;

	for (i = 0; i < sizeof(hdr_cases) / sizeof(hdr_cases[0]); i++) {
		const struct hdr_case *c = &hdr_cases[i];
		int got = scan(&h, c->msg);

		if (got != c->want)
			fail_msg("case %zu: got %d (%s), want %d", i, got,
			    h.error ? h.error : "", c->want);
		if (got < 0)
			continue;
		if (strcmp(smtp_header_get(&h, HF_FROM), c->want_from) ||
		    strcmp(smtp_header_get(&h, HF_SUBJECT), c->want_subject) ||
		    strcmp(smtp_header_get(&h, HF_MESSAGE_ID), c->want_msgid))
			fail_msg("case %zu: got from='%s' subject='%s' id='%s'", i,
			    smtp_header_get(&h, HF_FROM), smtp_header_get(&h, HF_SUBJECT),
			    smtp_header_get(&h, HF_MESSAGE_ID));
	}
}

/* test_header_too_big - no header end within 256 KB */
static void
test_header_too_big(void **state)
{
	struct smtp_header h;
	char line[900];

	memset(line, 'v', sizeof(line));
	memcpy(line, "X-Big: ", 7);
	smtp_header_init(&h);
	smtp_header_line(&h, "From: a@b", 9);
	for (int i = 0; i < 300; i++)
		smtp_header_line(&h, line, sizeof(line));
	assert_int_equal(h.state, HDR_ERROR);
	assert_int_equal(smtp_header_finish(&h), -1);
}

/* test_header_long_value - a huge Subject is truncated, not overflowed */
static void
test_header_long_value(void **state)
{
	struct smtp_header h;
	char line[5000];

	memset(line, 's', sizeof(line));
	memcpy(line, "Subject: ", 9);
	smtp_header_init(&h);
	smtp_header_line(&h, "From: a@b", 9);
	smtp_header_line(&h, line, sizeof(line));
	smtp_header_line(&h, "", 0);
	assert_int_equal(smtp_header_finish(&h), 0);
	assert_int_equal(strlen(smtp_header_get(&h, HF_SUBJECT)), SMTP_HEADER_VALUE_MAX - 2);	/* minus the blank after the colon */
}

/* test_data_header_line_too_long - a giant first line fails the header */
static void
test_data_header_line_too_long(void **state)
{
	struct fixture *f = *state;
	size_t n = SMTP_DATA_CHUNK + 10;
	char *big = malloc(n + 1);

	memset(big, 'h', n);
	memcpy(big, "From: ", 6);
	big[n] = '\0';
	feed(f, big);
	assert_int_equal(feed(f, "\r\n\r\n.\r\n"), DATA_END);
	assert_int_equal(smtp_header_finish(&f->hdr), -1);
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
		cmocka_unit_test(test_header_table),
		cmocka_unit_test(test_header_too_big),
		cmocka_unit_test(test_header_long_value),
		cmocka_unit_test_setup_teardown(test_data_header_line_too_long, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
