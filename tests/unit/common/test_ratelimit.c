/* test_ratelimit - common/ratelimit.c: tenant limits with defaults, the
 * [ratelimit] section (defaults follow [smtpd]), destination keys and the
 * fail-open table */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ratelimit.h"

/* load_text - a config from TEXT */
static struct ph_config *load_text(const char *text)
{
	char path[] = "/tmp/ph-test-ratelimit-XXXXXX";
	int fd = mkstemp(path);
	struct ph_config *cfg;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	cfg = config_load(path, NULL);
	unlink(path);
	assert_non_null(cfg);
	return cfg;
}

static void test_tenant_own_limits_and_defaults(void **state)
{
	struct ratelimit_send sl;
	const char *shard = ratelimit_tenant(&sl, "t1", 10, 0, 18000, 50000);

	assert_string_equal(shard, "t1");
	assert_string_equal(sl.limitp[0]->key, "tenant:t1:minute");
	assert_int_equal(sl.limitp[0]->limit, 10);
	assert_int_equal(sl.limitp[0]->window_s, 60);
	assert_string_equal(sl.limitp[1]->key, "tenant:t1:day");
	assert_int_equal(sl.limitp[1]->limit, 50000);
	assert_int_equal(sl.limitp[1]->window_s, 86400);
	ratelimit_tenant(&sl, "t1", 0, 7, 18000, 50000);
	assert_int_equal(sl.limitp[0]->limit, 18000);
	assert_int_equal(sl.limitp[1]->limit, 7);
}

static void test_config_defaults(void **state)
{
	struct ph_config *cfg = load_text("[global]\ndata_dir = /tmp\n");
	struct ratelimit_conf lc;
	char *err = NULL;

	assert_int_equal(ratelimit_config(cfg, &lc, &err), 0);
	assert_int_equal(lc.default_per_minute, 18000);
	assert_int_equal(lc.default_per_day, 50000);
	assert_int_equal(lc.timeout_ms, 2000);
	assert_true(lc.auth_fail_open);
	assert_true(lc.http_fail_open);
	config_free(cfg);
}

static void test_config_follows_smtpd_then_own(void **state)
{
	struct ph_config *cfg = load_text("[smtpd]\ndefault_per_minute = 99\n"
	    "[ratelimit]\ndefault_per_day = 77\nauth_fail_open = no\n");
	struct ratelimit_conf lc;
	char *err = NULL;

	assert_int_equal(ratelimit_config(cfg, &lc, &err), 0);
	assert_int_equal(lc.default_per_minute, 99);
	assert_int_equal(lc.default_per_day, 77);
	assert_false(lc.auth_fail_open);
	config_free(cfg);
}

static void test_config_rejects_unknown_key(void **state)
{
	struct ph_config *cfg = load_text("[ratelimit]\ndest_fail_open = no\n");
	struct ratelimit_conf lc;
	char *err = NULL;

	assert_int_equal(ratelimit_config(cfg, &lc, &err), -1);
	assert_non_null(strstr(err, "dest_fail_open"));
	free(err);
	config_free(cfg);
}

static void test_dest_keys(void **state)
{
	char buf[128];

	ratelimit_dest_key(buf, sizeof(buf), "example.com", false);
	assert_string_equal(buf, "dest:example.com:msgs");
	ratelimit_dest_key(buf, sizeof(buf), "[10.0.0.1]:25", true);
	assert_string_equal(buf, "dest:[10.0.0.1]:25:conns");
}

/* the fail-open table: want[class] for an unavailable ratelimiter */
static void test_pass_table(void **state)
{
	static const struct {
		enum ratelimit_class k;
		bool auth_open, http_open, want;
	} cases[] = {
		{ RATELIMIT_TENANT, true, true, false },
		{ RATELIMIT_AUTH, true, true, true },
		{ RATELIMIT_AUTH, false, true, false },
		{ RATELIMIT_HTTP, true, true, true },
		{ RATELIMIT_HTTP, true, false, false },
		{ RATELIMIT_DEST, false, false, true },
	};
	struct rl_result down = { RL_UNAVAILABLE, -1, 0, 0 };
	struct rl_result ok = { RL_ALLOWED, -1, 0, 0 };
	struct rl_result no = { RL_DENIED, 0, 10, 500 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ratelimit_conf lc = { .auth_fail_open = cases[i].auth_open,
		    .http_fail_open = cases[i].http_open };
		if (ratelimit_pass(&lc, cases[i].k, &down) != cases[i].want)
			fail_msg("%s unavailable: got %d, want %d",
			    ratelimit_class_name(cases[i].k), !cases[i].want, cases[i].want);
		assert_true(ratelimit_pass(&lc, cases[i].k, &ok));
		assert_false(ratelimit_pass(&lc, cases[i].k, &no));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tenant_own_limits_and_defaults),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_follows_smtpd_then_own),
		cmocka_unit_test(test_config_rejects_unknown_key),
		cmocka_unit_test(test_dest_keys),
		cmocka_unit_test(test_pass_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
