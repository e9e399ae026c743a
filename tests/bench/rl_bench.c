/*
 * rl_bench - ratelimiter decisions per second over ZeroMQ (a benchmark, not
 * a test).
 *
 *   rl_bench -b BUILD/bin/ph-ratelimiter [-s SHARDS] [options]
 *       starts SHARDS ph-ratelimiter processes on ipc:// endpoints in a temp
 *       dir, measures, stops them (by PID) and removes the dir
 *   rl_bench -e ENDPOINT [-e ENDPOINT ...] [options]
 *       measures against shards that are already running
 * options: -p client processes (2), -c rl_clients per process (4),
 *          -w requests in flight per client (64), -t seconds (5),
 *          -k tenants (10000)
 *
 * Each request is what ph-smtpd sends for one message: the per-minute and
 * per-day limits of a random tenant, taken atomically, through rl_client
 * (so the shard is chosen by rl_shard_index). Prints decisions/s with the
 * machine.
 *
 * DIAGNOSTICS: exits 1 with a message on bad arguments or a failed start.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "rl_client.h"

#define MAX_SHARDS 16

struct opts {
	const char *binary;
	int shards, procs, clients, inflight, seconds, keys;
	char *eps[MAX_SHARDS];
	int neps;
};

struct counts {
	unsigned long long st[3];	/* by enum rl_status */
};

struct worker {
	struct event_base *base;
	struct rl_client *rl;
	const struct opts *o;
	uint64_t stop_ms;
	unsigned seed;
	int outstanding;
	struct counts *counts;
};

static void worker_issue(struct worker *w);

/* worker_done - one decision: count it, issue the next while time is left */
static void worker_done(void *arg, const struct rl_result *res)
{
	struct worker *w = arg;

	w->counts->st[res->status]++;
	w->outstanding--;
	if (clock_mono_ms() < w->stop_ms)
		worker_issue(w);
}

/* worker_issue - one request: a random tenant's minute and day limits */
static void worker_issue(struct worker *w)
{
	char tenant[32], kmin[48], kday[48];
	Ph__RateLimit m = PH__RATE_LIMIT__INIT, d = PH__RATE_LIMIT__INIT;
	const Ph__RateLimit *lims[2] = { &m, &d };

	snprintf(tenant, sizeof(tenant), "t%d", rand_r(&w->seed) % w->o->keys);
	snprintf(kmin, sizeof(kmin), "tenant:%s:minute", tenant);
	snprintf(kday, sizeof(kday), "tenant:%s:day", tenant);
	m.key = kmin, m.limit = 1000, m.window_s = 60;
	d.key = kday, d.limit = 100000, d.window_s = 86400;
	w->outstanding++;
	rl_client_take(w->rl, tenant, lims, 2, 1, worker_done, w);
}

/* client_proc - one client process: run, then write the counts to FD */
static int client_proc(const struct opts *o, int fd, int index)
{
	struct event_base *base = event_base_new();
	struct strvec eps = { (char **)o->eps, (size_t)o->neps };
	struct worker *ws = calloc((size_t)o->clients, sizeof(*ws));
	struct counts counts = { { 0 } };
	struct timeval tick = { 0, 20000 };
	int i, j, outstanding = 1;

	for (i = 0; i < o->clients; i++) {
		ws[i] = (struct worker){ base, rl_client_new(base, &eps, 2000), o, 0,
		    (unsigned)(index * 1000 + i + 1), 0, &counts };
		if (ws[i].rl == NULL)
			return 1;
	}
	event_base_loopexit(base, &(struct timeval){ 0, 200000 });	/* connect */
	event_base_dispatch(base);
	for (i = 0; i < o->clients; i++) {
		ws[i].stop_ms = clock_mono_ms() + (uint64_t)o->seconds * 1000;
		for (j = 0; j < o->inflight; j++)
			worker_issue(&ws[i]);
	}
	while (outstanding > 0) {
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
		for (i = 0, outstanding = 0; i < o->clients; i++)
			outstanding += ws[i].outstanding;
	}
	if (write(fd, &counts, sizeof(counts)) != sizeof(counts))
		return 1;
	for (i = 0; i < o->clients; i++)
		rl_client_free(ws[i].rl);
	free(ws);
	return 0;
}

