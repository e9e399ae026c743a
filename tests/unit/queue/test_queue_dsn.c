/*
 * test_queue_dsn - the structure of a generated delivery status
 * notification: header, the three MIME parts, per-recipient fields, CRLF
 * line ends only, replies flattened to one line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "queue_dsn.h"

static const char orig[] =
    "From: Alice <alice@src.test>\r\nTo: bob@dst.test\r\n"
    "Subject: hello\r\nMessage-ID: <m1@src.test>\r\n\r\n";

/* build - a DSN for two recipients */
static char *
build(size_t *len)
{
	const struct qdsn_rcpt r[] = {
		{ "bob@dst.test", "5.1.1", "mx.dst.test (127.0.0.1)",
		    "550 5.1.1 <bob@dst.test>: User unknown" },
		{ "carol@dst.test", "4.4.7", "", "451 4.3.0 try\r\nlater" },
	};
	struct qdsn d = { "mta.test", "alice@src.test", "0123abcd", "dsn1@mta.test",
	    1700000000000ULL, 1700000100000ULL, r, 2, orig, sizeof(orig) - 1 };
	char *out = NULL;

	assert_int_equal(qdsn_build(&d, &out, len), 0);
	assert_non_null(out);
	return out;
}

/* has - TEXT contains NEEDLE */
static void
has(const char *text, const char *needle)
{
	if (strstr(text, needle) == NULL)
		fail_msg("missing \"%s\" in:\n%s", needle, text);
}

static void
test_header(void **state)
{
	size_t len;
	char *t = build(&len);

	assert_int_equal(strncmp(t, "From: Mail Delivery System "
	    "<MAILER-DAEMON@mta.test>\r\n", 51), 0);
	has(t, "\r\nTo: <alice@src.test>\r\n");
	has(t, "\r\nSubject: Undelivered Mail Returned to Sender\r\n");
	has(t, "\r\nMessage-ID: <dsn1@mta.test>\r\n");
	has(t, "\r\nAuto-Submitted: auto-replied\r\n");
	has(t, "\r\nContent-Type: multipart/report; report-type=delivery-status;"
	    "\r\n\tboundary=\"0123abcd.1700000100/mta.test\"\r\n");
	free(t);
}

static void
test_parts(void **state)
{
	size_t len;
	char *t = build(&len);
	const char *human, *status, *hdrs;

	human = strstr(t, "--0123abcd.1700000100/mta.test\r\nContent-Description: "
	    "Notification\r\nContent-Type: text/plain");
	status = strstr(t, "Content-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; mta.test\r\n");
	hdrs = strstr(t, "Content-Type: text/rfc822-headers\r\n\r\nFrom: Alice");
	assert_non_null(human);
	assert_non_null(status);
	assert_non_null(hdrs);
	assert_true(human < status && status < hdrs);
	has(t, "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n");
	has(hdrs, "Message-ID: <m1@src.test>\r\n");
	assert_string_equal(t + len - 36, "\r\n--0123abcd.1700000100/mta.test--\r\n");
	free(t);
}

static void
test_recipients(void **state)
{
	size_t len;
	char *t = build(&len);

	has(t, "\r\n\r\nFinal-Recipient: rfc822; bob@dst.test\r\nAction: failed\r\n"
	    "Status: 5.1.1\r\nRemote-MTA: dns; mx.dst.test (127.0.0.1)\r\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <bob@dst.test>: User unknown\r\n");
	/* no Remote-MTA without a remote host; the reply's CRLF flattened */
	has(t, "\r\n\r\nFinal-Recipient: rfc822; carol@dst.test\r\nAction: failed\r\n"
	    "Status: 4.4.7\r\nDiagnostic-Code: smtp; 451 4.3.0 try  later\r\n");
	has(t, "<bob@dst.test>: 550 5.1.1 <bob@dst.test>: User unknown\r\n");
	free(t);
}

static void
test_crlf_only(void **state)
{
	size_t len;
	char *t = build(&len);

	for (size_t i = 0; i < len; i++)
		if (t[i] == '\n' && (i == 0 || t[i - 1] != '\r'))
			fail_msg("bare LF at offset %zu", i);
	free(t);
}

static void
test_local_reason(void **state)
{
	const struct qdsn_rcpt r[] = {
		{ "x@nx.test", "5.4.4", "", "5.4.4 nx.test: NXDOMAIN" },
	};
	struct qdsn d = { "mta.test", "a@b.test", "q", "d@mta.test", 0, 0, r, 1,
	    "", 0 };
	char *out;
	size_t len;

	assert_int_equal(qdsn_build(&d, &out, &len), 0);
	has(out, "Diagnostic-Code: x-posthaste; 5.4.4 nx.test: NXDOMAIN\r\n");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_recipients),
		cmocka_unit_test(test_crlf_only),
		cmocka_unit_test(test_local_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
