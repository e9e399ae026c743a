/*
 * config - load the INI file (libinih), expand ${data_dir}/${instance}, and
 * fill per-section row tables.
 *
 * DIAGNOSTICS: every failure returns -1 with a malloc'd message in *err.
 */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <ini.h>

#include "log.h"
#include "config.h"

struct config_entry {
	char *section;
	char *key;
	char *value;
	int line;	/* order of appearance (Debian's libinih gives no line numbers) */
};

struct ph_config {
	struct config_entry *e;
	size_t n, cap;
	char *path;
	char *data_dir;
	int instance;
};

static const char default_text[] =
    "# posthaste embedded default configuration: one machine, every process\n"
    "# talking over ipc:// sockets under the data dir.\n"
    "[global]\n"
    "data_dir = ./var\n"
    "log_level = info\n"
    "\n"
    "[endpoints]\n"
    "control = ipc://${data_dir}/run/control.sock\n"
    "control_pub = ipc://${data_dir}/run/control-pub.sock\n"
    "ratelimiter = ipc://${data_dir}/run/ratelimiter-0.sock\n"
    "queue = ipc://${data_dir}/run/queue-0.sock\n"
    "\n"
    "[health]\n"
    "# GET /health/ready and /health/live of each process (ph-httpd answers\n"
    "# them on its HTTPS listener): the port is 9800 + 40 per process kind\n"
    "# (control, ratelimiter, queue, relay, smtpd) + the instance; off: none\n"
    "listen = 127.0.0.1:9800\n";

const char *
config_default_text(void)
{
	return default_text;
}

static char *
xstrdup_err(const char *s)
{
	char *d = strdup(s);
	if (d == NULL)
		fatal_nomem(__func__);
	return d;
}

static void
set_err(char **err, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
}

/* config_ini_handler - libinih callback: keep every entry (last one wins) */
static int
config_ini_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct ph_config *cfg = user;

	if (cfg->n == cfg->cap) {
		size_t cap = cfg->cap ? cfg->cap * 2 : 32;
		struct config_entry *e = realloc(cfg->e, cap * sizeof(*e));
		if (e == NULL)
			return 0;
		cfg->e = e;
		cfg->cap = cap;
	}
	cfg->e[cfg->n].section = xstrdup_err(section);
	cfg->e[cfg->n].key = xstrdup_err(name);
	cfg->e[cfg->n].value = xstrdup_err(value);
	cfg->e[cfg->n].line = (int)cfg->n + 1;
	cfg->n++;
	return 1;
}

static const struct config_entry *
config_find(const struct ph_config *cfg, const char *section, const char *key)
{
	for (size_t i = cfg->n; i-- > 0;)
		if (strcmp(cfg->e[i].section, section) == 0 &&
		    strcmp(cfg->e[i].key, key) == 0)
			return &cfg->e[i];
	return NULL;
}

/* config_absolute - make a relative data dir absolute against the cwd */
static char *
config_absolute(const char *dir)
{
	char cwd[PATH_MAX], *out;
	size_t len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (dir[0] == '/')
		return strndup(dir, len);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	if (len >= 2 && dir[0] == '.' && dir[1] == '/') {
		dir += 2;
		len -= 2;
	}
	if (asprintf(&out, "%s/%.*s", cwd, (int)len, dir) < 0)
		return NULL;
	return out;
}

struct ph_config *
config_load(const char *path, char **err)
{
	struct ph_config *cfg = calloc(1, sizeof(*cfg));
	const struct config_entry *dd;
	int rc;

	if (cfg == NULL)
		fatal_nomem(__func__);
	if (path == NULL) {
		rc = ini_parse_string(default_text, config_ini_handler, cfg);
	} else {
		cfg->path = config_absolute(path);
		rc = ini_parse(path, config_ini_handler, cfg);
	}
	if (rc < 0) {
		set_err(err, "cannot read config %s: %s", path, strerror(errno));
		goto error;
	}
	if (rc > 0) {
		set_err(err, "%s:%d: syntax error", path ? path : "(default)", rc);
		goto error;
	}
	dd = config_find(cfg, "global", "data_dir");
	cfg->data_dir = config_absolute(dd && dd->value[0] ? dd->value : "./var");
	if (cfg->data_dir == NULL) {
		set_err(err, "cannot resolve data_dir");
		goto error;
	}
	return cfg;
error:
	config_free(cfg);
	return NULL;
}

void
config_free(struct ph_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->n; i++) {
		free(cfg->e[i].section);
		free(cfg->e[i].key);
		free(cfg->e[i].value);
	}
	free(cfg->e);
	free(cfg->path);
	free(cfg->data_dir);
	free(cfg);
}

void
config_set_instance(struct ph_config *cfg, int instance)
{
	cfg->instance = instance;
}

const char *
config_data_dir(const struct ph_config *cfg)
{
	return cfg->data_dir;
}

const char *
config_path(const struct ph_config *cfg)
{
	return cfg->path;
}

/* config_grow - OUT reallocated to *CAP = WANT bytes (aborts when out of memory) */
static char *
config_grow(char *out, size_t *cap, size_t want)
{
	char *n = realloc(out, want);

	if (n == NULL)
		fatal_nomem(__func__);
	*cap = want;
	return n;
}

