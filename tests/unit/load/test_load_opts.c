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

/* same_str - equal strings, or both NULL */
static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* assert_opts - every field of GOT as in WANT */
static void assert_opts(const struct load_opts *got, const struct load_opts *want)
{
	assert_string_equal(got->host, want->host);
	assert_int_equal(got->port, want->port);
	assert_int_equal(got->sessions, want->sessions);
	assert_int_equal(got->messages, want->messages);
	assert_int_equal(got->size, want->size);
	assert_int_equal(got->recipients, want->recipients);
	assert_true(same_str(got->file, want->file) && same_str(got->from, want->from) &&
	    same_str(got->to, want->to) && same_str(got->ehlo, want->ehlo) &&
	    same_str(got->auth_user, want->auth_user) &&
	    same_str(got->auth_password, want->auth_password) &&
	    same_str(got->cafile, want->cafile));
	assert_true(got->starttls == want->starttls && got->tls == want->tls &&
	    got->pipelining == want->pipelining && got->json == want->json &&
	    got->insecure == want->insecure);
	assert_true(got->rate == want->rate && got->duration == want->duration &&
	    got->timeout == want->timeout);
}

static void test_defaults(void **state)
{
	static const struct load_opts want = {
		.host = "127.0.0.1", .port = 25, .sessions = 10, .messages = 1000,
		.size = 1024, .from = "load@ph-load.test", .to = "user%d@example.test",
		.recipients = 1, .ehlo = "ph-load.localdomain", .timeout = 60,
	};
	const char *args[] = { NULL };
	struct load_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, sizeof(err), args), LOAD_OPTS_RUN);
	assert_opts(&o, &want);
}

static void test_every_option(void **state)
{
	static const struct load_opts want = {
		.host = "mx.example.test", .port = 2587, .sessions = 20,
		.messages = 20000, .size = 1024, .file = "/tmp/m.eml",
		.from = "a@b.test", .to = "u%d@c.test", .recipients = 3,
		.ehlo = "me.test", .starttls = true, .auth_user = "u",
		.auth_password = "p", .pipelining = true, .rate = 250.5,
		.duration = 1.5, .timeout = 2, .json = true, .cafile = "/tmp/ca.pem",
	};
	const char *args[] = { "--server", "mx.example.test:2587", "--sessions", "20",
		"--messages", "20000", "--file", "/tmp/m.eml", "--from", "a@b.test",
		"--to", "u%d@c.test", "--recipients", "3", "--ehlo", "me.test",
		"--starttls", "--auth-user", "u", "--auth-password", "p",
		"--pipelining", "--rate", "250.5", "--duration", "1.5",
		"--timeout", "2", "--json", "--cafile", "/tmp/ca.pem", NULL };
	struct load_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, sizeof(err), args), LOAD_OPTS_RUN);
	assert_opts(&o, &want);
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
		cmocka_unit_test(test_defaults), cmocka_unit_test(test_every_option),
		cmocka_unit_test(test_server_forms),
		cmocka_unit_test(test_duration_alone_has_no_count),
		cmocka_unit_test(test_refused), cmocka_unit_test(test_help),
		cmocka_unit_test(test_pattern_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
