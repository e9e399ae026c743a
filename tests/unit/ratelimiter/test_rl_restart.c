/*
 * test_rl_restart - the real ph-ratelimiter process keeps its counters over a
 * restart: kill -9 after 8 of 10 daily tokens (and a flush interval), then
 * only 2 more are allowed; a clean stop (SIGTERM) flushes what the interval
 * has not written yet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "config.h"
#include "rl_client.h"

struct fixture {
	char dir[64], conf[128], ep[160];
	char *epv[1];
	struct strvec eps;
	pid_t pid;
	struct event_base *base;
	struct rl_client *rl;
};

struct got {
	int calls;
	struct rl_result res;
};

/* write_conf - a config for one shard in the fixture's dir */
static void write_conf(struct fixture *f, const char *flush)
{
	FILE *fp = fopen(f->conf, "w");

	assert_non_null(fp);
	fprintf(fp, "[global]\ndata_dir = %s/var\nlog_level = warn\n\n"
	    "[endpoints]\nratelimiter = %s\n\n[ratelimiter]\nflush_interval = %s\n\n"
	    "[health]\nlisten = off\n",	/* not the default port a running stack has */
	    f->dir, f->ep, flush);
	fclose(fp);
}

static void start(struct fixture *f)
{
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		execl(PH_RATELIMITER_BIN, PH_RATELIMITER_BIN, "--config", f->conf,
		    "--instance", "0", (char *)NULL);
		_exit(127);
	}
}

static void stop(struct fixture *f, int sig)
{
	int status;

	assert_int_equal(kill(f->pid, sig), 0);
	assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
	f->pid = 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_rl_restart.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf, sizeof(f->conf), "%s/rl.conf", f->dir);
	snprintf(f->ep, sizeof(f->ep), "ipc://%s/var/run/rl-0.sock", f->dir);
	f->epv[0] = f->ep;
	f->eps.v = f->epv;
	f->eps.n = 1;
	f->base = event_base_new();
	f->rl = rl_client_new(f->base, &f->eps, 5000);
	assert_non_null(f->rl);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	if (f->pid > 0)
		stop(f, SIGKILL);
	rl_client_free(f->rl);
	event_base_free(f->base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void on_result(void *arg, const struct rl_result *res)
{
	struct got *g = arg;

	g->calls++;
	g->res = *res;
}

/* take - one token of a 10-per-day limit, waiting for the answer */
static enum rl_status take(struct fixture *f)
{
	Ph__RateLimit d = PH__RATE_LIMIT__INIT;
	const Ph__RateLimit *lims[1] = { &d };
	struct timeval tv = { 0, 10000 };
	struct got g = { 0 };
	int i;

	d.key = "tenant:t:day", d.limit = 10, d.window_s = 86400;
	rl_client_take(f->rl, "t", lims, 1, 1, on_result, &g);
	for (i = 0; i < 600 && g.calls == 0; i++) {
		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
	assert_int_equal(g.calls, 1);
	return g.res.status;
}

/* take_n - N tokens, each must be answered WANT */
static void take_n(struct fixture *f, int n, enum rl_status want)
{
	for (int i = 0; i < n; i++) {
		enum rl_status got = take(f);

		if (got != want)
			fail_msg("take %d: got %s, want %s", i, rl_status_name(got),
			    rl_status_name(want));
	}
}

static void test_kill9_after_flush(void **state)
{
	struct fixture *f = *state;

	write_conf(f, "50ms");
	start(f);
	take_n(f, 8, RL_ALLOWED);
	usleep(300 * 1000);	/* > flush_interval: the crash bound */
	stop(f, SIGKILL);
	start(f);
	take_n(f, 2, RL_ALLOWED);
	take_n(f, 1, RL_DENIED);
	stop(f, SIGTERM);
}

static void test_clean_stop_flushes(void **state)
{
	struct fixture *f = *state;

	write_conf(f, "60s");
	start(f);
	take_n(f, 9, RL_ALLOWED);
	stop(f, SIGTERM);
	start(f);
	take_n(f, 1, RL_ALLOWED);
	take_n(f, 1, RL_DENIED);
	stop(f, SIGTERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kill9_after_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_stop_flushes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
