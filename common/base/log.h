/*
 * log - diagnostics to stderr, and the JSON-lines event logs.
 *
 * Diagnostic lines: "<time> <prog>[<instance>] <level>: message". log_warn and
 * fatal append strerror(errno); the "x" variants do not. fatal exits 1 (bad
 * config or environment); panic aborts for a broken invariant (core dump).
 *
 * Out of memory, the one policy of every process: memory for one request
 * (a message, an HTTP body, a DKIM job) that cannot be had is answered as a
 * temporary server error (451 / 500) and the process goes on; memory for the
 * process's own structures (sockets, pending-call tables, the schedule, the
 * policy index) that cannot be had ends the process with fatal_nomem, which
 * logs and aborts, so the supervisor restarts it from its durable state
 * rather than have it run on with a half-updated structure.
 *
 * Event logs (eventlog_*) are the service's two categories, "accepted" and
 * "relayed": one JSON object per line in <dir>/<category>.log, in the shape of
 * the cloud service's records ({"specversion","type","source","time","id",
 * "data"}). Writes are line-atomic (O_APPEND), so several processes share a file.
 */
#ifndef PH_LOG_H
#define PH_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

void log_init(const char *progname, int instance);
void log_set_level(enum log_level level);
int log_level_parse(const char *name, enum log_level *out);
int log_debug_enabled(void);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
_Noreturn void panic(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
/* fatal_nomem - "WHERE: out of memory", then abort (see above) */
_Noreturn void fatal_nomem(const char *where) __attribute__((noreturn));

/* eventlog - JSON lines. data is a jansson json_t * and is consumed (decref'd).
 * With a loop attached, records are buffered and written every 50 ms (and at
 * eventlog_detach); without one, each record is written at once. */
struct json_t;
struct event_base;
int eventlog_open(const char *dir);
void eventlog_attach(struct event_base *base);
void eventlog_detach(void);
void eventlog_flush(void);
void eventlog_write(const char *category, const char *source, struct json_t *data);

#endif
