/*
 * test_load_opts - ph-load's command line: defaults, every option, the
 * values and combinations refused (table-driven: got X, want Y).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "load_opts.h"

#define MAXARGS 64

/* parse - ARGS (NULL-terminated, without argv[0]) into O */
static enum load_opts_result parse(struct load_opts *o, char *err, size_t len,
    const char *const *args)
{
	char *argv[MAXARGS] = { "ph-load" };
	int argc = 1;

	for (; *args && argc < MAXARGS - 1; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	err[0] = '\0';
	return load_opts_parse(argc, argv, o, err, len);
}

static void test_defaults(void **state)
{
	const char *args[] = { NULL };
	struct load_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, sizeof(err), args), LOAD_OPTS_RUN);
	assert_string_equal(o.host, "127.0.0.1");
	assert_int_equal(o.port, 25);
	assert_int_equal(o.sessions, 10);
	assert_int_equal(o.messages, 1000);
	assert_int_equal(o.size, 1024);
	assert_null(o.file);
	assert_string_equal(o.from, "load@ph-load.test");
	assert_string_equal(o.to, "user%d@example.test");
	assert_int_equal(o.recipients, 1);
	assert_string_equal(o.ehlo, "ph-load.localdomain");
	assert_false(o.starttls || o.tls || o.pipelining || o.json || o.insecure);
	assert_null(o.auth_user);
	assert_true(o.rate == 0 && o.duration == 0 && o.timeout == 60);
}

static void test_every_option(void **state)
{
	const char *args[] = { "--server", "mx.example.test:2587", "--sessions", "20",
		"--messages", "20000", "--file", "/tmp/m.eml", "--from", "a@b.test",
		"--to", "u%d@c.test", "--recipients", "3", "--ehlo", "me.test",
		"--starttls", "--auth-user", "u", "--auth-password", "p",
		"--pipelining", "--rate", "250.5", "--duration", "1.5",
		"--timeout", "2", "--json", "--cafile", "/tmp/ca.pem", NULL };
	struct load_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, sizeof(err), args), LOAD_OPTS_RUN);
	assert_string_equal(o.host, "mx.example.test");
	assert_int_equal(o.port, 2587);
	assert_int_equal(o.sessions, 20);
	assert_int_equal(o.messages, 20000);
	assert_string_equal(o.file, "/tmp/m.eml");
	assert_string_equal(o.from, "a@b.test");
	assert_string_equal(o.to, "u%d@c.test");
	assert_int_equal(o.recipients, 3);
	assert_string_equal(o.ehlo, "me.test");
	assert_true(o.starttls && o.pipelining && o.json && !o.tls && !o.insecure);
	assert_string_equal(o.auth_user, "u");
	assert_string_equal(o.auth_password, "p");
	assert_true(o.rate == 250.5 && o.duration == 1.5 && o.timeout == 2);
	assert_string_equal(o.cafile, "/tmp/ca.pem");
}

static void test_server_forms(void **state)
{
	static const struct {
		const char *arg, *host;
		unsigned port;
	} cases[] = {
		{ "127.0.0.1:2525", "127.0.0.1", 2525 },
		{ "localhost", "localhost", 25 },
		{ "[::1]:2465", "::1", 2465 },
		{ "::1", "::1", 25 },
		{ "--server=h.test:1", "h.test", 1 },
	};
	struct load_opts o;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *a1[] = { "--server", cases[i].arg, NULL };
		const char *a2[] = { cases[i].arg, NULL };

		assert_int_equal(parse(&o, err, sizeof(err),
		    strncmp(cases[i].arg, "--", 2) ? a1 : a2), LOAD_OPTS_RUN);
		if (strcmp(o.host, cases[i].host) || o.port != cases[i].port)
			fail_msg("%s: got %s port %u, want %s port %u", cases[i].arg,
			    o.host, o.port, cases[i].host, cases[i].port);
	}
}

static void test_duration_alone_has_no_count(void **state)
{
	const char *alone[] = { "--duration", "10", NULL };
	const char *both[] = { "--duration", "10", "--messages", "5", NULL };
	struct load_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, sizeof(err), alone), LOAD_OPTS_RUN);
	assert_int_equal(o.messages, 0);
	assert_int_equal(parse(&o, err, sizeof(err), both), LOAD_OPTS_RUN);
	assert_int_equal(o.messages, 5);
}

static void test_refused(void **state)
{
	static const struct {
		const char *args[6];
		const char *err;
	} cases[] = {
		{ { "--sessions", "0" }, "bad value for --sessions: \"0\"" },
		{ { "--sessions", "10001" }, "bad value for --sessions: \"10001\"" },
		{ { "--messages", "-1" }, "bad value for --messages: \"-1\"" },
		{ { "--messages", "12x" }, "bad value for --messages: \"12x\"" },
		{ { "--size", "1073741825" }, "bad value for --size: \"1073741825\"" },
		{ { "--recipients", "0" }, "bad value for --recipients: \"0\"" },
		{ { "--rate", "0" }, "bad value for --rate: \"0\"" },
		{ { "--rate", "nan" }, "bad value for --rate: \"nan\"" },
		{ { "--duration", "-3" }, "bad value for --duration: \"-3\"" },
		{ { "--timeout", "" }, "bad value for --timeout: \"\"" },
		{ { "--server", "h:0" }, "bad value for --server: \"h:0\"" },
		{ { "--server", "h:99999" }, "bad value for --server: \"h:99999\"" },
		{ { "--server", "[::1" }, "bad value for --server: \"[::1\"" },
		{ { "--size", "10", "--file", "f" }, "--size and --file exclude each other" },
		{ { "--tls", "--starttls" }, "--starttls and --tls exclude each other" },
		{ { "--auth-user", "u" }, "--auth-user and --auth-password go together" },
		{ { "--auth-password", "p" }, "--auth-user and --auth-password go together" },
		{ { "--insecure", "--cafile", "c" }, "--insecure and --cafile exclude each other" },
		{ { "--to", "u%d%d@x" }, "--to: at most one %d and no other % (%% for one)" },
		{ { "--to", "u%s@x" }, "--to: at most one %d and no other % (%% for one)" },
		{ { "--from", "" }, "--from, --to and --ehlo must not be empty" },
		{ { "--bogus" }, "unknown option or missing argument: --bogus" },
		{ { "--server" }, "unknown option or missing argument: --server" },
		{ { "extra" }, "unexpected argument: extra" },
	};
	struct load_opts o;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(&o, err, sizeof(err), cases[i].args) != LOAD_OPTS_ERROR)
			fail_msg("case %zu (%s): accepted, want \"%s\"", i,
			    cases[i].args[0], cases[i].err);
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, cases[i].err);
	}
}

static void test_help(void **state)
{
	const char *args[] = { "--sessions", "3", "--help", NULL };
	struct load_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, sizeof(err), args), LOAD_OPTS_HELP);
	assert_non_null(strstr(load_opts_usage(), "--pipelining"));
}

static void test_pattern_ok(void **state)
{
	static const struct {
		const char *pattern;
		bool ok;
	} cases[] = {
		{ "user%d@example.test", true }, { "plain@example.test", true },
		{ "100%%@x.test", true }, { "%d%%@x", true }, { "%d%d@x", false },
		{ "%x@x", false }, { "trailing%", false }, { "%%%d", true },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (load_pattern_ok(cases[i].pattern) != cases[i].ok)
			fail_msg("%s: got %d, want %d", cases[i].pattern,
			    !cases[i].ok, cases[i].ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_option),
		cmocka_unit_test(test_server_forms),
		cmocka_unit_test(test_duration_alone_has_no_count),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_pattern_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
