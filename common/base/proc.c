/*
 * proc - the common start and stop of every posthaste process.
 *
 * DIAGNOSTICS: a bad command line or config is fatal (exit 1) before the
 * process takes any traffic.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <event2/event.h>

#include "fsdir.h"
#include "log.h"
#include "proc.h"
#include "zsock.h"

#define PROC_MAX_HOOKS 8

struct proc_hook {
	int (*cb)(void *);
	void *arg;
};

static struct proc_hook hooks[PROC_MAX_HOOKS];
/* the process's config lives until it exits: held here, not only in the
 * caller's struct proc on main's stack, which is gone by then */
static struct ph_config *proc_config;
static int nhooks, hooks_waiting;
static struct event *sig_term, *sig_int, *grace_timer;

static void
proc_usage(const char *name)
{
	fprintf(stderr, "usage: %s [--config FILE] [--instance N]\n", name);
	exit(2);
}

/* proc_args - --config FILE, --instance N */
static const char *
proc_args(struct proc *p, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "instance", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "c:i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'i':
			p->instance = atoi(optarg);
			if (p->instance < 0)
				proc_usage(p->name);
			break;
		default:
			proc_usage(p->name);
		}
	}
	if (optind != argc)
		proc_usage(p->name);
	return path;
}

/* proc_mkdir - BASE/SUB and every missing parent */
static void
proc_mkdir(const char *base, const char *sub)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s%s%s", base, sub[0] ? "/" : "", sub);
	if (fsdir_make(path, 0755) < 0)
		fatal("mkdir %s", path);
}

void
proc_data_dirs(const struct ph_config *cfg)
{
	proc_mkdir(config_data_dir(cfg), "");
	proc_mkdir(config_data_dir(cfg), "run");
	proc_mkdir(config_data_dir(cfg), "log");
}

static void
proc_on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;
	event_base_loopexit(p->base, NULL);
}

static void
proc_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct proc *p = arg;
	const char *grace = getenv("PH_STOP_GRACE_MS");
	long ms = grace ? atol(grace) : 2000;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (p->stopping) {
		event_base_loopexit(p->base, NULL);	/* second signal: now */
		return;
	}
	p->stopping = 1;
	log_info("stopping (signal %d)", (int)sig);
	for (int i = 0; i < nhooks; i++)
		if (hooks[i].cb(hooks[i].arg) == 1)
			hooks_waiting++;
	if (hooks_waiting == 0) {
		event_base_loopexit(p->base, NULL);
		return;
	}
	grace_timer = evtimer_new(p->base, proc_on_grace, p);
	evtimer_add(grace_timer, &tv);
}

/* proc_event_base - epoll with a changelist: a write event added and removed
 * again before the next epoll_wait (every reply that is written at once)
 * costs no epoll_ctl at all. Safe here: no process dup()s a watched fd. */
static struct event_base *
proc_event_base(void)
{
	struct event_config *ec = event_config_new();
	struct event_base *base;

	if (ec == NULL)
		fatalx("event_config_new failed");
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (base == NULL)
		fatalx("event_base_new failed");
	return base;
}

void
proc_init(struct proc *p, const char *name, int argc, char **argv)
{
	const char *path;
	char *err = NULL, *lvl;
	enum log_level level;

	memset(p, 0, sizeof(*p));
	p->name = name;
	path = proc_args(p, argc, argv);
	log_init(name, p->instance);
	p->cfg = proc_config = config_load(path, &err);
	if (p->cfg == NULL)
		fatalx("%s", err ? err : "cannot load config");
	config_set_instance(p->cfg, p->instance);
	lvl = config_get(p->cfg, "global", "log_level");
	if (lvl != NULL && log_level_parse(lvl, &level) < 0)
		fatalx("[global] log_level = %s: want debug, info, warn or error", lvl);
	if (lvl != NULL)
		log_set_level(level);
	free(lvl);
	proc_data_dirs(p->cfg);
	{
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/log", config_data_dir(p->cfg));
		eventlog_open(dir);
	}
	signal(SIGPIPE, SIG_IGN);
	p->base = proc_event_base();
	eventlog_attach(p->base);
	sig_term = evsignal_new(p->base, SIGTERM, proc_on_signal, p);
	sig_int = evsignal_new(p->base, SIGINT, proc_on_signal, p);
	evsignal_add(sig_term, NULL);
	evsignal_add(sig_int, NULL);
}

void
proc_on_stop(struct proc *p, int (*cb)(void *arg), void *arg)
{
	if (nhooks == PROC_MAX_HOOKS)
		panic("too many stop hooks");
	hooks[nhooks].cb = cb;
	hooks[nhooks].arg = arg;
	nhooks++;
}

void
proc_stop_done(struct proc *p)
{
	if (hooks_waiting > 0 && --hooks_waiting == 0)
		event_base_loopexit(p->base, NULL);
}

void
proc_ready(struct proc *p)
{
	const char *fdstr = getenv("PH_READY_FD");

	p->ready = true;
	log_info("ready (pid %d, config %s)", (int)getpid(),
	    config_path(p->cfg) ? config_path(p->cfg) : "embedded default");
	if (fdstr != NULL) {
		int fd = atoi(fdstr);
		char line[128];
		int n = snprintf(line, sizeof(line), "READY %s %d\n", p->name, p->instance);
		if (write(fd, line, (size_t)n) < 0)
			log_warn("ready fd %d", fd);
		close(fd);
		unsetenv("PH_READY_FD");
	}
}

int
proc_run(struct proc *p)
{
	int rc = event_base_dispatch(p->base);

	log_info("exited event loop");
	health_free(p->health);
	p->health = NULL;
	eventlog_detach();
	if (grace_timer)
		event_free(grace_timer);
	event_free(sig_term);
	event_free(sig_int);
	return rc < 0 ? 1 : 0;
}

void
proc_set_status(struct proc *p, health_status_fn fn, void *arg)
{
	p->status = fn;
	p->status_arg = arg;
}

void
proc_status(struct proc *p, struct health_status *st)
{
	st->ready = p->ready;
	st->reason = p->ready ? NULL : "starting";
	if (p->status != NULL)
		p->status(p->status_arg, st);
	if (p->stopping) {
		st->ready = false;
		st->reason = "stopping";
	}
}

/* proc_on_health - the [health] listener asks */
static void
proc_on_health(void *arg, struct health_status *st)
{
	proc_status(arg, st);
}

void
proc_health(struct proc *p)
{
	p->health = health_new(p->base, p->cfg, p->name, p->instance, proc_on_health, p);
}

const char *
proc_endpoint(const struct strvec *endpoints, int n, const char *what)
{
	if (n < 0 || (size_t)n >= endpoints->n)
		fatalx("no %s endpoint for instance %d ([endpoints] lists %zu)", what, n,
		    endpoints->n);
	return endpoints->v[n];
}
