/*
 * test_http_control - what the control plane derives on its own: a
 * resource's etag (http_call.c) and GET /configuration's smtpSubmitEndpoint
 * from the [smtpd] listeners of a real config file (http_control_dom.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "config.h"
#include "http_call.h"
#include "http_control.h"

/* etag_of - the etag of the JSON TEXT */
static void etag_of(const char *text, char out[HTTP_ETAG_LEN])
{
	json_t *j = json_loads(text, 0, NULL);

	assert_non_null(j);
	http_etag(j, out);
	json_decref(j);
}

/* test_etag - 32 hex digits; the same for the same resource in any key
 * order; another for any change of a value */
static void test_etag(void **state)
{
	char a[HTTP_ETAG_LEN], b[HTTP_ETAG_LEN], c[HTTP_ETAG_LEN];

	(void)state;
	etag_of("{\"id\": \"x\", \"lifecycleState\": \"ACTIVE\"}", a);
	etag_of("{\"lifecycleState\": \"ACTIVE\", \"id\": \"x\"}", b);
	etag_of("{\"id\": \"x\", \"lifecycleState\": \"CREATING\"}", c);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strspn(a, "0123456789abcdef"), 32);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	http_etag(NULL, a);
	assert_string_equal(a, "");
}

struct endpoint_case {
	const char *smtpd;		/* the [smtpd] section's lines, NULL: none */
	const char *configured;		/* [httpd] smtp_submit_endpoint */
	const char *want;
};

static const struct endpoint_case endpoint_cases[] = {
	{ NULL, "", "127.0.0.1:2587" },			/* the defaults */
	{ NULL, "smtp.example.net:587", "smtp.example.net:587" },
	{ "submission_listen = 192.0.2.1:587, 192.0.2.2:587\n", "", "192.0.2.1:587" },
	{ "submission_listen = 0.0.0.0:587\nhostname = mx.example.org\n", "",
	  "mx.example.org:587" },
	{ "submission_listen = [::]:587\n", "", "host.test:587" },
	{ "submission_listen = *:587\n", "", "host.test:587" },
	{ "submission_listen = \ntls_listen = [::1]:465\n", "", "[::1]:465" },
	{ "submission_listen = \ntls_listen = \nlisten = 127.0.0.1:25\n", "",
	  "127.0.0.1:25" },
	{ "submission_listen = \ntls_listen = \nlisten = \n", "", "" },
};

/* endpoint_for - http_smtp_endpoint over a config file made of K's lines */
static void endpoint_for(const struct endpoint_case *k, char *out, size_t cap)
{
	char path[] = "/tmp/test_http_control.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct ph_config *cfg;
	char *err = NULL;

	assert_non_null(f);
	fprintf(f, "[global]\ndata_dir = /tmp\n%s%s", k->smtpd ? "[smtpd]\n" : "",
	    k->smtpd ? k->smtpd : "");
	fclose(f);
	cfg = config_load(path, &err);
	unlink(path);
	assert_non_null(cfg);
	http_smtp_endpoint(cfg, k->configured, "host.test", out, cap);
	config_free(cfg);
}

/* test_smtp_endpoint - the table above: got X, want Y */
static void test_smtp_endpoint(void **state)
{
	char got[256];

	(void)state;
	for (size_t i = 0; i < sizeof(endpoint_cases) / sizeof(endpoint_cases[0]); i++) {
		endpoint_for(&endpoint_cases[i], got, sizeof(got));
		if (strcmp(got, endpoint_cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got,
			    endpoint_cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_etag),
		cmocka_unit_test(test_smtp_endpoint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
