/* test_config - config parsing, expansion, row tables, ranges */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "config.h"
#include "fsdir.h"
#include "proc.h"

static char path[] = "/tmp/ph-test-config-XXXXXX";

static struct ph_config *
load_text(const char *text, char **err)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	struct ph_config *cfg = config_load(path, err);
	unlink(path);
	strcpy(path, "/tmp/ph-test-config-XXXXXX");
	return cfg;
}

static void
test_default_endpoints(void **state)
{
	struct ph_config *cfg = config_load(NULL, NULL);
	struct ph_endpoints ep;
	char *err = NULL;

	assert_non_null(cfg);
	assert_int_equal(config_endpoints(cfg, &ep, &err), 0);
	assert_int_equal(ep.queue.n, 1);
	assert_non_null(strstr(ep.queue.v[0], "/var/run/queue-0.sock"));
	assert_true(strncmp(ep.control, "ipc:///", 7) == 0);	/* absolute */
	free(ep.control);
	free(ep.control_pub);
	strvec_clear(&ep.queue);
	strvec_clear(&ep.ratelimiter);
	config_free(cfg);
}

static void
test_rows_and_units(void **state)
{
	struct ph_config *cfg = load_text(
	    "[global]\ndata_dir = /srv/ph\n[x]\nsize = 2m\ntimeout = 5m\nlist = a, b c\n"
	    "flag = yes\npath = ${data_dir}/q-${instance}\n", NULL);
	long long size = 0, timeout = 0, n = 0;
	bool flag = false;
	struct strvec list = { 0 };
	char *p = NULL, *err = NULL;
	const struct config_row rows[] = {
		{ "size", CFG_SIZE, 1, 1LL << 40, "1k", &size },
		{ "timeout", CFG_MS, 0, -1, "30", &timeout },
		{ "n", CFG_INT, 0, 10, "7", &n },
		{ "flag", CFG_BOOL, 0, 0, "no", &flag },
		{ "list", CFG_LIST, 0, -1, "", &list },
		{ "path", CFG_STR, 0, -1, NULL, &p },
		{ NULL, 0, 0, 0, NULL, NULL },
	};

	assert_non_null(cfg);
	config_set_instance(cfg, 3);
	assert_int_equal(config_apply(cfg, "x", rows, &err), 0);
	assert_int_equal(size, 2 << 20);
	assert_int_equal(timeout, 300000);
	assert_int_equal(n, 7);
	assert_true(flag);
	assert_int_equal(list.n, 3);
	assert_string_equal(list.v[2], "c");
	assert_string_equal(p, "/srv/ph/q-3");
	free(p);
	strvec_clear(&list);
	config_free(cfg);
}

static void
test_unknown_key_and_range(void **state)
{
	long long n = 0;
	char *err = NULL;
	const struct config_row rows[] = {
		{ "n", CFG_INT, 0, 10, "7", &n },
		{ NULL, 0, 0, 0, NULL, NULL },
	};
	struct ph_config *cfg = load_text("[x]\nn = 11\n", NULL);

	assert_int_equal(config_apply(cfg, "x", rows, &err), -1);
	assert_non_null(strstr(err, "out of range"));
	free(err);
	config_free(cfg);
	cfg = load_text("[x]\nbogus = 1\n", NULL);
	assert_int_equal(config_apply(cfg, "x", rows, &err), -1);
	assert_non_null(strstr(err, "unknown key [x] bogus"));
	free(err);
	config_free(cfg);
}

static void
test_syntax_error(void **state)
{
	char *err = NULL;
	assert_null(load_text("[x\nn = 1\n", &err));
	assert_non_null(err);
	free(err);
}

/* the data dir and its parents are made like mkdir -p */
static void
test_data_dirs_nested(void **state)
{
	char root[] = "/tmp/ph-test-datadir-XXXXXX", text[256], sub[256];
	struct ph_config *cfg;
	struct stat st;

	assert_non_null(mkdtemp(root));
	snprintf(text, sizeof(text), "[global]\ndata_dir = %s/a/b/var\n", root);
	cfg = load_text(text, NULL);
	assert_non_null(cfg);
	proc_data_dirs(cfg);
	proc_data_dirs(cfg);	/* a second start finds them */
	snprintf(sub, sizeof(sub), "%s/a/b/var/run", root);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	snprintf(sub, sizeof(sub), "%s/a/b/var/log", root);
	assert_int_equal(stat(sub, &st), 0);
	config_free(cfg);
	/* the dir of a file; a file in the way is an error */
	snprintf(sub, sizeof(sub), "%s/k/ey/master.key", root);
	assert_int_equal(fsdir_make_for(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/k/ey", root);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(sub, sizeof(sub), "%s/file", root);
	fclose(fopen(sub, "w"));
	snprintf(sub, sizeof(sub), "%s/file/x", root);
	assert_int_equal(fsdir_make(sub, 0700), -1);
	assert_int_equal(fsdir_make_for("relative", 0700), 0);
	snprintf(text, sizeof(text), "rm -rf %s", root);
	assert_int_equal(system(text), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_endpoints),
		cmocka_unit_test(test_rows_and_units),
		cmocka_unit_test(test_unknown_key_and_range),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_data_dirs_nested),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
