/*
 * test_relay_tls_policy - the [relay] tls_policy table: levels by domain
 * (exact beats wildcards, nearer wildcards beat farther ones, default may),
 * bad entries refused with the entry named.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "relay_tls.h"

static void test_lookup(void **state)
{
	char *v[] = { "*.test=encrypt", "Bank.TEST=verify", "*.mail.test=may",
	    "*=may" };
	struct strvec e = { v, 4 };
	static const struct { const char *domain; enum relay_tls_level want; } cases[] = {
		{ "bank.test", RELAY_TLS_VERIFY },
		{ "other.test", RELAY_TLS_ENCRYPT },
		{ "x.mail.test", RELAY_TLS_MAY },
		{ "example.com", RELAY_TLS_MAY },
	};
	struct relay_tls_policies *p;
	char *err = NULL;
	size_t i;

	p = relay_tls_policies_parse(&e, &err);
	assert_non_null(p);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum relay_tls_level got = relay_tls_policy(p, cases[i].domain);
		if (got != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].domain,
			    relay_tls_level_name(got),
			    relay_tls_level_name(cases[i].want));
	}
	assert_true(relay_tls_policies_need_verify(p));
	relay_tls_policies_free(p);
}

static void test_default_may(void **state)
{
	struct strvec e = { NULL, 0 };
	struct relay_tls_policies *p;
	char *err = NULL;

	p = relay_tls_policies_parse(&e, &err);
	assert_non_null(p);
	assert_int_equal(relay_tls_policy(p, "example.com"), RELAY_TLS_MAY);
	assert_false(relay_tls_policies_need_verify(p));
	relay_tls_policies_free(p);
}

static void test_bad_entries(void **state)
{
	static const char *bad[] = { "example.com", "example.com=secure", "=verify",
	    "example.com=" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *v[] = { "ok.test=encrypt", (char *)bad[i] };
		struct strvec e = { v, 2 };
		char *err = NULL;

		assert_null(relay_tls_policies_parse(&e, &err));
		assert_non_null(err);
		assert_non_null(strstr(err, bad[i]));
		free(err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_default_may),
		cmocka_unit_test(test_bad_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
