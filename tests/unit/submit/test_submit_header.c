/*
 * test_submit_header - the pipeline's RFC 5322 header scan: verdicts and
 * kept fields from a table of messages, the size limits, and the
 * Message-ID without its angle brackets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "submit_header.h"

struct hdr_case {
	const char *msg;
	int want;
	const char *want_from, *want_subject, *want_msgid;
};

static const struct hdr_case hdr_cases[] = {
	{ "From: a@b.example\r\nSubject: hi\r\nMessage-ID: <1@x>\r\n\r\nbody", 0,
	  "a@b.example", "hi", "<1@x>" },
	{ "from:a@b.example\r\nsubject:  folded\r\n\tsubject\r\n\r\nbody", 0, "a@b.example",
	  "folded\tsubject", "" },
	{ "Subject: only header, no body\r\nFrom: x@y", 0, "x@y", "only header, no body", "" },
	{ "From : a@b\r\n\r\n", 0, "a@b", "", "" },
	{ "From: first@x\r\nFrom: second@x\r\n\r\n", 0, "first@x", "", "" },
	{ "From: a@b\nSubject: bare LF\n\nbody", 0, "a@b", "bare LF", "" },
	{ "From: a@b\r\n\r\nSubject: in the body\r\n", 0, "a@b", "", "" },
	{ "Subject: no from\r\n\r\nbody", -1, NULL, NULL, NULL },
	{ "\r\nbody without header", -1, NULL, NULL, NULL },
	{ "this is not a header\r\n\r\nbody", -1, NULL, NULL, NULL },
	{ "From: a@b\r\nbroken line\r\n\r\nbody", -1, NULL, NULL, NULL },
	{ " leading continuation\r\nFrom: a@b\r\n\r\n", -1, NULL, NULL, NULL },
	{ "Bad Name: x\r\nFrom: a@b\r\n\r\n", -1, NULL, NULL, NULL },
	{ ": x\r\nFrom: a@b\r\n\r\n", -1, NULL, NULL, NULL },
	{ "", -1, NULL, NULL, NULL },
};

/* test_header_table - table of messages: got X, want Y */
static void
test_header_table(void **state)
{
	struct submit_header h;
	size_t i;

	for (i = 0; i < sizeof(hdr_cases) / sizeof(hdr_cases[0]); i++) {
		const struct hdr_case *c = &hdr_cases[i];
		int got = submit_header_scan(&h, c->msg, strlen(c->msg));

		if (got != c->want)
			fail_msg("case %zu: got %d (%s), want %d", i, got,
			    h.error ? h.error : "", c->want);
		if (got < 0)
			continue;
		if (strcmp(submit_header_get(&h, HF_FROM), c->want_from) ||
		    strcmp(submit_header_get(&h, HF_SUBJECT), c->want_subject) ||
		    strcmp(submit_header_get(&h, HF_MESSAGE_ID), c->want_msgid))
			fail_msg("case %zu: got from='%s' subject='%s' id='%s'", i,
			    submit_header_get(&h, HF_FROM), submit_header_get(&h, HF_SUBJECT),
			    submit_header_get(&h, HF_MESSAGE_ID));
	}
}

/* with_fields - "From: a@b", COPIES fields NAME of N chars each, an empty
 * line and a body (malloc'd) */
static char *
with_fields(const char *name, size_t n, int copies)
{
	char *s = malloc(16 + (n + 2) * (size_t)copies + 16), *p = s;

	p += sprintf(p, "From: a@b\r\n");
	for (int i = 0; i < copies; i++) {
		memset(p, 'v', n);
		memcpy(p, name, strlen(name));
		p += n;
		p += sprintf(p, "\r\n");
	}
	sprintf(p, "\r\nbody\r\n");
	return s;
}

/* test_header_too_big - no header end within 256 KB */
static void
test_header_too_big(void **state)
{
	struct submit_header h;
	char *msg = with_fields("X-Big: ", 900, 300);

	assert_int_equal(submit_header_scan(&h, msg, strlen(msg)), -1);
	assert_string_equal(h.error, "header block too large");
	free(msg);
	msg = with_fields("X-Big: ", 900, 250);		/* 225 KB: fine */
	assert_int_equal(submit_header_scan(&h, msg, strlen(msg)), 0);
	free(msg);
}

/* test_header_long_value - a huge Subject is truncated, not overflowed */
static void
test_header_long_value(void **state)
{
	struct submit_header h;
	char *msg = with_fields("Subject: ", 5000, 1);

	assert_int_equal(submit_header_scan(&h, msg, strlen(msg)), 0);
	/* minus the blank after the colon and the NUL */
	assert_int_equal(strlen(submit_header_get(&h, HF_SUBJECT)), SUBMIT_HEADER_VALUE_MAX - 2);
	free(msg);
}

/* test_header_line_too_long - a header line of 64 KiB fails the header; in
 * the body it does not matter */
static void
test_header_line_too_long(void **state)
{
	size_t n = SUBMIT_HEADER_LINE_MAX + 10;
	char *big = malloc(n + 32);
	struct submit_header h;

	memset(big, 'h', n);
	memcpy(big, "From: ", 6);
	strcpy(big + n, "\r\n\r\nbody\r\n");
	assert_int_equal(submit_header_scan(&h, big, strlen(big)), -1);
	assert_string_equal(h.error, "header line too long");
	memcpy(big, "From: a@b\r\n\r\n", 14);
	assert_int_equal(submit_header_scan(&h, big, strlen(big)), 0);
	free(big);
}

/* test_msgid - the msg-id between the brackets, whatever surrounds it */
static void
test_msgid(void **state)
{
	static const struct { const char *field, *want; } cases[] = {
		{ "Message-ID: <abc@x.example>", "abc@x.example" },
		{ "Message-Id:   <abc@x.example>  (a comment)", "abc@x.example" },
		{ "message-id: bare@x.example", "bare@x.example" },
		{ "X-Other: 1", "" },
	};
	struct submit_header h;
	char msg[256], id[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(msg, sizeof(msg), "From: a@b\r\n%s\r\n\r\n", cases[i].field);
		assert_int_equal(submit_header_scan(&h, msg, strlen(msg)), 0);
		submit_header_msgid(&h, id, sizeof(id));
		if (strcmp(id, cases[i].want) != 0)
			fail_msg("%s: got '%s', want '%s'", cases[i].field, id, cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_table),
		cmocka_unit_test(test_header_too_big),
		cmocka_unit_test(test_header_long_value),
		cmocka_unit_test(test_header_line_too_long),
		cmocka_unit_test(test_msgid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
