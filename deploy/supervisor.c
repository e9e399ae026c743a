/*
 * supervisor - start, watch, restart and stop the posthaste processes.
 *
 * Start order is by group: ph-control, ph-ratelimiter shards, ph-queue shards,
 * ph-relay workers, then the frontends (ph-smtpd, ph-httpd). A group starts
 * when every process of the previous group reported READY (through the pipe
 * named by PH_READY_FD) or ready_timeout passed. A process reports READY
 * only once it can do its job (the frontends: once their listeners are open,
 * which waits for their policy replica and peers; see common/base/proc.h).
 * While every process is READY the file <data_dir>/run/ready exists (tests
 * wait for it): it is written when the last one reported READY, removed when
 * one dies, and written again when its restart reported READY.
 *
 * A process that dies is restarted: after 100 ms when it ran for a while,
 * with a doubling back-off (up to restart_backoff_max) when it keeps dying.
 * On SIGTERM/SIGINT the groups are stopped in reverse order (frontends first,
 * so they finish what they accepted while the queue still runs), each given
 * stop_timeout before SIGKILL. Children get PR_SET_PDEATHSIG so a killed
 * supervisor leaves no orphans.
 *
 * Each child's pid is in <data_dir>/run/<name>-<instance>.pid.
 *
 * DIAGNOSTICS: bad config is fatal; a failed exec is logged and retried with
 * back-off like any other death.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "proc.h"
#include "supervisor.h"
#include "tls.h"

#define SUP_MAX_CHILDREN 64
#define SUP_GROUPS 5

struct child {
	const char *name;
	int group;
	int instance;
	pid_t pid;
	int ready;
	int ready_fd;
	struct event *ready_ev;
	struct event *restart_ev;
	uint64_t started_ms;
	long long backoff_ms;
	struct supervisor *sup;
};

struct supervisor {
	struct ph_config *cfg;
	const char *bin_dir;
	struct event_base *base;
	struct child children[SUP_MAX_CHILDREN];
	int nchildren;
	int started_group;	/* highest group started so far */
	int stopping;
	int stop_group;		/* group being stopped */
	int all_ready;
	long long relays, smtpd, httpd, ready_timeout, backoff_max, stop_timeout;
	struct event *group_timer, *stop_timer;
};

static void sup_start_child(struct child *c);
static void sup_start_group(struct supervisor *s, int group);
static void sup_stop_group(struct supervisor *s, int group);

static void
sup_pidfile(struct supervisor *s, const char *name, int instance, pid_t pid)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/run/%s-%d.pid", config_data_dir(s->cfg), name, instance);
	if (pid == 0) {
		unlink(path);
		return;
	}
	if ((f = fopen(path, "w")) == NULL) {
		log_warn("%s", path);
		return;
	}
	fprintf(f, "%d\n", (int)pid);
	fclose(f);
}

static int
sup_group_ready(struct supervisor *s, int group)
{
	for (int i = 0; i < s->nchildren; i++)
		if (s->children[i].group == group && !s->children[i].ready)
			return 0;
	return 1;
}

/* sup_mark_all_ready - once every process was READY, say so in run/ready */
static void
sup_mark_all_ready(struct supervisor *s)
{
	char path[4096];
	int fd;

	for (int i = 0; i < s->nchildren; i++)
		if (!s->children[i].ready)
			return;
	s->all_ready = 1;
	snprintf(path, sizeof(path), "%s/run/ready", config_data_dir(s->cfg));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0)
		close(fd);
	log_info("all %d processes ready", s->nchildren);
}

/* sup_unmark_ready - a process died: not everything is ready any more */
static void
sup_unmark_ready(struct supervisor *s)
{
	char path[4096];

	if (!s->all_ready)
		return;
	s->all_ready = 0;
	snprintf(path, sizeof(path), "%s/run/ready", config_data_dir(s->cfg));
	unlink(path);
}

/* sup_advance - start the next group once the current one is ready */
static void
sup_advance(struct supervisor *s)
{
	if (s->stopping)
		return;
	while (s->started_group < SUP_GROUPS - 1 && sup_group_ready(s, s->started_group))
		sup_start_group(s, s->started_group + 1);
	if (!s->all_ready)
		sup_mark_all_ready(s);
}

