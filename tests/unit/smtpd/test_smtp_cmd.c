/*
 * test_smtp_cmd - the command line parser and MAIL/RCPT arguments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "smtp_cmd.h"

struct verb_case {
	const char *line;
	int want_rc;
	enum smtp_verb want;
	const char *want_arg;
};

static const struct verb_case verb_cases[] = {
	{ "EHLO client.example", 0, CMD_EHLO, "client.example" },
	{ "ehlo   client.example", 0, CMD_EHLO, "client.example" },
	{ "HELO x", 0, CMD_HELO, "x" },
	{ "MAIL FROM:<a@b.example>", 0, CMD_MAIL, "FROM:<a@b.example>" },
	{ "rcpt to:<a@b.example>", 0, CMD_RCPT, "to:<a@b.example>" },
	{ "DATA", 0, CMD_DATA, "" },
	{ "RSET", 0, CMD_RSET, "" },
	{ "NOOP hello", 0, CMD_NOOP, "hello" },
	{ "QUIT", 0, CMD_QUIT, "" },
	{ "VRFY root", 0, CMD_VRFY, "root" },
	{ "HELP", 0, CMD_HELP, "" },
	{ "STARTTLS", 0, CMD_STARTTLS, "" },
	{ "AUTH PLAIN", 0, CMD_AUTH, "PLAIN" },
	{ "EXPN list", 0, CMD_NOTIMPL, "list" },
	{ "BDAT 100 LAST", 0, CMD_NOTIMPL, "100 LAST" },
	{ "FOO bar", 0, CMD_UNKNOWN, "bar" },
	{ "", 0, CMD_UNKNOWN, "" },
	{ "MAILX FROM:<a@b>", 0, CMD_UNKNOWN, "FROM:<a@b>" },
	{ "DAT", 0, CMD_UNKNOWN, "" },
	{ "NOOP \x01", -1, CMD_UNKNOWN, NULL },
	{ "\x1b[AEHLO", -1, CMD_UNKNOWN, NULL },
};

/* test_verbs - table: got X, want Y */
static void
test_verbs(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(verb_cases) / sizeof(verb_cases[0]); i++) {
		const struct verb_case *c = &verb_cases[i];
		struct smtp_cmd cmd;
		int rc = smtp_cmd_parse(c->line, strlen(c->line), &cmd);

		if (rc != c->want_rc)
			fail_msg("parse(%s): rc got %d, want %d", c->line, rc, c->want_rc);
		if (rc < 0)
			continue;
		if (cmd.verb != c->want)
			fail_msg("parse(%s): verb got %s, want %s", c->line,
			    smtp_verb_name(cmd.verb), smtp_verb_name(c->want));
		if (strcmp(cmd.arg, c->want_arg) != 0)
			fail_msg("parse(%s): arg got '%s', want '%s'", c->line, cmd.arg, c->want_arg);
	}
}

/* test_nul - an embedded NUL refuses the line */
static void
test_nul(void **state)
{
	struct smtp_cmd cmd;

	assert_int_equal(smtp_cmd_parse("NOOP\0x", 6, &cmd), -1);
}

struct path_case {
	const char *arg;
	bool mail;
	enum smtp_arg_error want;
	const char *want_addr;
	const char *want_shown;
	long long want_size;
};

static const struct path_case path_cases[] = {
	{ "FROM:<a@b.example>", true, ARG_OK, "a@b.example", "a@b.example", -1 },
	{ "from: <a@b.example>", true, ARG_OK, "a@b.example", "a@b.example", -1 },
	{ "FROM:a@b.example", true, ARG_OK, "a@b.example", "a@b.example", -1 },
	{ "FROM:<>", true, ARG_OK, "", "", -1 },
	{ "FROM:<a@b.example> SIZE=1000", true, ARG_OK, "a@b.example", "a@b.example", 1000 },
	{ "FROM:<a@b.example> BODY=8BITMIME SIZE=5", true, ARG_OK, "a@b.example", "a@b.example", 5 },
	{ "FROM:<a@b.example> body=7bit", true, ARG_OK, "a@b.example", "a@b.example", -1 },
	{ "FROM:<a@b.example> SIZE=abc", true, ARG_PARAM_VALUE, "a@b.example", "a@b.example", -1 },
	{ "FROM:<a@b.example> SIZE=1x", true, ARG_PARAM_VALUE, "a@b.example", "a@b.example", -1 },
	{ "FROM:<a@b.example> SIZE=99999999999999999999", true, ARG_PARAM_VALUE, "a@b.example", "a@b.example", -1 },
	{ "FROM:<a@b.example> BODY=BINARYMIME", true, ARG_PARAM_VALUE, "a@b.example", "a@b.example", -1 },
	{ "FROM:<a@b.example> SMTPUTF8", true, ARG_PARAM, "a@b.example", "a@b.example", -1 },
	{ "FROM:<bad address@b.example>", true, ARG_ADDRESS, "", "bad address@b.example", -1 },
	{ "FROM:<no-domain>", true, ARG_ADDRESS, "", "no-domain", -1 },
	{ "FROM:<a@b.example", true, ARG_ADDRESS, "", "a@b.example", -1 },
	{ "FROM:", true, ARG_SYNTAX, "", "", -1 },
	{ "<a@b.example>", true, ARG_SYNTAX, "", "", -1 },
	{ "TO:<a@b.example>", true, ARG_SYNTAX, "", "", -1 },
	{ "TO:<c@d.example>", false, ARG_OK, "c@d.example", "c@d.example", -1 },
	{ "To:<\"x y\"@d.example>", false, ARG_OK, "\"x y\"@d.example", "\"x y\"@d.example", -1 },
	{ "TO:<>", false, ARG_ADDRESS, "", "", -1 },
	{ "TO:<c@d.example> NOTIFY=NEVER", false, ARG_PARAM, "c@d.example", "c@d.example", -1 },
	{ "TO:<c@@d.example>", false, ARG_ADDRESS, "", "c@@d.example", -1 },
};

/* test_paths - table of MAIL/RCPT arguments */
static void
test_paths(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		const struct path_case *c = &path_cases[i];
		struct smtp_path_arg p;
		enum smtp_arg_error e = smtp_cmd_path(c->arg, c->mail, &p);

		if (e != c->want)
			fail_msg("path(%s): got %d, want %d", c->arg, e, c->want);
		if (e == ARG_OK && strcmp(p.addr, c->want_addr) != 0)
			fail_msg("path(%s): addr got '%s', want '%s'", c->arg, p.addr, c->want_addr);
		if (e != ARG_SYNTAX && strcmp(p.shown, c->want_shown) != 0)
			fail_msg("path(%s): shown got '%s', want '%s'", c->arg, p.shown, c->want_shown);
		if (e == ARG_OK && p.size != c->want_size)
			fail_msg("path(%s): size got %lld, want %lld", c->arg, p.size, c->want_size);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
