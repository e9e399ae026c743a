/*
 * phctl - the posthaste admin CLI.
 *
 *   phctl [--config FILE] [--json] [--timeout MS] NOUN VERB ARGS...
 *
 * Reads [endpoints] from the config (the embedded default without --config)
 * and talks to ph-control and the queue shards synchronously. Exit 0 on
 * success, 1 on an error, 2 on a usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "log.h"
#include "phctl.h"
#include "zsock.h"

/* usage - the global options and every command; exits 2 */
static void usage(void)
{
	fprintf(stderr, "usage: phctl [--config FILE] [--json] [--timeout MS] NOUN VERB ...\n");
	phctl_usage_commands();
	exit(PHCTL_EXIT_USAGE);
}

/* parse_global - options before NOUN; returns the index of NOUN */
static int parse_global(struct phctl *ph, int argc, char **argv, const char **config)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+c:jt:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': *config = optarg; break;
		case 'j': ph->json = true; break;
		case 't': ph->timeout_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (argc - optind < 2 || ph->timeout_ms == 0)
		usage();
	return optind;
}

/* main - options, config, one command */
int main(int argc, char **argv)
{
	struct phctl ph = { .timeout_ms = 5000 };
	const char *config = NULL;
	char *err = NULL;
	int first, rc;

	log_init("phctl", 0);
	log_set_level(LOG_LEVEL_WARN);
	first = parse_global(&ph, argc, argv, &config);
	ph.cfg = config_load(config, &err);
	if (ph.cfg == NULL || config_endpoints(ph.cfg, &ph.ep, &err) == -1)
		return phctl_err("config: %s", err ? err : "cannot load");
	rc = phctl_run(&ph, argc - first, argv + first);
	free(ph.ep.control);
	free(ph.ep.control_pub);
	strvec_clear(&ph.ep.ratelimiter);
	strvec_clear(&ph.ep.queue);
	config_free(ph.cfg);
	zsock_ctx_term();
	return rc;
}