static void
sup_on_ready(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n > 0 && strncmp(buf, "READY", 5) == 0) {
		c->ready = 1;
		log_info("%s[%d] ready (pid %d)", c->name, c->instance, (int)c->pid);
		sup_advance(c->sup);
	}
	if (n <= 0 || c->ready) {
		event_free(c->ready_ev);
		c->ready_ev = NULL;
		close(c->ready_fd);
		c->ready_fd = -1;
	}
}

static void
sup_on_restart(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;
	if (!c->sup->stopping)
		sup_start_child(c);
}

/* sup_exec - in the child: exec the binary with --config/--instance */
static _Noreturn void
sup_exec(struct child *c, int ready_w)
{
	struct supervisor *s = c->sup;
	char bin[4096], inst[16], fdstr[16];
	char *argv[8];
	int argc = 0;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	snprintf(bin, sizeof(bin), "%s/%s", s->bin_dir, c->name);
	snprintf(inst, sizeof(inst), "%d", c->instance);
	snprintf(fdstr, sizeof(fdstr), "%d", ready_w);
	setenv("PH_READY_FD", fdstr, 1);
	argv[argc++] = bin;
	argv[argc++] = "--instance";
	argv[argc++] = inst;
	if (config_path(s->cfg) != NULL) {
		argv[argc++] = "--config";
		argv[argc++] = (char *)config_path(s->cfg);
	}
	argv[argc] = NULL;
	execv(bin, argv);
	fprintf(stderr, "posthaste: exec %s: %s\n", bin, strerror(errno));
	_exit(127);
}

static void
sup_start_child(struct child *c)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		log_warn("pipe");
		return;
	}
	pid = fork();
	if (pid < 0) {
		log_warn("fork");
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		int w = dup(p[1]);	/* without O_CLOEXEC: survives exec */
		sup_exec(c, w);
	}
	close(p[1]);
	c->pid = pid;
	c->ready = 0;
	c->started_ms = clock_mono_ms();
	c->ready_fd = p[0];
	c->ready_ev = event_new(c->sup->base, p[0], EV_READ | EV_PERSIST, sup_on_ready, c);
	event_add(c->ready_ev, NULL);
	sup_pidfile(c->sup, c->name, c->instance, pid);
	log_info("started %s[%d] pid %d", c->name, c->instance, (int)pid);
}

static void
sup_on_group_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *s = arg;
	if (s->stopping || s->started_group >= SUP_GROUPS - 1)
		return;
	log_warnx("group %d not ready after %lld ms; starting the next anyway",
	    s->started_group, s->ready_timeout);
	sup_start_group(s, s->started_group + 1);
}

static void
sup_start_group(struct supervisor *s, int group)
{
	struct timeval tv = { s->ready_timeout / 1000, (s->ready_timeout % 1000) * 1000 };

	s->started_group = group;
	for (int i = 0; i < s->nchildren; i++)
		if (s->children[i].group == group)
			sup_start_child(&s->children[i]);
	evtimer_add(s->group_timer, &tv);
}

static void
sup_add(struct supervisor *s, const char *name, int group, long long count)
{
	for (long long i = 0; i < count; i++) {
		struct child *c;
		if (s->nchildren == SUP_MAX_CHILDREN)
			fatalx("too many processes configured");
		c = &s->children[s->nchildren++];
		c->name = name;
		c->group = group;
		c->instance = (int)i;
		c->ready_fd = -1;
		c->sup = s;
		c->restart_ev = evtimer_new(s->base, sup_on_restart, c);
	}
}

/* sup_binary_exists - optional processes (ph-httpd) run only when built */
static int
sup_binary_exists(struct supervisor *s, const char *name)
{
	char bin[4096];
	snprintf(bin, sizeof(bin), "%s/%s", s->bin_dir, name);
	return access(bin, X_OK) == 0;
}