/* config_expand - copy TEXT with ${data_dir} and ${instance} replaced */
static char *
config_expand(const struct ph_config *cfg, const char *text)
{
	char inst[16];
	size_t cap = strlen(text) + 1, len = 0;
	char *out;

	snprintf(inst, sizeof(inst), "%d", cfg->instance);
	cap += 8 * (strlen(cfg->data_dir) + sizeof(inst));
	out = malloc(cap);
	if (out == NULL)
		fatal_nomem(__func__);
	for (const char *p = text; *p;) {
		const char *sub = NULL;
		size_t skip = 0;
		if (strncmp(p, "${data_dir}", 11) == 0)
			sub = cfg->data_dir, skip = 11;
		else if (strncmp(p, "${instance}", 11) == 0)
			sub = inst, skip = 11;
		if (sub != NULL) {
			size_t sl = strlen(sub);
			if (len + sl + 1 > cap)
				out = config_grow(out, &cap, (len + sl + 1) * 2);
			memcpy(out + len, sub, sl);
			len += sl;
			p += skip;
			continue;
		}
		if (len + 2 > cap)
			out = config_grow(out, &cap, cap * 2);
		out[len++] = *p++;
	}
	out[len] = '\0';
	return out;
}

char *
config_get(const struct ph_config *cfg, const char *section, const char *key)
{
	const struct config_entry *e = config_find(cfg, section, key);
	return e ? config_expand(cfg, e->value) : NULL;
}

void
strvec_split(struct strvec *sv, const char *text)
{
	const char *p = text;

	while (*p) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		const char *start = p;
		while (*p && *p != ',' && !isspace((unsigned char)*p))
			p++;
		char **v = realloc(sv->v, (sv->n + 1) * sizeof(*v));
		if (v == NULL)
			fatal_nomem(__func__);
		sv->v = v;
		sv->v[sv->n++] = strndup(start, (size_t)(p - start));
	}
}

void
strvec_clear(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

/* parse_scaled - integer with an optional unit suffix from TABLE */
static int
parse_scaled(const char *s, long long *out, const char *const *units,
    const long long *mult, long long bare)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end == '\0') {
		*out = v * bare;
		return 0;
	}
	for (size_t i = 0; units[i]; i++)
		if (strcasecmp(end, units[i]) == 0) {
			*out = v * mult[i];
			return 0;
		}
	return -1;
}

static int
parse_bool(const char *s, bool *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return (*out = true), 0;
		if (strcasecmp(s, no[i]) == 0)
			return (*out = false), 0;
	}
	return -1;
}

/* config_set_row - parse TEXT into ROW's target */
static int
config_set_row(const struct config_row *row, const char *text, char **err,
    const char *section)
{
	static const char *const size_units[] = { "k", "kb", "m", "mb", "g", "gb", NULL };
	static const long long size_mult[] = { 1024, 1024, 1 << 20, 1 << 20, 1 << 30, 1 << 30 };
	static const char *const ms_units[] = { "ms", "s", "m", "h", "d", NULL };
	static const long long ms_mult[] = { 1, 1000, 60000, 3600000, 86400000 };
	long long v = 0;
	int rc = 0;

	switch (row->type) {
	case CFG_STR:
		free(*(char **)row->target);
		*(char **)row->target = strdup(text);
		return 0;
	case CFG_LIST:
		strvec_clear(row->target);
		strvec_split(row->target, text);
		return 0;
	case CFG_BOOL:
		if (parse_bool(text, row->target) < 0)
			goto bad;
		return 0;
	case CFG_INT:
		rc = parse_scaled(text, &v, (const char *const[]){ NULL }, NULL, 1);
		break;
	case CFG_SIZE:
		rc = parse_scaled(text, &v, size_units, size_mult, 1);
		break;
	case CFG_MS:
		rc = parse_scaled(text, &v, ms_units, ms_mult, 1000);
		break;
	}
	if (rc < 0)
		goto bad;
	if (row->min <= row->max && (v < row->min || v > row->max)) {
		set_err(err, "[%s] %s = %s: out of range %lld..%lld", section,
		    row->name, text, row->min, row->max);
		return -1;
	}
	*(long long *)row->target = v;
	return 0;
bad:
	set_err(err, "[%s] %s = %s: invalid value", section, row->name, text);
	return -1;
}

int
config_apply(const struct ph_config *cfg, const char *section,
    const struct config_row *rows, char **err)
{
	for (const struct config_row *r = rows; r->name; r++) {
		char *v = config_get(cfg, section, r->name);
		char *def = v ? NULL : config_expand(cfg, r->def ? r->def : "");
		int rc = config_set_row(r, v ? v : def, err, section);
		free(v);
		free(def);
		if (rc < 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->n; i++) {
		const struct config_row *r;
		if (strcmp(cfg->e[i].section, section) != 0)
			continue;
		for (r = rows; r->name; r++)
			if (strcmp(r->name, cfg->e[i].key) == 0)
				break;
		if (r->name == NULL) {
			set_err(err, "%s: unknown key [%s] %s",
			    cfg->path ? cfg->path : "(default)", section, cfg->e[i].key);
			return -1;
		}
	}
	return 0;
}

int
config_endpoints(const struct ph_config *cfg, struct ph_endpoints *ep, char **err)
{
	const struct config_row rows[] = {
		{ "control", CFG_STR, 0, -1, "ipc://${data_dir}/run/control.sock", &ep->control },
		{ "control_pub", CFG_STR, 0, -1, "ipc://${data_dir}/run/control-pub.sock", &ep->control_pub },
		{ "ratelimiter", CFG_LIST, 0, -1, "ipc://${data_dir}/run/ratelimiter-0.sock", &ep->ratelimiter },
		{ "queue", CFG_LIST, 0, -1, "ipc://${data_dir}/run/queue-0.sock", &ep->queue },
		{ NULL, 0, 0, 0, NULL, NULL },
	};
	memset(ep, 0, sizeof(*ep));
	return config_apply(cfg, "endpoints", rows, err);
}
