/*
 * test_dkim_canon - frontend/submit/dkim_canon: the RFC 6376 3.4.5 example, then the
 * edges one at a time: folds, tabs, WSP around the colon and at the ends,
 * empty and missing bodies, bodies without a final CRLF, trailing empty and
 * blank lines, bare CR/LF as ordinary octets, the header scan's end cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dkim_canon.h"

/* body - IN relaxed, as a malloc'd string */
static char *body(const char *in)
{
	size_t len = strlen(in);
	char *out = malloc(len + 3);

	out[dkim_canon_body((const uint8_t *)in, len, (uint8_t *)out)] = '\0';
	return out;
}

/* check_body - IN canonicalizes to WANT */
static void check_body(const char *in, const char *want)
{
	char *got = body(in);

	assert_string_equal(got, want);
	free(got);
}

/* header - the single field of FIELD (with its CRLF) relaxed */
static char *header(const char *field)
{
	struct dkim_field f;
	size_t off = 0, len = strlen(field);
	char *out = malloc(len + 1);

	assert_int_equal(dkim_canon_field_next((const uint8_t *)field, len, &off, &f), 1);
	assert_int_equal(off, len);
	out[dkim_canon_header(&f, out)] = '\0';
	return out;
}

/* check_header - FIELD canonicalizes to WANT */
static void check_header(const char *field, const char *want)
{
	char *got = header(field);

	assert_string_equal(got, want);
	free(got);
}

/* test_rfc_example - RFC 6376 3.4.5, relaxed/relaxed */
static void test_rfc_example(void **state)
{
	static const char msg[] = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";
	struct dkim_field f;
	size_t off = 0, len = strlen(msg);
	char out[64];

	assert_int_equal(dkim_canon_field_next((const uint8_t *)msg, len, &off, &f), 1);
	out[dkim_canon_header(&f, out)] = '\0';
	assert_string_equal(out, "a:X");
	assert_int_equal(dkim_canon_field_next((const uint8_t *)msg, len, &off, &f), 1);
	assert_int_equal(f.name_len, 1);
	out[dkim_canon_header(&f, out)] = '\0';
	assert_string_equal(out, "b:Y Z");
	assert_int_equal(dkim_canon_field_next((const uint8_t *)msg, len, &off, &f), 0);
	assert_string_equal(msg + off, " C \r\nD \t E\r\n\r\n\r\n");
	check_body(msg + off, " C\r\nD E\r\n");
}

/* test_header_edges - folds, tabs, case, the colon, empty values */
static void test_header_edges(void **state)
{
	check_header("Subject: a\r\n  folded\r\n\tline \r\n", "subject:a folded line");
	check_header("SUBJECT:\tTabbed\t\tvalue\t\r\n", "subject:Tabbed value");
	check_header("To \t:  x@y  \r\n", "to:x@y");
	check_header("X-Empty:\r\n", "x-empty:");
	check_header("X-Blank:   \r\n", "x-blank:");
	check_header("X-Fold:\r\n value\r\n", "x-fold:value");
	check_header("X-Colons: a:b : c\r\n", "x-colons:a:b : c");
	/* a bare CR or LF is not a line end: kept as an octet */
	check_header("X-Bare: a\rb\nc\r\n", "x-bare:a\rb\nc");
	/* 8-bit text passes unchanged */
	check_header("Subject: caf\xc3\xa9  \xe2\x82\xac\r\n", "subject:caf\xc3\xa9 \xe2\x82\xac");
	/* no colon: the name alone, lowercased */
	check_header("NoColon\r\n", "nocolon");
}

