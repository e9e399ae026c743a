/*
 * queue_conf - the [queue] section of the configuration.
 *
 * DIAGNOSTICS: an unknown key, a value out of range or a malformed retry
 * schedule is returned as an error (fatal at start-up).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

/* queue_parse_duration - a duration with an optional unit suffix */
int
queue_parse_duration(const char *text, uint64_t *ms)
{
	char *end;
	unsigned long long v = strtoull(text, &end, 10);
	uint64_t mul;

	if (end == text)
		return -1;
	if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "m") == 0)
		mul = 60000;
	else if (strcmp(end, "h") == 0)
		mul = 3600000;
	else if (strcmp(end, "d") == 0)
		mul = 86400000;
	else
		return -1;
	*ms = v * mul;
	return 0;
}

/* conf_retry - parse the retry schedule list */
static int
conf_retry(struct queue_conf *qc, char **err)
{
	qc->nretry = qc->retry.n;
	qc->retry_ms = calloc(qc->nretry ? qc->nretry : 1, sizeof(uint64_t));
	if (qc->retry_ms == NULL)
		return -1;
	for (size_t i = 0; i < qc->nretry; i++) {
		if (queue_parse_duration(qc->retry.v[i], &qc->retry_ms[i]) < 0 ||
		    qc->retry_ms[i] < 1000) {
			if (asprintf(err, "[queue] retry_schedule: bad delay "
			    "\"%s\" (at least 1s)", qc->retry.v[i]) < 0)
				*err = NULL;
			return -1;
		}
	}
	if (qc->nretry == 0) {
		*err = strdup("[queue] retry_schedule is empty");
		return -1;
	}
	return 0;
}

/* queue_conf_load - read [queue] */
int
queue_conf_load(struct queue_conf *qc, const struct ph_config *cfg, char **err)
{
	const struct config_row rows[] = {
		{ "db_dir", CFG_STR, 1, 0, "${data_dir}/queue-${instance}",
		    &qc->db_dir },
		{ "lease", CFG_MS, 1000, 86400000LL, "300s", &qc->lease_ms },
		{ "max_age", CFG_MS, 1000, 365LL * 86400000, "72h",
		    &qc->max_age_ms },
		{ "batch_max", CFG_INT, 1, 65536, "1024", &qc->batch_max },
		{ "retry_schedule", CFG_LIST, 1, 0, "60s,300s,900s,1800s,3600s",
		    &qc->retry },
		{ "header_retention", CFG_MS, 1000, 3650LL * 86400000, "14d",
		    &qc->header_retention_ms },
		{ "compact_interval", CFG_MS, 0, 365LL * 86400000, "6h",
		    &qc->compact_interval_ms },
		{ "hostname", CFG_STR, 1, 0, "", &qc->hostname },
		{ NULL, 0, 0, 0, NULL, NULL },
	};

	memset(qc, 0, sizeof(*qc));
	if (config_apply(cfg, "queue", rows, err) < 0)
		return -1;
	return conf_retry(qc, err);
}

/* queue_conf_clear - free what queue_conf_load allocated */
void
queue_conf_clear(struct queue_conf *qc)
{
	free(qc->db_dir);
	free(qc->hostname);
	strvec_clear(&qc->retry);
	free(qc->retry_ms);
	memset(qc, 0, sizeof(*qc));
}
