/*
 * test_load_msg - what ph-load sends: a --file message dot-stuffed byte
 * for byte, generated bodies (size, line lengths), each message's header
 * block and recipients, the pattern's "%d", AUTH PLAIN's response.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/buffer.h>
#include "load_msg.h"

/* write_temp - a temporary file holding LEN bytes of DATA; its path */
static char *write_temp(const char *data, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_load_msg.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* opts_for - defaults as load_opts_parse would leave them */
static void opts_for(struct load_opts *o, const char *file, size_t size)
{
	char *argv[] = { "ph-load", NULL };
	char err[128];

	assert_int_equal(load_opts_parse(1, argv, o, err, sizeof(err)), LOAD_OPTS_RUN);
	o->file = file;
	o->size = size;
}

/* written - what load_msg_write puts out for message N, NUL-terminated */
static char *written(const struct load_msg *m, uint64_t n, size_t *len)
{
	struct evbuffer *out = evbuffer_new();
	char *text;

	assert_non_null(out);
	assert_int_equal(load_msg_write(m, n, out), 0);
	*len = evbuffer_get_length(out);
	text = calloc(1, *len + 1);
	assert_non_null(text);
	evbuffer_remove(out, text, *len);
	evbuffer_free(out);
	return text;
}

static void test_file_dot_stuffed(void **state)
{
	static const char file[] =
	    "Subject: dots\n\n.leading dot\r\nmiddle . dot\n..two\n.\nlast line";
	static const char want[] =
	    "Subject: dots\r\n\r\n..leading dot\r\nmiddle . dot\r\n...two\r\n..\r\n"
	    "last line\r\n.\r\n";
	char *path = write_temp(file, sizeof(file) - 1), *got, err[256];
	struct load_opts o;
	struct load_msg m;
	size_t len;

	opts_for(&o, path, 0);
	assert_int_equal(load_msg_init(&m, &o, err, sizeof(err)), 0);
	unlink(path);
	assert_false(m.headers);
	got = written(&m, 7, &len);
	assert_int_equal(len, sizeof(want) - 1);
	assert_string_equal(got, want);	/* the same for every message */
	free(got);
	load_msg_free(&m);
}

static void test_missing_file(void **state)
{
	struct load_opts o;
	struct load_msg m;
	char err[256];

	opts_for(&o, "/nonexistent/message.eml", 0);
	assert_int_equal(load_msg_init(&m, &o, err, sizeof(err)), -1);
	assert_string_equal(err, "--file /nonexistent/message.eml: No such file or directory");
}

static void test_body_sizes(void **state)
{
	static const size_t sizes[] = { 0, 1, 76, 77, 78, 79, 1024, 102400 };
	size_t i, j, col;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *b = load_body_make(sizes[i]);

		assert_non_null(b);
		for (j = col = 0; j < sizes[i]; j++) {
			if (b[j] == '\n') {
				assert_true(j > 0 && b[j - 1] == '\r');
				assert_int_equal(col, 77);	/* 76 characters + CR */
				col = 0;
				continue;
			}
			assert_true(b[j] != '.' || col > 0);
			col++;
		}
		assert_true(sizes[i] == 0 || b[sizes[i] - 1] != '\r');
		free(b);
	}
}

static void test_generated_message(void **state)
{
	struct load_opts o;
	struct load_msg m;
	char err[256], want[512], *got;
	size_t len;

	opts_for(&o, NULL, 100);
	o.to = "rcpt%d@dest.test";
	o.recipients = 3;
	assert_int_equal(load_msg_init(&m, &o, err, sizeof(err)), 0);
	assert_true(m.headers);
	assert_int_equal(strlen(m.run_id), 16);
	got = written(&m, 5, &len);
	snprintf(want, sizeof(want), "From: load@ph-load.test\r\nTo: rcpt15@dest.test\r\n"
	    "Subject: ph-load message 5\r\nDate: %s\r\n"
	    "Message-ID: <%s.5@ph-load.localdomain>\r\n\r\n", m.date, m.run_id);
	assert_memory_equal(got, want, strlen(want));
	/* 100 body bytes (76 + CRLF + 22), the CRLF of the last line, the dot */
	assert_int_equal(len, strlen(want) + 100 + 2 + 3);
	assert_string_equal(got + len - 5, "\r\n.\r\n");
	free(got);
	load_msg_free(&m);
}

static void test_recipients_distinct(void **state)
{
	struct load_opts o;
	struct load_msg m;
	char err[256], a[64];

	opts_for(&o, NULL, 10);
	o.recipients = 2;
	assert_int_equal(load_msg_init(&m, &o, err, sizeof(err)), 0);
	load_msg_recipient(&m, 0, 0, a, sizeof(a));
	assert_string_equal(a, "user0@example.test");
	load_msg_recipient(&m, 0, 1, a, sizeof(a));
	assert_string_equal(a, "user1@example.test");
	load_msg_recipient(&m, 1, 0, a, sizeof(a));
	assert_string_equal(a, "user2@example.test");
	load_msg_free(&m);
}

static void test_pattern_expand(void **state)
{
	static const struct {
		const char *pattern;
		uint64_t n;
		size_t len;
		const char *want;
	} cases[] = {
		{ "user%d@x.test", 42, 64, "user42@x.test" },
		{ "fixed@x.test", 42, 64, "fixed@x.test" },
		{ "100%%-%d@x", 7, 64, "100%-7@x" },
		{ "%d", 18446744073709551615ULL, 64, "18446744073709551615" },
		{ "user%d@x.test", 123456, 8, "user123" },
		{ "abcdef", 0, 4, "abc" },
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		load_pattern_expand(cases[i].pattern, cases[i].n, out, cases[i].len);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("%s / %llu: got \"%s\", want \"%s\"", cases[i].pattern,
			    (unsigned long long)cases[i].n, out, cases[i].want);
	}
}

static void test_auth_plain(void **state)
{
	char *b64 = load_auth_plain("user", "pass");

	/* base64("\0user\0pass") */
	assert_string_equal(b64, "AHVzZXIAcGFzcw==");
	free(b64);
	b64 = load_auth_plain("ocid1.user.oc1..abc@ocid1.tenancy", "p@ss w0rd");
	assert_string_equal(b64, "AG9jaWQxLnVzZXIub2MxLi5hYmNAb2NpZDEudGVuYW5jeQBwQHNzIHcwcmQ=");
	free(b64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_dot_stuffed),
		cmocka_unit_test(test_missing_file), cmocka_unit_test(test_body_sizes),
		cmocka_unit_test(test_generated_message),
		cmocka_unit_test(test_recipients_distinct),
		cmocka_unit_test(test_pattern_expand),
		cmocka_unit_test(test_auth_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