/* test_field_scan - field boundaries, names, the body offset */
static void test_field_scan(void **state)
{
	static const char hdr_only[] = "From: a\r\nTo: b";
	static const char no_body[] = "From: a\r\nTo: b\r\n";
	static const char folded[] = "From: a\r\n\tb\r\nTo: c\r\n\r\nbody";
	const uint8_t *m;
	struct dkim_field f;
	size_t off = 0;

	/* the last field ends at the message's end, without CRLF */
	m = (const uint8_t *)hdr_only;
	assert_int_equal(dkim_canon_field_next(m, strlen(hdr_only), &off, &f), 1);
	assert_int_equal(f.len, 7);
	assert_int_equal(dkim_canon_field_next(m, strlen(hdr_only), &off, &f), 1);
	assert_int_equal(f.len, 5);
	assert_true(dkim_canon_field_is(&f, "to"));
	assert_false(dkim_canon_field_is(&f, "t"));
	assert_false(dkim_canon_field_is(&f, "tox"));
	assert_int_equal(dkim_canon_field_next(m, strlen(hdr_only), &off, &f), 0);
	assert_int_equal(off, strlen(hdr_only));
	/* no empty line: the body is empty */
	off = 0;
	m = (const uint8_t *)no_body;
	while (dkim_canon_field_next(m, strlen(no_body), &off, &f))
		;
	assert_int_equal(off, strlen(no_body));
	/* a fold belongs to its field */
	off = 0;
	m = (const uint8_t *)folded;
	assert_int_equal(dkim_canon_field_next(m, strlen(folded), &off, &f), 1);
	assert_int_equal(f.len, 11);
	assert_true(dkim_canon_field_is(&f, "FROM"));
	assert_int_equal(dkim_canon_field_next(m, strlen(folded), &off, &f), 1);
	assert_int_equal(dkim_canon_field_next(m, strlen(folded), &off, &f), 0);
	assert_string_equal(folded + off, "body");
}

/* test_body_edges - the body rules one by one */
static void test_body_edges(void **state)
{
	/* empty, or empty lines only: nothing (a CRLF is "simple" only) */
	check_body("", "");
	check_body("\r\n", "");
	check_body("\r\n\r\n\r\n", "");
	check_body(" \t \r\n\t\r\n", "");
	/* a last line without CRLF gets one */
	check_body("no newline", "no newline\r\n");
	check_body("a\r\nb", "a\r\nb\r\n");
	check_body("trailing  \t", "trailing\r\n");
	/* trailing empty and blank lines go, inner ones stay */
	check_body("a\r\n\r\n\r\nb\r\n\r\n \r\n\t\r\n", "a\r\n\r\n\r\nb\r\n");
	check_body("a\r\n  \r\nb\r\n", "a\r\n\r\nb\r\n");
	/* WSP runs are one SP, at line start too; WSP at line end goes */
	check_body("\tx\t\ty \r\n", " x y\r\n");
	check_body("a \t b\t\r\n  c  \r\n", "a b\r\n c\r\n");
	/* a bare LF or CR is an octet of the line, not a line end */
	check_body("a\nb\r\n", "a\nb\r\n");
	check_body("a\r\r\n", "a\r\r\n");
	check_body("a\r", "a\r\r\n");
	/* a leading dot (already unstuffed) is text */
	check_body(".\r\n..x\r\n", ".\r\n..x\r\n");
}

/* test_body_large - 100 KiB of lines, then blank lines: size and end */
static void test_body_large(void **state)
{
	size_t n = 100 * 1024, len;
	char *in = malloc(n + 1), *out = malloc(n + 3);

	for (size_t i = 0; i < n; i++)
		in[i] = i % 64 == 62 ? '\r' : i % 64 == 63 ? '\n' : i % 7 == 0 ? ' ' : 'x';
	memcpy(in + n - 8, "\r\n \r\n\r\n", 8);
	len = dkim_canon_body((const uint8_t *)in, n, (uint8_t *)out);
	assert_true(len > 0 && len < n);
	assert_memory_equal(out + len - 2, "\r\n", 2);
	assert_true(out[len - 3] != '\n' && out[len - 3] != ' ');
	free(in);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_header_edges),
		cmocka_unit_test(test_field_scan),
		cmocka_unit_test(test_body_edges),
		cmocka_unit_test(test_body_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
