/*
 * test_dkim_diag - the DNS diagnosis of a DKIM key: a table of DNS answers
 * and the verdict and fix each must give (got X, want Y), plus the names a
 * check queries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control_dkim.h"

#define N "s1._domainkey.mail.example.com"
#define V "s1.mail.example.com.dkim.posthaste.localdomain"
#define KEY "MIIBIjANkey"
#define TXT_OK "v=DKIM1; k=rsa; p=" KEY

static const struct dkim_diag_in in = {
	"mail.example.com", "s1", N, V, KEY,
};

struct diag_case {
	const char *what;
	struct dkim_rr rrs[3];
	size_t nrr;
	enum dkim_verdict want;
	const char *want_detail;	/* a fragment the detail must hold */
};

static const struct diag_case cases[] = {
	{ "nothing", { { NULL } }, 0, DKIM_MISSING,
	    "no CNAME at " N ": publish " N ". CNAME " V "." },
	{ "right, key served", { { N, DKIM_RR_CNAME, V "." }, { N, DKIM_RR_TXT, TXT_OK } },
	    2, DKIM_OK, "found and the key is published" },
	{ "right, case and dot", { { N, DKIM_RR_CNAME, "S1.MAIL.example.com.DKIM.posthaste.localdomain." },
	    { V, DKIM_RR_TXT, TXT_OK } }, 2, DKIM_OK, "found" },
	{ "right, no key behind", { { N, DKIM_RR_CNAME, V } }, 1, DKIM_TARGET_NO_KEY,
	    "does not serve this key" },
	{ "right, another key", { { N, DKIM_RR_CNAME, V }, { N, DKIM_RR_TXT,
	    "v=DKIM1; k=rsa; p=" KEY "X" } }, 2, DKIM_TARGET_NO_KEY, "does not serve" },
	{ "elsewhere", { { N, DKIM_RR_CNAME, "other.example.net" } }, 1, DKIM_WRONG_TARGET,
	    "points to other.example.net; change it to " V "." },
	{ "value with zone", { { N, DKIM_RR_CNAME, V ".mail.example.com" } }, 1,
	    DKIM_TARGET_ZONE_APPENDED, "Enter the value with a trailing dot: " V "." },
	{ "txt direct", { { N, DKIM_RR_TXT, TXT_OK } }, 1, DKIM_TXT_DIRECT,
	    "a DKIM TXT record is published at " N " instead of the CNAME" },
	{ "zone = domain", { { N ".mail.example.com", DKIM_RR_CNAME, V } }, 1, DKIM_WRONG_ZONE,
	    "found at " N ".mail.example.com: the name was entered with the zone "
	    "mail.example.com appended. Enter it relative to the zone as s1._domainkey " },
	{ "zone = parent", { { N ".example.com", DKIM_RR_CNAME, V } }, 1, DKIM_WRONG_ZONE,
	    "zone example.com appended. Enter it relative to the zone as "
	    "s1._domainkey.mail (or in full with a trailing dot: " N ".)" },
	{ "no underscores", { { "s1.domainkey.mail.example.com", DKIM_RR_CNAME, V } }, 1,
	    DKIM_NO_UNDERSCORE_NAME, "must be " N " (with the underscores)" },
	{ "a TXT elsewhere that is no DKIM", { { N, DKIM_RR_TXT, "v=spf1 -all" } }, 1,
	    DKIM_MISSING, "no CNAME" },
};

/* test_cases - every row of the table */
static void test_cases(void **state)
{
	char detail[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct diag_case *c = &cases[i];
		enum dkim_verdict got = dkim_diagnose(&in, c->rrs, c->nrr, detail, sizeof(detail));
		if (got != c->want || strstr(detail, c->want_detail) == NULL)
			fail_msg("%s: got %s \"%s\", want %s \"...%s...\"", c->what,
			    dkim_verdict_name(got), detail, dkim_verdict_name(c->want),
			    c->want_detail);
	}
}

/* test_names - N, V, N.<zone> per zone, the underscore-less names */
static void test_names(void **state)
{
	static const char *want[] = { N, V, N ".mail.example.com", N ".example.com",
	    "s1.domainkey.mail.example.com", "s1.mail.example.com" };
	char *got[DKIM_DIAG_NAMES_MAX];
	size_t n = dkim_diag_names(&in, got, DKIM_DIAG_NAMES_MAX);

	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(got[i], want[i]);
		free(got[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
