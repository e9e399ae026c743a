/*
 * log - diagnostics on stderr and the JSON-lines event logs.
 *
 * DIAGNOSTICS: fatal/fatalx exit(1); panic abort()s. An event log that cannot
 * be written is reported once per category and otherwise ignored (mail flow
 * does not stop for a log).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>
#include <event2/event.h>
#include <jansson.h>

#include "clock.h"
#include "log.h"

static char prog[64] = "posthaste";
static enum log_level level = LOG_LEVEL_INFO;

void
log_init(const char *progname, int instance)
{
	if (instance > 0)
		snprintf(prog, sizeof(prog), "%s[%d]", progname, instance);
	else
		snprintf(prog, sizeof(prog), "%s", progname);
}

void
log_set_level(enum log_level l)
{
	level = l;
}

int
log_level_parse(const char *name, enum log_level *out)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	for (int i = 0; i < 4; i++)
		if (strcasecmp(name, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

int
log_debug_enabled(void)
{
	return level <= LOG_LEVEL_DEBUG;
}

/* log_vemit - one diagnostic line; ERRNUM >= 0 appends strerror */
static void
log_vemit(const char *lvl, int errnum, const char *fmt, va_list ap)
{
	char msg[2048], stamp[32];
	struct timeval tv;
	struct tm tm;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (errnum >= 0)
		fprintf(stderr, "%s.%03ldZ %s %s: %s: %s\n", stamp,
		    (long)tv.tv_usec / 1000, prog, lvl, msg, strerror(errnum));
	else
		fprintf(stderr, "%s.%03ldZ %s %s: %s\n", stamp,
		    (long)tv.tv_usec / 1000, prog, lvl, msg);
}

#define LOG_BODY(minlevel, lvl, errnum) do {		\
	va_list ap;					\
	int saved = errno;				\
	if (level > (minlevel))				\
		return;					\
	va_start(ap, fmt);				\
	log_vemit(lvl, (errnum) ? saved : -1, fmt, ap);	\
	va_end(ap);					\
	errno = saved;					\
} while (0)

void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_DEBUG, "debug", 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_INFO, "info", 0); }
void log_warn(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_WARN, "warning", 1); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_WARN, "warning", 0); }

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	log_vemit("fatal", saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vemit("fatal", -1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vemit("panic", -1, fmt, ap);
	va_end(ap);
	abort();
}

void
fatal_nomem(const char *where)
{
	panic("%s: out of memory", where);
}

/* ---- event logs ---- */

/*
 * Records are buffered per category and written with one write() per flush:
 * every EVENTLOG_FLUSH_MS from the process's event loop, when a buffer passes
 * EVENTLOG_BUF_MAX, and at exit. A process without a loop (tools, tests)
 * writes each record at once. Whole lines only, so O_APPEND keeps the lines
 * of several processes apart. A kill -9 loses at most the last
 * EVENTLOG_FLUSH_MS of records; the durable account is the queue's header log.
 * Called from the event loop's thread only.
 */
#define EVENTLOG_FLUSH_MS 50
#define EVENTLOG_BUF_MAX (32 * 1024)
#define EVENTLOG_CATEGORIES 8

struct eventlog_file {
	char name[32];
	int fd;
	char *buf;
	size_t len, cap;
};

static char *eventlog_dir;
static struct eventlog_file eventlog_files[EVENTLOG_CATEGORIES];
static struct event *eventlog_timer;

int
eventlog_open(const char *dir)
{
	free(eventlog_dir);
	eventlog_dir = strdup(dir);
	return eventlog_dir ? 0 : -1;
}

/* eventlog_file - CATEGORY's file, opened (O_APPEND) on first use */
static struct eventlog_file *
eventlog_file(const char *category)
{
	char path[4096];

	for (size_t i = 0; i < EVENTLOG_CATEGORIES; i++) {
		struct eventlog_file *f = &eventlog_files[i];
		if (f->name[0] == '\0') {
			snprintf(f->name, sizeof(f->name), "%s", category);
			snprintf(path, sizeof(path), "%s/%s.log", eventlog_dir, category);
			f->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
			if (f->fd < 0)
				log_warn("cannot open event log %s", path);
			return f;
		}
		if (strcmp(f->name, category) == 0)
			return f;
	}
	return NULL;
}

/* eventlog_flush_file - write what F holds */
static void
eventlog_flush_file(struct eventlog_file *f)
{
	if (f->len == 0 || f->fd < 0)
		return;
	if (write(f->fd, f->buf, f->len) < 0)
		log_warn("event log %s", f->name);
	f->len = 0;
}

void
eventlog_flush(void)
{
	for (size_t i = 0; i < EVENTLOG_CATEGORIES; i++)
		eventlog_flush_file(&eventlog_files[i]);
}

static void
eventlog_on_timer(evutil_socket_t fd, short what, void *arg)
{
	eventlog_flush();
}

void
eventlog_attach(struct event_base *base)
{
	if (eventlog_timer == NULL)
		eventlog_timer = evtimer_new(base, eventlog_on_timer, NULL);
}

void
eventlog_detach(void)
{
	eventlog_flush();
	if (eventlog_timer != NULL)
		event_free(eventlog_timer);
	eventlog_timer = NULL;
	for (size_t i = 0; i < EVENTLOG_CATEGORIES; i++) {
		free(eventlog_files[i].buf);
		eventlog_files[i].buf = NULL;
		eventlog_files[i].cap = 0;
	}
}

/* eventlog_append - one line into F's buffer; flush now or arm the timer */
static void
eventlog_append(struct eventlog_file *f, const char *line, size_t len)
{
	static const struct timeval flush = { 0, EVENTLOG_FLUSH_MS * 1000 };

	if (f->len + len > f->cap) {
		size_t cap = f->cap ? f->cap : 4096;
		while (cap < f->len + len)
			cap *= 2;
		char *b = realloc(f->buf, cap);
		if (b == NULL) {
			eventlog_flush_file(f);
			if (write(f->fd, line, len) < 0)
				log_warn("event log %s", f->name);
			return;
		}
		f->buf = b;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, line, len);
	f->len += len;
	if (eventlog_timer == NULL || f->len >= EVENTLOG_BUF_MAX)
		eventlog_flush_file(f);
	else if (!evtimer_pending(eventlog_timer, NULL))
		evtimer_add(eventlog_timer, &flush);
}

void
eventlog_write(const char *category, const char *source, json_t *data)
{
	char stamp[40], id[33], type[96];
	uint64_t now = clock_now_ms();
	time_t secs = (time_t)(now / 1000);
	struct eventlog_file *f;
	struct tm tm;
	json_t *rec;
	char *line;

	if (eventlog_dir == NULL || (f = eventlog_file(category)) == NULL || f->fd < 0) {
		json_decref(data);
		return;
	}
	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), ".%03uZ",
	    (unsigned)(now % 1000));
	id_new(id);
	snprintf(type, sizeof(type), "com.posthaste.emaildelivery.emaildomain.outbound%s", category);
	rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "specversion", "1.0",
	    "type", type, "source", source ? source : "", "time", stamp, "id", id,
	    "data", data);
	if (rec == NULL)
		return;
	line = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	if (line == NULL)
		return;
	size_t len = strlen(line);
	line[len] = '\n';	/* json_dumps buffers have the NUL to spare */
	eventlog_append(f, line, len + 1);
	free(line);
}
