/*
 * load_opts - ph-load's command line (getopt_long), checked as a whole:
 * every option is validated here, so the rest of the program trusts it.
 */
#ifndef PH_LOAD_OPTS_H
#define PH_LOAD_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOAD_HOST_MAX 256

struct load_opts {
	char host[LOAD_HOST_MAX];	/* --server HOST:PORT (127.0.0.1:25) */
	unsigned port;
	unsigned sessions;		/* --sessions (10) */
	uint64_t messages;		/* --messages, total (1000; 0: no limit,
					 * only with --duration) */
	size_t size;			/* --size: body bytes (1024) */
	const char *file;		/* --file: a whole message, used as is */
	const char *from;		/* --from (load@ph-load.test) */
	const char *to;			/* --to, "%d" allowed (user%d@example.test) */
	unsigned recipients;		/* --recipients per message (1) */
	const char *ehlo;		/* --ehlo (ph-load.localdomain) */
	bool starttls;			/* --starttls */
	bool tls;			/* --tls: implicit TLS from the first byte */
	const char *auth_user;		/* --auth-user / --auth-password: AUTH PLAIN */
	const char *auth_password;
	bool pipelining;		/* --pipelining: when the server offers it */
	double rate;			/* --rate: messages started per second (0: as
					 * fast as the sessions go) */
	double duration;		/* --duration seconds (0: none) */
	double timeout;			/* --timeout: seconds per reply (60) */
	bool json;			/* --json summary on stdout */
	bool insecure;			/* --insecure: no certificate check */
	const char *cafile;		/* --cafile (default: the system's store) */
};

enum load_opts_result {
	LOAD_OPTS_RUN,		/* parsed: run */
	LOAD_OPTS_HELP,		/* --help was printed: exit 0 */
	LOAD_OPTS_ERROR,	/* ERR says why: exit 2 */
};

/* load_opts_parse - ARGV into O (strings point into ARGV); on error a
 * one-line reason in ERR (LEN bytes). Resets getopt (optind) first, so it
 * may be called more than once. */
enum load_opts_result load_opts_parse(int argc, char **argv, struct load_opts *o,
    char *err, size_t len);
/* load_opts_usage - the --help text */
const char *load_opts_usage(void);
/* load_pattern_ok - PATTERN has at most one "%d" and no other '%' */
bool load_pattern_ok(const char *pattern);

#endif