static int
sup_children_alive(struct supervisor *s, int group)
{
	int n = 0;
	for (int i = 0; i < s->nchildren; i++)
		if (s->children[i].pid > 0 && (group < 0 || s->children[i].group == group))
			n++;
	return n;
}

/* sup_on_exit - a child died: restart it, or move the stop sequence on */
static void
sup_on_exit(struct supervisor *s, struct child *c, int status)
{
	uint64_t ran = clock_mono_ms() - c->started_ms;
	struct timeval tv;

	if (WIFSIGNALED(status))
		log_warnx("%s[%d] pid %d killed by signal %d", c->name, c->instance,
		    (int)c->pid, WTERMSIG(status));
	else if (!s->stopping || WEXITSTATUS(status) != 0)
		log_warnx("%s[%d] pid %d exited with status %d", c->name, c->instance,
		    (int)c->pid, WEXITSTATUS(status));
	c->pid = 0;
	c->ready = 0;
	sup_unmark_ready(s);
	if (c->ready_ev) {
		event_free(c->ready_ev);
		c->ready_ev = NULL;
		close(c->ready_fd);
		c->ready_fd = -1;
	}
	sup_pidfile(s, c->name, c->instance, 0);
	if (s->stopping) {
		if (sup_children_alive(s, s->stop_group) == 0)
			sup_stop_group(s, s->stop_group - 1);
		return;
	}
	c->backoff_ms = ran > 10000 ? 100 : (c->backoff_ms ? c->backoff_ms * 2 : 500);
	if (c->backoff_ms > s->backoff_max)
		c->backoff_ms = s->backoff_max;
	tv.tv_sec = c->backoff_ms / 1000;
	tv.tv_usec = (c->backoff_ms % 1000) * 1000;
	log_info("restarting %s[%d] in %lld ms", c->name, c->instance, c->backoff_ms);
	evtimer_add(c->restart_ev, &tv);
}

static void
sup_on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct supervisor *s = arg;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (int i = 0; i < s->nchildren; i++)
			if (s->children[i].pid == pid) {
				sup_on_exit(s, &s->children[i], status);
				break;
			}
}

static void
sup_on_stop_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *s = arg;
	for (int i = 0; i < s->nchildren; i++)
		if (s->children[i].pid > 0 && s->children[i].group == s->stop_group) {
			log_warnx("%s[%d] did not stop; killing it", s->children[i].name,
			    s->children[i].instance);
			kill(s->children[i].pid, SIGKILL);
		}
}

/* sup_stop_group - SIGTERM every live process of GROUP (and below, when empty) */
static void
sup_stop_group(struct supervisor *s, int group)
{
	struct timeval tv = { s->stop_timeout / 1000, (s->stop_timeout % 1000) * 1000 };

	for (; group >= 0; group--) {
		if (sup_children_alive(s, group) == 0)
			continue;
		s->stop_group = group;
		for (int i = 0; i < s->nchildren; i++)
			if (s->children[i].pid > 0 && s->children[i].group == group)
				kill(s->children[i].pid, SIGTERM);
		evtimer_add(s->stop_timer, &tv);
		return;
	}
	event_base_loopexit(s->base, NULL);
}

static void
sup_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct supervisor *s = arg;

	if (s->stopping) {
		log_warnx("second stop signal: killing every process");
		for (int i = 0; i < s->nchildren; i++)
			if (s->children[i].pid > 0)
				kill(s->children[i].pid, SIGKILL);
		return;
	}
	s->stopping = 1;
	log_info("stopping (signal %d)", (int)sig);
	for (int i = 0; i < s->nchildren; i++)
		evtimer_del(s->children[i].restart_ev);
	sup_stop_group(s, SUP_GROUPS - 1);
}

