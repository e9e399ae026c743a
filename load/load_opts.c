/*
 * load_opts - parsing and checking of ph-load's options.
 *
 * DIAGNOSTICS: every problem is a one-line reason for the caller, which
 * prints it with the usage hint and exits 2.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "load_opts.h"

#define LOAD_SESSIONS_MAX 10000
#define LOAD_RECIPIENTS_MAX 1000
#define LOAD_SIZE_MAX ((size_t)1 << 30)

enum {
	OPT_SERVER = 256, OPT_SESSIONS, OPT_MESSAGES, OPT_SIZE, OPT_FILE,
	OPT_FROM, OPT_TO, OPT_RECIPIENTS, OPT_EHLO, OPT_STARTTLS, OPT_TLS,
	OPT_AUTH_USER, OPT_AUTH_PASSWORD, OPT_PIPELINING, OPT_RATE,
	OPT_DURATION, OPT_TIMEOUT, OPT_JSON, OPT_INSECURE, OPT_CAFILE, OPT_HELP,
};

static const struct option long_options[] = {
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "sessions", required_argument, NULL, OPT_SESSIONS },
	{ "messages", required_argument, NULL, OPT_MESSAGES },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "file", required_argument, NULL, OPT_FILE },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "recipients", required_argument, NULL, OPT_RECIPIENTS },
	{ "ehlo", required_argument, NULL, OPT_EHLO },
	{ "starttls", no_argument, NULL, OPT_STARTTLS },
	{ "tls", no_argument, NULL, OPT_TLS },
	{ "auth-user", required_argument, NULL, OPT_AUTH_USER },
	{ "auth-password", required_argument, NULL, OPT_AUTH_PASSWORD },
	{ "pipelining", no_argument, NULL, OPT_PIPELINING },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "cafile", required_argument, NULL, OPT_CAFILE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
"usage: ph-load [options]\n"
"  --server HOST:PORT      SMTP server to load (127.0.0.1:25; [v6]:port)\n"
"  --sessions N            concurrent SMTP sessions (10)\n"
"  --messages M            messages in total (1000; with --duration alone: no limit)\n"
"  --size B                body bytes of a generated message (1024)\n"
"  --file F                send the RFC 5322 message in F as is (instead of --size)\n"
"  --from ADDR             envelope sender (load@ph-load.test)\n"
"  --to PATTERN            recipients; %d is replaced by a running number\n"
"                          (user%d@example.test)\n"
"  --recipients K          recipients per message (1)\n"
"  --ehlo NAME             EHLO name (ph-load.localdomain)\n"
"  --starttls              STARTTLS after EHLO (required to be offered)\n"
"  --tls                   implicit TLS (a port such as 465)\n"
"  --auth-user U --auth-password P   AUTH PLAIN, after TLS when TLS is used\n"
"  --pipelining            MAIL, RCPT and DATA in one write when PIPELINING is offered\n"
"  --rate R                open loop: R messages started per second across all\n"
"                          sessions (latency counted from each scheduled start)\n"
"  --duration S            stop starting messages after S seconds\n"
"  --timeout S             seconds to wait for any reply (60)\n"
"  --json                  the summary as one JSON object on stdout\n"
"  --insecure              do not check the server's certificate\n"
"  --cafile FILE           CA certificates to verify the server (default: system store)\n"
"  --help                  this text\n"
"exit: 0 every message got 2xx, 1 some did not, 2 usage or connection errors\n";

/* load_opts_usage - the --help text */
const char *load_opts_usage(void)
{
	return usage_text;
}

/* opt_error - format the reason into ERR; always LOAD_OPTS_ERROR */
static enum load_opts_result opt_error(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum load_opts_result opt_error(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return LOAD_OPTS_ERROR;
}

/* parse_u64 - a decimal integer in [MIN, MAX], nothing after it */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* parse_seconds - a positive finite number */
static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0)
		return -1;
	*out = v;
	return 0;
}

/* load_pattern_ok - at most one "%d", "%%" allowed, no other '%' */
bool load_pattern_ok(const char *pattern)
{
	unsigned numbers = 0;
	const char *p;

	for (p = pattern; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == 'd')
			numbers++;
		else if (p[1] != '%')
			return false;
		p++;
	}
	return numbers <= 1;
}

/* opt_name - "--server" for option code C */
static const char *opt_name(int c)
{
	const struct option *lo;

	for (lo = long_options; lo->name; lo++)
		if (lo->val == c)
			return lo->name;
	return "?";
}

/* opts_defaults - everything not given on the command line */
static void opts_defaults(struct load_opts *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->host, sizeof(o->host), "127.0.0.1");
	o->port = 25;
	o->sessions = 10;
	o->messages = 1000;
	o->size = 1024;
	o->from = "load@ph-load.test";
	o->to = "user%d@example.test";
	o->recipients = 1;
	o->ehlo = "ph-load.localdomain";
	o->timeout = 60;
}

