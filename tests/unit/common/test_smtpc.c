/*
 * test_relay_reply - SMTP reply parser, enhanced codes, outcome
 * classification, EHLO capabilities and dot-stuffing of ph-relay.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "msg.h"
#include "smtpc.h"

/* feed - feed LINES (NULL-terminated) and return the last feed result */
static int feed(struct smtpc_reply *r, const char *const *lines)
{
	int rc = -2;

	smtpc_reply_reset(r);
	for (; *lines; lines++)
		rc = smtpc_reply_feed(r, *lines, strlen(*lines));
	return rc;
}

static void test_single_line(void **state)
{
	const char *lines[] = { "250 2.1.5 Recipient ok", NULL };
	struct smtpc_reply r;
	char sum[128];

	assert_int_equal(feed(&r, lines), 1);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.enh, "2.1.5");
	smtpc_reply_summary(&r, sum, sizeof(sum));
	assert_string_equal(sum, "250 2.1.5 Recipient ok");
}

static void test_multi_line(void **state)
{
	struct smtpc_reply r;
	char sum[256];

	smtpc_reply_reset(&r);
	assert_int_equal(smtpc_reply_feed(&r, "550-5.1.1 The email account", 27), 0);
	assert_int_equal(smtpc_reply_feed(&r, "550-5.1.1 does not exist.", 25), 0);
	assert_int_equal(smtpc_reply_feed(&r, "550 5.1.1 Try again", 19), 1);
	assert_int_equal(r.code, 550);
	assert_int_equal(r.lines, 3);
	assert_string_equal(r.enh, "5.1.1");
	smtpc_reply_summary(&r, sum, sizeof(sum));
	assert_string_equal(sum, "550 5.1.1 The email account 5.1.1 does not exist."
	    " 5.1.1 Try again");
}

static void test_bare_code(void **state)
{
	const char *lines[] = { "250", NULL };
	struct smtpc_reply r;
	char sum[32];

	assert_int_equal(feed(&r, lines), 1);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.enh, "");
	smtpc_reply_summary(&r, sum, sizeof(sum));
	assert_string_equal(sum, "250");
}

static void test_malformed(void **state)
{
	static const char *bad[] = { "", "25", "abc hello", "2x0 ok", "250x",
	    "650 nope", "099 low" };
	struct smtpc_reply r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		smtpc_reply_reset(&r);
		if (smtpc_reply_feed(&r, bad[i], strlen(bad[i])) != -1)
			fail_msg("line \"%s\": got accepted, want -1", bad[i]);
	}
	/* a continuation with another code is malformed */
	smtpc_reply_reset(&r);
	assert_int_equal(smtpc_reply_feed(&r, "250-a", 5), 0);
	assert_int_equal(smtpc_reply_feed(&r, "251 b", 5), -1);
}

static void test_enhanced_codes(void **state)
{
	static const struct { const char *line; const char *enh; } cases[] = {
		{ "250 2.0.0 Ok", "2.0.0" },
		{ "451 4.7.1 Try later", "4.7.1" },
		{ "550 5.7.26 Unauthenticated", "5.7.26" },
		{ "554 5.123.456 x", "5.123.456" },
		{ "550 4.1.1 class mismatch", "" },
		{ "550 5.1 short", "" },
		{ "550 5.1.1234 long", "" },
		{ "550 5.1.1x glued", "" },
		{ "250 Ok", "" },
		{ "220 5.0.0", "" },
	};
	struct smtpc_reply r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		smtpc_reply_reset(&r);
		smtpc_reply_feed(&r, cases[i].line, strlen(cases[i].line));
		if (strcmp(r.enh, cases[i].enh) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i].line,
			    r.enh, cases[i].enh);
	}
}

static void test_outcome(void **state)
{
	static const struct { int code; Ph__Outcome want; } cases[] = {
		{ 250, PH__OUTCOME__OUTCOME_DELIVERED },
		{ 251, PH__OUTCOME__OUTCOME_DELIVERED },
		{ 421, PH__OUTCOME__OUTCOME_DEFERRED },
		{ 450, PH__OUTCOME__OUTCOME_DEFERRED },
		{ 452, PH__OUTCOME__OUTCOME_DEFERRED },
		{ 550, PH__OUTCOME__OUTCOME_FAILED },
		{ 554, PH__OUTCOME__OUTCOME_FAILED },
		{ 354, PH__OUTCOME__OUTCOME_DEFERRED },
		{ 0, PH__OUTCOME__OUTCOME_DEFERRED },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (smtpc_reply_outcome(cases[i].code) != cases[i].want)
			fail_msg("code %d: got %s, want %s", cases[i].code,
			    msg_outcome_name(smtpc_reply_outcome(cases[i].code)),
			    msg_outcome_name(cases[i].want));
}

static void test_ehlo_caps(void **state)
{
	const char *lines[] = { "250-mx.example.com Hello", "250-PIPELINING",
	    "250-SIZE 10240000", "250-starttls", "250-ENHANCEDSTATUSCODES",
	    "250-PIPELININGX", "250 8BITMIME", NULL };
	const char *greeting_only[] = { "250 STARTTLS.example.com", NULL };
	struct smtpc_reply r;

	assert_int_equal(feed(&r, lines), 1);
	assert_int_equal(smtpc_ehlo_caps(&r), SMTPC_CAP_PIPELINING |
	    SMTPC_CAP_SIZE | SMTPC_CAP_STARTTLS | SMTPC_CAP_ENHANCED |
	    SMTPC_CAP_8BITMIME);
	/* the first line is the server's name, never a keyword */
	assert_int_equal(feed(&r, greeting_only), 1);
	assert_int_equal(smtpc_ehlo_caps(&r), 0);
}

/* stuff - dot-stuff IN and compare with WANT */
static void stuff(const char *in, const char *want)
{
	size_t len;
	char *out = smtpc_dot_stuff((const uint8_t *)in, strlen(in), &len);

	assert_non_null(out);
	if (len != strlen(want) || memcmp(out, want, len) != 0)
		fail_msg("in \"%s\": got \"%.*s\", want \"%s\"", in, (int)len, out,
		    want);
	free(out);
}

static void test_dot_stuff(void **state)
{
	stuff("a\r\nb\r\n", "a\r\nb\r\n.\r\n");
	stuff(".a\r\n..b\r\nc.\r\n.\r\n", "..a\r\n...b\r\nc.\r\n..\r\n.\r\n");
	stuff("no final newline", "no final newline\r\n.\r\n");
	stuff("bare\nlf\n.x\n", "bare\r\nlf\r\n..x\r\n.\r\n");
	stuff("", ".\r\n");
	stuff(".", "..\r\n.\r\n");
}

static void test_dot_stuff_large(void **state)
{
	size_t n = 100000, len, i, dots = 0;
	char *in = malloc(n), *out;

	assert_non_null(in);
	for (i = 0; i < n; i++)
		in[i] = (i % 2) ? '\n' : '.';	/* ".\n.\n..." worst case */
	out = smtpc_dot_stuff((const uint8_t *)in, n, &len);
	assert_non_null(out);
	for (i = 0; i < len; i++)
		dots += out[i] == '.';
	assert_int_equal(dots, n + 1);	/* every line doubled + final dot */
	assert_int_equal(len, n / 2 * 4 + 3);
	free(in);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_line),
		cmocka_unit_test(test_multi_line),
		cmocka_unit_test(test_bare_code),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_enhanced_codes),
		cmocka_unit_test(test_outcome),
		cmocka_unit_test(test_ehlo_caps),
		cmocka_unit_test(test_dot_stuff),
		cmocka_unit_test(test_dot_stuff_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
