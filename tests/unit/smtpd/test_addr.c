/*
 * test_addr - common/addr.c: SMTP paths, mailboxes, header address lists.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"

struct path_case {
	const char *in;
	bool allow_null;
	int want;
	const char *want_addr;
	const char *want_rest;
};

static const struct path_case path_cases[] = {
	{ "<a@b.example>", false, 0, "a@b.example", "" },
	{ "<a@b.example> SIZE=10", false, 0, "a@b.example", " SIZE=10" },
	{ " <a@b.example>", false, 0, "a@b.example", "" },
	{ "<>", true, 0, "", "" },
	{ "<>", false, -1, NULL, NULL },
	{ "<@r1.example,@r2.example:a@b.example>", false, 0, "a@b.example", "" },
	{ "<\"john doe\"@b.example>", false, 0, "\"john doe\"@b.example", "" },
	{ "<\"a>b\"@b.example>", false, 0, "\"a>b\"@b.example", "" },
	{ "<first.last+tag@sub.b-c.example>", false, 0, "first.last+tag@sub.b-c.example", "" },
	{ "<a@[127.0.0.1]>", false, 0, "a@[127.0.0.1]", "" },
	{ "<a@[IPv6:::1]>", false, 0, "a@[IPv6:::1]", "" },
	{ "<a@[300.0.0.1]>", false, -1, NULL, NULL },
	{ "a@b.example", false, -1, NULL, NULL },
	{ "<a@b.example", false, -1, NULL, NULL },
	{ "<a>", false, -1, NULL, NULL },
	{ "<@b.example>", false, -1, NULL, NULL },
	{ "<a@>", false, -1, NULL, NULL },
	{ "<a..b@c.example>", false, -1, NULL, NULL },
	{ "<.a@c.example>", false, -1, NULL, NULL },
	{ "<a.@c.example>", false, -1, NULL, NULL },
	{ "<a b@c.example>", false, -1, NULL, NULL },
	{ "<a@-c.example>", false, -1, NULL, NULL },
	{ "<a@c-.example>", false, -1, NULL, NULL },
	{ "<a@c..example>", false, -1, NULL, NULL },
	{ "<a@c_d.example>", false, -1, NULL, NULL },
	{ "<\"unterminated@c.example>", false, -1, NULL, NULL },
	{ "<a@b@c.example>", false, -1, NULL, NULL },
	{ "<\xc3\xa9@c.example>", false, -1, NULL, NULL },
	{ "<@r1.example:>", true, -1, NULL, NULL },
};

/* test_parse_path - table of paths: got X, want Y */
static void
test_parse_path(void **state)
{
	char out[ADDR_MAX + 1];
	const char *rest;
	size_t i;

	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		const struct path_case *c = &path_cases[i];
		int got = addr_parse_path(c->in, c->allow_null, out, &rest);

		if (got != c->want)
			fail_msg("addr_parse_path(%s): got %d, want %d", c->in, got, c->want);
		if (got == 0 && strcmp(out, c->want_addr) != 0)
			fail_msg("addr_parse_path(%s): got <%s>, want <%s>", c->in, out, c->want_addr);
		if (got == 0 && strcmp(rest, c->want_rest) != 0)
			fail_msg("addr_parse_path(%s): rest got '%s', want '%s'", c->in, rest, c->want_rest);
	}
}

/* test_too_long - local part over 64, domain label over 63, total over ADDR_MAX */
static void
test_too_long(void **state)
{
	char buf[600];

	memset(buf, 'a', 65);
	strcpy(buf + 65, "@x.example");
	assert_false(addr_valid(buf));
	memset(buf, 'a', 64);
	strcpy(buf + 64, "@x.example");
	assert_true(addr_valid(buf));
	strcpy(buf, "a@");
	memset(buf + 2, 'b', 64);
	strcpy(buf + 66, ".example");
	assert_false(addr_valid(buf));
	buf[0] = '<';
	memset(buf + 1, 'a', 500);
	strcpy(buf + 501, "@x>");
	assert_int_equal(addr_parse_path(buf, false, (char[ADDR_MAX + 1]){0}, NULL), -1);
}

/* test_domain_lower - helpers */
static void
test_domain_lower(void **state)
{
	char a[] = "John.Doe@Example.COM";

	assert_string_equal(addr_domain(a), "Example.COM");
	assert_string_equal(addr_domain("nodomain"), "");
	addr_lower(a);
	assert_string_equal(a, "john.doe@example.com");
}

struct list_out {
	char got[512];
};

/* list_cb - join the mailboxes with '|' */
static void
list_cb(void *arg, const char *mailbox)
{
	struct list_out *o = arg;

	if (o->got[0])
		strcat(o->got, "|");
	strcat(o->got, mailbox);
}

struct list_case {
	const char *in;
	int want;
	const char *want_list;
};

static const struct list_case list_cases[] = {
	{ "a@b.example", 1, "a@b.example" },
	{ "<a@b.example>", 1, "a@b.example" },
	{ "\"Doe, John\" <j@b.example>", 1, "j@b.example" },
	{ "John Doe <j@b.example>, x@y.example", 2, "j@b.example|x@y.example" },
	{ "j@b.example (John Doe)", 1, "j@b.example" },
	{ "(c (nested)) j@b.example", 1, "j@b.example" },
	{ "Team: a@b.example, c@d.example;, e@f.example", 3, "a@b.example|c@d.example|e@f.example" },
	{ "undisclosed-recipients:;", 0, "" },
	{ "\"q\\\"x\" <\"quoted local\"@b.example>", 1, "\"quoted local\"@b.example" },
	{ "=?UTF-8?B?w6k=?= <a@b.example>", 1, "a@b.example" },
	{ "a@b.example,\r\n\tc@d.example", 2, "a@b.example|c@d.example" },
	{ "", 0, "" },
	{ "Doe, John <j@b.example>", -1, NULL },
	{ "<a@b.example", -1, NULL },
	{ "\"unterminated <a@b.example>", -1, NULL },
	{ "(unterminated a@b.example", -1, NULL },
	{ "not an address", -1, NULL },
	{ "<a@b.example> <c@d.example>", -1, NULL },
};

/* test_list_parse - table of From:-style values */
static void
test_list_parse(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++) {
		const struct list_case *c = &list_cases[i];
		struct list_out o = { "" };
		int got = addr_list_parse(c->in, strlen(c->in), list_cb, &o);

		if (got != c->want)
			fail_msg("addr_list_parse(%s): got %d, want %d", c->in, got, c->want);
		if (got >= 0 && strcmp(o.got, c->want_list) != 0)
			fail_msg("addr_list_parse(%s): got '%s', want '%s'", c->in, o.got, c->want_list);
	}
}

/* test_list_not_terminated - LEN bounds the scan, no NUL needed */
static void
test_list_not_terminated(void **state)
{
	const char buf[] = { 'a', '@', 'b', '.', 'x', 'X', 'X' };
	struct list_out o = { "" };

	assert_int_equal(addr_list_parse(buf, 5, list_cb, &o), 1);
	assert_string_equal(o.got, "a@b.x");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_path),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_domain_lower),
		cmocka_unit_test(test_list_parse),
		cmocka_unit_test(test_list_not_terminated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
