/*
 * test_smtp_acl - trusted_networks matching (CIDR, IPv6, IPv4-mapped).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "smtp_acl.h"

struct acl_case {
	const char *ip;
	bool want;
};

static const struct acl_case acl_cases[] = {
	{ "127.0.0.1", true }, { "127.255.1.2", true }, { "128.0.0.1", false },
	{ "10.1.2.3", true }, { "10.1.2.4", false }, { "192.168.7.9", true },
	{ "192.168.8.1", false }, { "::1", true }, { "::2", false },
	{ "::ffff:127.0.0.9", true }, { "::ffff:8.8.8.8", false },
	{ "2001:db8::5", true }, { "2001:db9::5", false }, { "junk", false },
};

/* test_match - table: got X, want Y */
static void
test_match(void **state)
{
	char *nets[] = { "127.0.0.0/8", "::1/128", "10.1.2.3", "192.168.6.0/23", "2001:db8::/32" };
	struct strvec sv = { nets, 5 };
	const char *bad = NULL;
	struct smtp_acl *acl = smtp_acl_new(&sv, &bad);
	size_t i;

	assert_non_null(acl);
	for (i = 0; i < sizeof(acl_cases) / sizeof(acl_cases[0]); i++)
		if (smtp_acl_match_str(acl, acl_cases[i].ip) != acl_cases[i].want)
			fail_msg("%s: got %d, want %d", acl_cases[i].ip, !acl_cases[i].want,
			    acl_cases[i].want);
	smtp_acl_free(acl);
}

/* test_bad_entries - refused with the entry named */
static void
test_bad_entries(void **state)
{
	const char *bads[] = { "127.0.0.0/33", "::1/129", "1.2.3", "1.2.3.4/", "1.2.3.4/x", "host.example" };
	size_t i;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		char *v[] = { (char *)bads[i] };
		struct strvec sv = { v, 1 };
		const char *bad = NULL;

		if (smtp_acl_new(&sv, &bad) != NULL)
			fail_msg("%s: accepted", bads[i]);
		assert_string_equal(bad, bads[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_bad_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
