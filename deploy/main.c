/*
 * posthaste - the supervisor command.
 *
 *   posthaste run [--config FILE]    start the whole stack in the foreground
 *   posthaste init [--config FILE]   create the data dir and, when missing, a
 *                                    self-signed TLS certificate (containers run
 *                                    this once instead of the supervisor)
 *   posthaste default-config         print the embedded default configuration
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "supervisor.h"
#include "tls.h"

static void
usage(void)
{
	fprintf(stderr, "usage: posthaste run [--config FILE]\n"
	    "       posthaste init [--config FILE]\n"
	    "       posthaste default-config\n");
	exit(2);
}

/* bin_dir - where ph-* live: PH_BIN_DIR, else the directory of this binary */
static char *
bin_dir(void)
{
	char self[PATH_MAX];
	ssize_t n;

	if (getenv("PH_BIN_DIR"))
		return strdup(getenv("PH_BIN_DIR"));
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		fatal("readlink /proc/self/exe");
	self[n] = '\0';
	return strdup(dirname(self));
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	struct ph_config *cfg;
	char *err = NULL;
	int rc;

	log_init("posthaste", 0);
	if (argc >= 2 && strcmp(argv[1], "default-config") == 0) {
		fputs(config_default_text(), stdout);
		return 0;
	}
	if (argc < 2 || (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "init") != 0))
		usage();
	for (int i = 2; i < argc; i++) {
		if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
			path = argv[++i];
		else
			usage();
	}
	cfg = config_load(path, &err);
	if (cfg == NULL)
		fatalx("%s", err);
	if (strcmp(argv[1], "init") == 0) {
		rc = supervisor_init(cfg) < 0 ? 1 : 0;
	} else {
		char *bins = bin_dir();
		rc = supervisor_run(cfg, bins);
		free(bins);
	}
	config_free(cfg);
	return rc;
}
