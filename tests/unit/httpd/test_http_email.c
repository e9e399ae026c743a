/*
 * test_http_email - frontend/http/http_email.c and http_mime.c: decoding a
 * SubmitEmailDetails body (every documented refusal, from a table of
 * bodies), header-field validation, and the message built from it (RFC 2047
 * encoded-words; no CR or LF from any field ever reaches a header line).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "http_email.h"
#include "http_mime.h"
#include "submit_buf.h"

#define SENDER "\"sender\":{\"compartmentId\":\"c1\",\"senderAddress\":{\"email\":\"a@s.test\"}}"
#define TO "\"recipients\":{\"to\":[{\"email\":\"b@d.test\"}]}"
#define TEXTS "\"subject\":\"hi\",\"bodyText\":\"x\""
#define OK_BODY "{" SENDER "," TO "," TEXTS

struct refusal {
	const char *body;
	const char *code;
	const char *message;
};

static const struct refusal refusals[] = {
	/* CannotParseRequest */
	{ "{", "CannotParseRequest", "Request body is not valid JSON." },
	{ "{\"subject\":\"a\",\"subject\":\"b\"}", "CannotParseRequest",
	  "Request body is not valid JSON." },
	{ "{\"subject\":\"\xff\"}", "CannotParseRequest", "Request body is not valid JSON." },
	{ "[1]", "CannotParseRequest", "Request body must be a JSON object." },
	{ "{\"sender\":5}", "CannotParseRequest", "Invalid value for attribute sender." },
	{ OK_BODY ",\"headerFields\":[1]}", "CannotParseRequest",
	  "Invalid value for attribute headerFields." },
	/* MissingParameter (5) */
	{ "{" TO "," TEXTS "}", "MissingParameter",
	  "Required attribute sender can't be empty or null." },
	{ "{\"sender\":{\"senderAddress\":{\"email\":\"a@s.test\"}}," TO "," TEXTS "}",
	  "MissingParameter", "Required attribute sender compartmentId cannot be empty or null." },
	{ "{" SENDER "," TEXTS "}", "MissingParameter",
	  "Required attribute recipients must contain either to , cc or bcc recipients." },
	{ "{" SENDER "," TO ",\"bodyText\":\"x\"}", "MissingParameter",
	  "Required attribute subject can't be empty or null." },
	{ "{" SENDER "," TO ",\"subject\":\"hi\"}", "MissingParameter",
	  "Required attribute body(html/text) is missing. Request must contain either bodyText "
	  "or bodyHtml" },
	/* InvalidParameter (7) */
	{ OK_BODY ",\"messageId\":\"no-at\"}", "InvalidParameter",
	  "Message ID not formed according to RFCs." },
	{ "{" SENDER ",\"recipients\":{\"to\":[{\"email\":\"\"}]}," TEXTS "}", "InvalidParameter",
	  "Email Address can't be null or empty." },
	{ "{" SENDER ",\"recipients\":{\"to\":[{\"email\":\"bad address@\"}]}," TEXTS "}",
	  "InvalidParameter", "Invalid Internet Address : bad address@" },
	{ OK_BODY ",\"headerFields\":{\"\":\"v\"}}", "InvalidParameter",
	  "Header Key can't be null or empty" },
	{ OK_BODY ",\"headerFields\":{\"X-\xc3\x9c\":\"v\"}}", "InvalidParameter",
	  "Custom Mail Header Keys should be ASCII only X-\xc3\x9c" },
	{ OK_BODY ",\"headerFields\":{\"X-A:b\":\"v\"}}", "InvalidParameter",
	  "Custom Mail Header Keys should be ASCII only X-A:b" },
	{ OK_BODY ",\"headerFields\":{\"bcc\":\"v\"}}", "InvalidParameter",
	  "bcc is a reserved mail header which is not allowed" },
};

/* every refusal: status 400, the documented code and message */
static void test_refusals(void **state)
{
	struct http_email m;
	struct http_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];
		int rc = http_email_decode(r->body, strlen(r->body), &m, &e);
		http_email_clear(&m);
		if (rc != -1 || e.status != 400 || strcmp(e.code, r->code) != 0 ||
		    strcmp(e.message, r->message) != 0)
			fail_msg("case %zu: got %d %s \"%s\", want 400 %s \"%s\"", i, rc,
			    rc == -1 ? e.code : "-", rc == -1 ? e.message : "", r->code, r->message);
	}
}

/* 50 recipients across to, cc and bcc; 51 is refused */
static void test_recipient_cap(void **state)
{
	char body[8192], list[6000];
	struct http_email m;
	struct http_err e;
	size_t o = 0;

	(void)state;
	for (int n = 50; n <= 51; n++) {
		o = 0;
		for (int i = 0; i < n; i++)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s{\"email\":\"r%d@d.test\"}",
			    i ? "," : "", i);
		snprintf(body, sizeof(body), "{" SENDER ",\"recipients\":{\"to\":[%s]}," TEXTS "}",
		    list);
		assert_int_equal(http_email_decode(body, strlen(body), &m, &e), n == 50 ? 0 : -1);
		if (n == 50)
			assert_int_equal(http_email_nrcpt(&m), 50);
		else
			assert_string_equal(e.message,
			    "maxItems: 50, for recipients across the To:, CC: and BCC: fields.");
		http_email_clear(&m);
	}
}

