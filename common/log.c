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

/* ---- event logs ---- */

static char *eventlog_dir;

int
eventlog_open(const char *dir)
{
	free(eventlog_dir);
	eventlog_dir = strdup(dir);
	return eventlog_dir ? 0 : -1;
}

/* eventlog_fd - the O_APPEND fd of CATEGORY's file, opened once */
static int
eventlog_fd(const char *category)
{
	static struct { char name[32]; int fd; } fds[8];
	char path[4096];

	for (size_t i = 0; i < 8; i++) {
		if (fds[i].name[0] == '\0') {
			snprintf(fds[i].name, sizeof(fds[i].name), "%s", category);
			snprintf(path, sizeof(path), "%s/%s.log", eventlog_dir, category);
			fds[i].fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
			if (fds[i].fd < 0)
				log_warn("cannot open event log %s", path);
			return fds[i].fd;
		}
		if (strcmp(fds[i].name, category) == 0)
			return fds[i].fd;
	}
	return -1;
}

void
eventlog_write(const char *category, const char *source, json_t *data)
{
	char stamp[40], id[33], type[96];
	uint64_t now = clock_now_ms();
	time_t secs = (time_t)(now / 1000);
	struct tm tm;
	json_t *rec;
	char *line;
	int fd;

	if (eventlog_dir == NULL || (fd = eventlog_fd(category)) < 0) {
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
	if (write(fd, line, len + 1) < 0)
		log_warn("event log %s", category);
	free(line);
}
