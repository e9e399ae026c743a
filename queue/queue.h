/*
 * queue - ph-queue, one shard of the durable message queue.
 *
 * queue_run is the process entry (after proc_init); the configuration of
 * the [queue] section is parsed by queue_conf_load.
 */
#ifndef PH_QUEUE_H
#define PH_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct proc;

/* queue_conf - the [queue] section */
struct queue_conf {
	char *db_dir;			/* db_dir = ${data_dir}/queue-${instance} */
	long long lease_ms;		/* lease = 300s */
	long long max_age_ms;		/* max_age = 72h */
	long long batch_max;		/* batch_max = 1024 (jobs per synced write) */
	struct strvec retry;		/* retry_schedule = 60s,300s,900s,1800s,3600s */
	uint64_t *retry_ms;		/* parsed retry_schedule */
	size_t nretry;
	long long header_retention_ms;	/* header_retention = 14d */
	long long compact_interval_ms;	/* compact_interval = 6h (0 = never) */
	char *hostname;			/* hostname = "" (gethostname()): in
					 * bounce reports */
};

/* queue_conf_load - apply [queue] of CFG; -1 with *err (malloc'd) */
int queue_conf_load(struct queue_conf *qc, const struct ph_config *cfg,
    char **err);
void queue_conf_clear(struct queue_conf *qc);
/* queue_parse_duration - "500ms", "60s", "5m", "2h", "3d", bare = seconds */
int queue_parse_duration(const char *text, uint64_t *ms);

/* queue_run - serve the shard until a stop signal; the exit code */
int queue_run(struct proc *p);

#endif