/* header-field names and message ids */
static void test_field_checks(void **state)
{
	(void)state;
	assert_true(http_header_reserved("message-id"));
	assert_true(http_header_reserved("DKIM-Signature"));
	assert_false(http_header_reserved("X-Campaign"));
	assert_true(http_msgid_ok("<a.b@c.d>"));
	assert_true(http_msgid_ok("a@c"));
	assert_false(http_msgid_ok("a@@c"));
	assert_false(http_msgid_ok("a..b@c"));
	assert_false(http_msgid_ok("<a@c"));
	assert_true(http_address_ok("a@b.test"));
	assert_false(http_address_ok("\xc3\xa4@b.test"));
	assert_false(http_address_ok("a b@b.test"));
}

/* build - the message of BODY */
static char *build(const char *body)
{
	struct http_email m;
	struct http_err e;
	struct submit_buf out = { 0 };
	struct http_mime_ctx ctx = { "0123456789abcdef0123456789abcdef", 1700000000000ULL };

	assert_int_equal(http_email_decode(body, strlen(body), &m, &e), 0);
	assert_int_equal(http_mime_build(&m, &ctx, &out), 0);
	http_email_clear(&m);
	assert_int_equal(submit_buf_append(&out, "", 1), 0);	/* NUL-terminated */
	return out.p;
}

/* header_section_clean - every header line is printable ASCII (or a tab)
 * ending in CRLF: no CR or LF of a field survives */
static void header_section_clean(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");

	assert_non_null(end);
	for (const char *p = msg; p < end + 2; p++) {
		if (*p == '\r') {
			assert_int_equal(p[1], '\n');
			p++;
			continue;
		}
		if ((*p < 0x20 && *p != '\t') || (unsigned char)*p >= 0x7f)
			fail_msg("byte 0x%02x at %zd in the header section", (unsigned char)*p,
			    p - msg);
	}
}

/* decode_word - the text of the first "=?UTF-8?B?...?=" after NAME */
static void decode_word(const char *msg, const char *name, char *out, size_t cap)
{
	const char *p = strstr(msg, name), *end;
	unsigned char buf[512];
	char b64[512];
	int n;

	assert_non_null(p);
	p = strstr(p, "=?UTF-8?B?");
	assert_non_null(p);
	p += 10;
	end = strstr(p, "?=");
	assert_non_null(end);
	snprintf(b64, sizeof(b64), "%.*s", (int)(end - p), p);
	n = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)strlen(b64));
	assert_true(n > 0);
	n -= (b64[strlen(b64) - 1] == '=') + (b64[strlen(b64) - 2] == '=');
	snprintf(out, cap, "%.*s", n, (const char *)buf);
}

/* non-ASCII subjects and header values become RFC 2047 encoded-words */
static void test_rfc2047(void **state)
{
	char *msg = build("{" SENDER "," TO ",\"subject\":\"Gr\xc3\xbc\xc3\x9f" "e\","
	    "\"bodyText\":\"x\",\"headerFields\":{\"X-Note\":\"caf\xc3\xa9\"}}");
	char text[256];

	(void)state;
	header_section_clean(msg);
	decode_word(msg, "\r\nSubject:", text, sizeof(text));
	assert_string_equal(text, "Gr\xc3\xbc\xc3\x9f" "e");
	decode_word(msg, "\r\nX-Note:", text, sizeof(text));
	assert_string_equal(text, "caf\xc3\xa9");
	assert_non_null(strstr(msg, "\r\nX-Note: =?UTF-8?B?"));
	free(msg);
}

/* CR/LF in a subject, a display name or a header value never ends a line */
static void test_no_header_injection(void **state)
{
	char *msg = build("{\"sender\":{\"compartmentId\":\"c1\",\"senderAddress\":"
	    "{\"email\":\"a@s.test\",\"name\":\"A\\r\\nBcc: x@evil.test\"}},"
	    "\"recipients\":{\"to\":[{\"email\":\"b@d.test\",\"name\":\"B\\nX-Evil: 1\"}]},"
	    "\"subject\":\"hi\\r\\nBcc: y@evil.test\",\"bodyText\":\"x\","
	    "\"headerFields\":{\"X-Tag\":\"v\\r\\nBcc: z@evil.test\"}}");
	char text[256];

	(void)state;
	header_section_clean(msg);
	assert_null(strstr(msg, "\r\nBcc:"));
	assert_null(strstr(msg, "\r\nX-Evil:"));
	decode_word(msg, "\r\nX-Tag:", text, sizeof(text));
	assert_string_equal(text, "v\r\nBcc: z@evil.test");
	free(msg);
}

/* plain ASCII stays as it is; messageId with or without brackets */
static void test_ascii_unencoded(void **state)
{
	char *msg = build(OK_BODY ",\"messageId\":\"<id@s.test>\","
	    "\"headerFields\":{\"X-Campaign\":\"spring 2025\"}}");

	(void)state;
	header_section_clean(msg);
	assert_non_null(strstr(msg, "\r\nSubject: hi\r\n"));
	assert_non_null(strstr(msg, "\r\nX-Campaign: spring 2025\r\n"));
	assert_non_null(strstr(msg, "\r\nMessage-ID: <id@s.test>\r\n"));
	free(msg);
	msg = build(OK_BODY ",\"messageId\":\"id2@s.test\"}");
	assert_non_null(strstr(msg, "\r\nMessage-ID: <id2@s.test>\r\n"));
	free(msg);
	msg = build(OK_BODY "}");	/* the pipeline adds one */
	assert_null(strstr(msg, "Message-ID:"));
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_recipient_cap),
		cmocka_unit_test(test_field_checks),
		cmocka_unit_test(test_rfc2047),
		cmocka_unit_test(test_no_header_injection),
		cmocka_unit_test(test_ascii_unencoded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
