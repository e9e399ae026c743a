/*
 * config - the one configuration file of a posthaste installation.
 *
 * An INI file (parsed by libinih) with one [section] per process kind plus
 * [global]. Every process reads only its own section, through a table of
 * config_row entries: {name, type, min, max, default, &target}. Values may use
 * ${data_dir} (the absolute [global] data_dir) and ${instance} (the instance
 * number given with --instance). Without a file the embedded default
 * (config_default_text()) is used: one machine, ipc:// endpoints under the
 * data dir.
 *
 * DIAGNOSTICS: config_load and config_apply return -1 with a message in *err
 * (malloc'd) for an unreadable file, a syntax error, an unknown key in a
 * section that was applied, or a value out of range.
 */
#ifndef PH_CONFIG_H
#define PH_CONFIG_H

#include <stddef.h>
#include <stdbool.h>

struct ph_config;

/* strvec - a list value: "a, b, c" (comma or whitespace separated) */
struct strvec {
	char **v;
	size_t n;
};

enum config_type {
	CFG_STR,	/* char ** (malloc'd, lives as long as the process) */
	CFG_INT,	/* long long * */
	CFG_BOOL,	/* bool *: yes/no/true/false/on/off/1/0 */
	CFG_LIST,	/* struct strvec * */
	CFG_SIZE,	/* long long *: bytes, accepts k/K, m/M, g/G suffixes (1024-based) */
	CFG_MS,		/* long long *: milliseconds, accepts ms/s/m/h/d suffixes, bare = seconds */
};

struct config_row {
	const char *name;
	enum config_type type;
	long long min, max;	/* for CFG_INT/CFG_SIZE/CFG_MS; ignored when min > max */
	const char *def;	/* default as text, NULL = empty */
	void *target;
};

/* config_load - parse PATH, or the embedded default when PATH is NULL */
struct ph_config *config_load(const char *path, char **err);
void config_free(struct ph_config *cfg);

/* config_set_instance - the value of ${instance} in later lookups */
void config_set_instance(struct ph_config *cfg, int instance);

/* config_apply - fill every row's target from SECTION; rejects unknown keys */
int config_apply(const struct ph_config *cfg, const char *section,
    const struct config_row *rows, char **err);

/* config_get - raw (expanded, malloc'd) value or NULL when absent */
char *config_get(const struct ph_config *cfg, const char *section, const char *key);

/* config_data_dir - the absolute data dir ([global] data_dir, default ./var) */
const char *config_data_dir(const struct ph_config *cfg);

/* config_path - the file it was loaded from, NULL for the embedded default */
const char *config_path(const struct ph_config *cfg);

const char *config_default_text(void);

/* the [smtpd] listeners' defaults: ph-smtpd opens them, ph-httpd derives
 * GET /configuration's smtpSubmitEndpoint from them */
#define CONFIG_SMTPD_LISTEN "127.0.0.1:2525"
#define CONFIG_SMTPD_SUBMISSION_LISTEN "127.0.0.1:2587"
#define CONFIG_SMTPD_TLS_LISTEN "127.0.0.1:2465"

/*
 * endpoints - where every service listens, from [endpoints]; shared by all
 * processes so that they agree. Defaults (embedded config):
 *   control      = ipc://${data_dir}/run/control.sock
 *   control_pub  = ipc://${data_dir}/run/control-pub.sock
 *   ratelimiter  = ipc://${data_dir}/run/ratelimiter-0.sock
 *   queue        = ipc://${data_dir}/run/queue-0.sock  (one shard: the fastest
 *                  on a small machine; list more for fail-over and more disks)
 */
struct ph_endpoints {
	char *control;
	char *control_pub;
	struct strvec ratelimiter;
	struct strvec queue;
};
int config_endpoints(const struct ph_config *cfg, struct ph_endpoints *ep, char **err);

/* strvec helpers */
void strvec_split(struct strvec *sv, const char *text);
void strvec_clear(struct strvec *sv);

#endif
