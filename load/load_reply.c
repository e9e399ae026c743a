/*
 * load_reply - reply assembly from an evbuffer and reply classes.
 *
 * DIAGNOSTICS: none; malformed input is reported to the session, which
 * drops the connection.
 */
#include <stdlib.h>
#include <event2/buffer.h>
#include "load_reply.h"

/* load_reply_read - see load_reply.h */
enum load_reply_read_result load_reply_read(struct evbuffer *in,
    struct smtpc_reply *r)
{
	char *line;
	size_t n;
	int rc;

	for (;;) {
		if (!(line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)))
			return evbuffer_get_length(in) > LOAD_REPLY_LINE_MAX ?
			    LOAD_REPLY_TOO_LONG : LOAD_REPLY_PARTIAL;
		rc = n > LOAD_REPLY_LINE_MAX ? -1 : smtpc_reply_feed(r, line, n);
		free(line);
		if (n > LOAD_REPLY_LINE_MAX)
			return LOAD_REPLY_TOO_LONG;
		if (rc < 0)
			return LOAD_REPLY_MALFORMED;
		if (rc == 1)
			return LOAD_REPLY_COMPLETE;
	}
}

/* load_class_of - by the first digit */
enum load_class load_class_of(int code)
{
	switch (code / 100) {
	case 2:
		return LOAD_CLASS_2XX;
	case 4:
		return LOAD_CLASS_4XX;
	case 5:
		return LOAD_CLASS_5XX;
	default:
		return LOAD_CLASS_LOST;
	}
}

/* load_class_name - for the summary */
const char *load_class_name(enum load_class c)
{
	static const char *const names[] = { "2xx", "4xx", "5xx", "lost" };

	return names[c];
}