/* spawn_shards - write a config in DIR, start the shards; PIDS filled */
static int spawn_shards(struct opts *o, const char *dir, pid_t *pids)
{
	char path[512], sock[512];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/rl_bench.conf", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "[global]\ndata_dir = %s/var\nlog_level = warn\n\n[endpoints]\nratelimiter =", dir);
	for (i = 0; i < o->shards; i++) {
		fprintf(f, "%s ipc://%s/var/run/rl-%d.sock", i ? "," : "", dir, i);
		snprintf(sock, sizeof(sock), "ipc://%s/var/run/rl-%d.sock", dir, i);
		o->eps[o->neps++] = strdup(sock);
	}
	fprintf(f, "\n\n[health]\nlisten = off\n");	/* not a running stack's ports */
	fclose(f);
	for (i = 0; i < o->shards; i++) {
		char inst[16];

		snprintf(inst, sizeof(inst), "%d", i);
		if ((pids[i] = fork()) == 0) {
			execl(o->binary, o->binary, "--config", path, "--instance", inst, (char *)NULL);
			_exit(127);
		}
	}
	for (i = 0; i < 100; i++) {	/* up to 5 s for every socket */
		int j, up = 0;
		struct stat st;

		for (j = 0; j < o->shards; j++)
			up += stat(o->eps[j] + strlen("ipc://"), &st) == 0;
		if (up == o->shards)
			return 0;
		usleep(50000);
	}
	return -1;
}

/* machine - one line describing this machine */
static void machine(char *buf, size_t len)
{
	struct utsname u;
	char line[256], model[200] = "unknown cpu";
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "model name", 10) == 0 && strchr(line, ':') != NULL) {
			snprintf(model, sizeof(model), "%s", strchr(line, ':') + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f != NULL)
		fclose(f);
	uname(&u);
	snprintf(buf, len, "%s %s, %ld cpus, %s", u.sysname, u.machine,
	    sysconf(_SC_NPROCESSORS_ONLN), model);
}

/* run_clients - fork the client processes and sum their counts */
static int run_clients(const struct opts *o, struct counts *total)
{
	int fds[2], i, status;
	struct counts c;

	if (pipe(fds) < 0)
		return -1;
	for (i = 0; i < o->procs; i++) {
		if (fork() == 0) {
			close(fds[0]);
			_exit(client_proc(o, fds[1], i));
		}
	}
	close(fds[1]);
	memset(total, 0, sizeof(*total));
	while (read(fds[0], &c, sizeof(c)) == sizeof(c))
		for (i = 0; i < 3; i++)
			total->st[i] += c.st[i];
	close(fds[0]);
	for (i = 0; i < o->procs; i++)
		wait(&status);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: rl_bench (-b ph-ratelimiter [-s shards] | -e endpoint...)\n"
	    "                [-p procs] [-c clients] [-w inflight] [-t seconds] [-k tenants]\n");
	exit(1);
}

static void parse(int argc, char **argv, struct opts *o)
{
	int ch;

	*o = (struct opts){ NULL, 1, 2, 4, 64, 5, 10000, { 0 }, 0 };
	while ((ch = getopt(argc, argv, "b:s:p:c:w:t:k:e:")) != -1) {
		switch (ch) {
		case 'b': o->binary = optarg; break;
		case 's': o->shards = atoi(optarg); break;
		case 'p': o->procs = atoi(optarg); break;
		case 'c': o->clients = atoi(optarg); break;
		case 'w': o->inflight = atoi(optarg); break;
		case 't': o->seconds = atoi(optarg); break;
		case 'k': o->keys = atoi(optarg); break;
		case 'e':
			if (o->neps < MAX_SHARDS)
				o->eps[o->neps++] = optarg;
			break;
		default: usage();
		}
	}
	if ((o->binary == NULL) == (o->neps == 0) || o->shards < 1 || o->shards > MAX_SHARDS ||
	    o->procs < 1 || o->clients < 1 || o->inflight < 1 || o->seconds < 1 || o->keys < 1)
		usage();
}

int main(int argc, char **argv)
{
	struct opts o;
	struct counts t;
	pid_t pids[MAX_SHARDS] = { 0 };
	char dir[] = "/tmp/rl_bench.XXXXXX", cmd[64], host[512];
	unsigned long long all;
	int i, rc = 0;

	parse(argc, argv, &o);
	if (o.binary != NULL && (mkdtemp(dir) == NULL || spawn_shards(&o, dir, pids) < 0)) {
		fprintf(stderr, "rl_bench: cannot start %s: %s\n", o.binary, strerror(errno));
		rc = 1;
	}
	if (rc == 0 && run_clients(&o, &t) == 0) {
		all = t.st[RL_ALLOWED] + t.st[RL_DENIED] + t.st[RL_UNAVAILABLE];
		machine(host, sizeof(host));
		printf("rl_bench: %d shard(s), %d client procs x %d clients x %d in flight, %d s: "
		    "%.0f decisions/s (allowed %llu, denied %llu, unavailable %llu)\n"
		    "machine: %s\n", o.neps, o.procs, o.clients, o.inflight, o.seconds,
		    (double)all / o.seconds, t.st[RL_ALLOWED], t.st[RL_DENIED],
		    t.st[RL_UNAVAILABLE], host);
	}
	for (i = 0; o.binary != NULL && i < o.shards; i++) {
		if (pids[i] > 0) {
			kill(pids[i], SIGTERM);
			waitpid(pids[i], NULL, 0);
		}
	}
	if (o.binary != NULL) {
		for (i = 0; i < o.neps; i++)
			free(o.eps[i]);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		rc |= system(cmd) != 0;
	}
	return rc;
}