/* opt_number - the integer options; -1 when ARG is out of range */
static int opt_number(struct load_opts *o, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case OPT_SESSIONS:
		if (parse_u64(arg, 1, LOAD_SESSIONS_MAX, &v) < 0)
			return -1;
		o->sessions = (unsigned)v;
		return 0;
	case OPT_MESSAGES:
		if (parse_u64(arg, 1, UINT64_MAX / 2, &v) < 0)
			return -1;
		o->messages = v;
		return 0;
	case OPT_SIZE:
		if (parse_u64(arg, 0, LOAD_SIZE_MAX, &v) < 0)
			return -1;
		o->size = (size_t)v;
		return 0;
	default:	/* OPT_RECIPIENTS */
		if (parse_u64(arg, 1, LOAD_RECIPIENTS_MAX, &v) < 0)
			return -1;
		o->recipients = (unsigned)v;
		return 0;
	}
}

/* opt_seconds - the time and rate options; -1 when ARG is not positive */
static int opt_seconds(struct load_opts *o, int c, const char *arg)
{
	double *target = c == OPT_RATE ? &o->rate :
	    c == OPT_DURATION ? &o->duration : &o->timeout;

	return parse_seconds(arg, target);
}

/* opt_string - options that keep their argument; FLAGS are the switches */
static void opt_string(struct load_opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_FILE: o->file = arg; break;
	case OPT_FROM: o->from = arg; break;
	case OPT_TO: o->to = arg; break;
	case OPT_EHLO: o->ehlo = arg; break;
	case OPT_AUTH_USER: o->auth_user = arg; break;
	case OPT_AUTH_PASSWORD: o->auth_password = arg; break;
	case OPT_CAFILE: o->cafile = arg; break;
	case OPT_STARTTLS: o->starttls = true; break;
	case OPT_TLS: o->tls = true; break;
	case OPT_PIPELINING: o->pipelining = true; break;
	case OPT_JSON: o->json = true; break;
	default: o->insecure = true; break;	/* OPT_INSECURE */
	}
}

/* opt_one - apply option C; -1 when its argument is bad */
static int opt_one(struct load_opts *o, int c, const char *arg, bool *size_given,
    bool *messages_given)
{
	switch (c) {
	case OPT_SERVER:
		return hostport_parse(arg, o->host, sizeof(o->host), &o->port, 25);
	case OPT_SIZE:
		*size_given = true;
		return opt_number(o, c, arg);
	case OPT_MESSAGES:
		*messages_given = true;
		return opt_number(o, c, arg);
	case OPT_SESSIONS:
	case OPT_RECIPIENTS:
		return opt_number(o, c, arg);
	case OPT_RATE:
	case OPT_DURATION:
	case OPT_TIMEOUT:
		return opt_seconds(o, c, arg);
	default:
		opt_string(o, c, arg);
		return 0;
	}
}

/* opts_check - combinations that make no sense */
static enum load_opts_result opts_check(const struct load_opts *o, bool size_given,
    char *err, size_t len)
{
	if (o->file && size_given)
		return opt_error(err, len, "--size and --file exclude each other");
	if (o->starttls && o->tls)
		return opt_error(err, len, "--starttls and --tls exclude each other");
	if (!o->auth_user != !o->auth_password)
		return opt_error(err, len, "--auth-user and --auth-password go together");
	if (o->insecure && o->cafile)
		return opt_error(err, len, "--insecure and --cafile exclude each other");
	if (!load_pattern_ok(o->to))
		return opt_error(err, len, "--to: at most one %%d and no other %% (%%%% for one)");
	if (!*o->from || !*o->to || !*o->ehlo)
		return opt_error(err, len, "--from, --to and --ehlo must not be empty");
	return LOAD_OPTS_RUN;
}

/* load_opts_parse - see load_opts.h */
enum load_opts_result load_opts_parse(int argc, char **argv, struct load_opts *o,
    char *err, size_t len)
{
	bool size_given = false, messages_given = false;
	int c;

	opts_defaults(o);
	optind = 0;	/* glibc: 0 reinitialises the scan */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		if (c == OPT_HELP)
			return LOAD_OPTS_HELP;
		if (c == '?' || c == ':')
			return opt_error(err, len, "unknown option or missing argument: %s",
			    argv[optind - 1]);
		if (opt_one(o, c, optarg, &size_given, &messages_given) < 0)
			return opt_error(err, len, "bad value for --%s: \"%s\"",
			    opt_name(c), optarg);
	}
	if (optind < argc)
		return opt_error(err, len, "unexpected argument: %s", argv[optind]);
	if (o->duration > 0 && !messages_given)
		o->messages = 0;	/* --duration alone: until the time is up */
	return opts_check(o, size_given, err, len);
}
