/*
 * ph-load - an SMTP load generator for posthaste and any SMTP server
 * (README "Load testing: ph-load"). main parses the options and runs.
 */
#include <stdio.h>
#include "load_opts.h"
#include "load_run.h"

int main(int argc, char **argv)
{
	struct load_opts o;
	char err[512];

	switch (load_opts_parse(argc, argv, &o, err, sizeof(err))) {
	case LOAD_OPTS_HELP:
		fputs(load_opts_usage(), stdout);
		return 0;
	case LOAD_OPTS_ERROR:
		fprintf(stderr, "ph-load: %s\n(ph-load --help lists the options)\n", err);
		return 2;
	default:
		return load_run(&o);
	}
}
