/*
 * test_bounce_class - bounce_classify over a table of replies: hard or
 * soft, category, enhanced status code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bounce_class.h"

struct bcase {
	const char *reply;
	enum bounce_kind kind;
	const char *category;
	const char *status;
	int code;
};

static const struct bcase cases[] = {
	{ "550 5.1.1 <bob@x.test>: Recipient address rejected: User unknown",
	    BOUNCE_HARD, "bad-mailbox", "5.1.1", 550 },
	{ "550-5.1.1 The email account that you tried to reach does not exist",
	    BOUNCE_HARD, "bad-mailbox", "5.1.1", 550 },
	{ "550 5.1.2 Host unknown: domain not found", BOUNCE_HARD, "bad-domain",
	    "5.1.2", 550 },
	{ "5.1.2 nxdomain.test: domain not found", BOUNCE_HARD, "bad-domain",
	    "5.1.2", 0 },
	{ "556 5.1.10 Recipient address has null MX", BOUNCE_HARD, "bad-domain",
	    "5.1.10", 556 },
	{ "553 5.1.3 Bad recipient address syntax", BOUNCE_HARD, "bad-mailbox",
	    "5.1.3", 553 },
	{ "551 5.1.6 User has moved", BOUNCE_HARD, "bad-mailbox", "5.1.6", 551 },
	{ "5.4.4 example.invalid: NXDOMAIN", BOUNCE_HARD, "bad-domain", "5.4.4",
	    0 },
	{ "550 No such user here", BOUNCE_HARD, "bad-mailbox", "5.0.0", 550 },
	{ "552 5.2.2 Mailbox full", BOUNCE_SOFT, "mailbox-full", "5.2.2", 552 },
	{ "552 5.3.4 Message too big for system", BOUNCE_SOFT,
	    "message-too-large", "5.3.4", 552 },
	{ "554 5.7.1 Message rejected as spam", BOUNCE_SOFT, "spam-related",
	    "5.7.1", 554 },
	{ "550 5.7.1 Relaying denied", BOUNCE_SOFT, "policy-related", "5.7.1",
	    550 },
	{ "451 4.7.1 Greylisted, try again", BOUNCE_SOFT, "transient", "4.7.1",
	    451 },
	{ "421 Too many connections", BOUNCE_SOFT, "transient", "4.0.0", 421 },
	{ "450 4.2.2 user unknown? over quota", BOUNCE_SOFT, "transient", "4.2.2",
	    450 },
	{ "4.4.7 message expired", BOUNCE_SOFT, "expired", "4.4.7", 0 },
	{ "554 Transaction failed", BOUNCE_SOFT, "other", "5.0.0", 554 },
	{ "", BOUNCE_SOFT, "other", "5.0.0", 0 },
	{ "550 5.1.1x not a code", BOUNCE_SOFT, "other", "5.0.0", 550 },
};

static void
test_table(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bounce_result r;
		char got[128], want[128];

		bounce_classify(cases[i].reply, &r);
		snprintf(got, sizeof(got), "%s %s %s %d", bounce_kind_name(r.kind),
		    bounce_category_name(r.category), r.status, r.code);
		snprintf(want, sizeof(want), "%s %s %s %d",
		    bounce_kind_name(cases[i].kind), cases[i].category,
		    cases[i].status, cases[i].code);
		if (strcmp(got, want) != 0)
			fail_msg("\"%s\": got %s, want %s", cases[i].reply, got, want);
	}
}

static void
test_null_reply(void **state)
{
	struct bounce_result r;

	bounce_classify(NULL, &r);
	assert_int_equal(r.kind, BOUNCE_SOFT);
	assert_string_equal(r.status, "5.0.0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_null_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