static void
sup_config(struct supervisor *s)
{
	struct ph_endpoints ep;
	char *err = NULL;
	const struct config_row rows[] = {
		{ "relays", CFG_INT, 0, 32, "1", &s->relays },
		{ "smtpd", CFG_INT, 0, 32, "1", &s->smtpd },
		{ "httpd", CFG_INT, 0, 32, "1", &s->httpd },
		{ "ready_timeout", CFG_MS, 100, 600000, "15s", &s->ready_timeout },
		{ "restart_backoff_max", CFG_MS, 100, 3600000, "30s", &s->backoff_max },
		{ "stop_timeout", CFG_MS, 100, 600000, "10s", &s->stop_timeout },
		{ NULL, 0, 0, 0, NULL, NULL },
	};

	if (config_apply(s->cfg, "supervisor", rows, &err) < 0 ||
	    config_endpoints(s->cfg, &ep, &err) < 0)
		fatalx("%s", err);
	sup_add(s, "ph-control", 0, 1);
	sup_add(s, "ph-ratelimiter", 1, (long long)ep.ratelimiter.n);
	sup_add(s, "ph-queue", 2, (long long)ep.queue.n);
	sup_add(s, "ph-relay", 3, s->relays);
	sup_add(s, "ph-smtpd", 4, s->smtpd);
	if (sup_binary_exists(s, "ph-httpd"))
		sup_add(s, "ph-httpd", 4, s->httpd);
	free(ep.control);
	free(ep.control_pub);
	strvec_clear(&ep.ratelimiter);
	strvec_clear(&ep.queue);
}

/* sup_mkdirs - the data dir layout every process shares; no stale ready mark */
static void
sup_mkdirs(struct supervisor *s)
{
	char path[4096];

	proc_data_dirs(s->cfg);
	snprintf(path, sizeof(path), "%s/run/ready", config_data_dir(s->cfg));
	unlink(path);
}

/* sup_tls - the embedded default's first start: a self-signed certificate */
static void
sup_tls(struct ph_config *cfg)
{
	struct tls_files tf;
	char *err = NULL;

	if (tls_config(cfg, &tf, &err) < 0)
		fatalx("%s", err);
	if (tls_selfsigned_ensure(tf.cert, tf.key, tf.hostname) < 0)
		fatalx("no TLS certificate at %s and none could be created", tf.cert);
	free(tf.cert);
	free(tf.key);
	free(tf.hostname);
}

int
supervisor_init(struct ph_config *cfg)
{
	struct supervisor s = { 0 };

	s.cfg = cfg;
	sup_mkdirs(&s);
	sup_tls(cfg);
	return 0;
}

int
supervisor_run(struct ph_config *cfg, const char *bin_dir)
{
	struct supervisor s = { 0 };
	struct event *ev_chld, *ev_term, *ev_int;

	s.cfg = cfg;
	s.bin_dir = bin_dir;
	s.base = event_base_new();
	if (s.base == NULL)
		fatalx("event_base_new failed");
	signal(SIGPIPE, SIG_IGN);
	sup_mkdirs(&s);
	sup_config(&s);
	sup_tls(cfg);
	s.group_timer = evtimer_new(s.base, sup_on_group_timeout, &s);
	s.stop_timer = evtimer_new(s.base, sup_on_stop_timeout, &s);
	ev_chld = evsignal_new(s.base, SIGCHLD, sup_on_sigchld, &s);
	ev_term = evsignal_new(s.base, SIGTERM, sup_on_signal, &s);
	ev_int = evsignal_new(s.base, SIGINT, sup_on_signal, &s);
	evsignal_add(ev_chld, NULL);
	evsignal_add(ev_term, NULL);
	evsignal_add(ev_int, NULL);
	sup_pidfile(&s, "posthaste", 0, getpid());
	log_info("data dir %s, config %s, binaries in %s", config_data_dir(cfg),
	    config_path(cfg) ? config_path(cfg) : "embedded default", bin_dir);
	sup_start_group(&s, 0);
	event_base_dispatch(s.base);
	sup_pidfile(&s, "posthaste", 0, 0);
	log_info("all processes stopped");
	for (int i = 0; i < s.nchildren; i++) {
		event_free(s.children[i].restart_ev);
		if (s.children[i].ready_ev != NULL)
			event_free(s.children[i].ready_ev);
	}
	event_free(s.group_timer);
	event_free(s.stop_timer);
	event_free(ev_chld);
	event_free(ev_term);
	event_free(ev_int);
	event_base_free(s.base);
	return 0;
}
