/*
 * load_reply - complete SMTP replies out of a connection's input buffer,
 * with ph-relay's reply parser (relay/relay_reply.h: multi-line replies,
 * enhanced codes), and the classes ph-load counts replies in.
 */
#ifndef PH_LOAD_REPLY_H
#define PH_LOAD_REPLY_H

#include "smtpc.h"

struct evbuffer;

#define LOAD_REPLY_LINE_MAX 4096	/* a longer reply line is a broken server */

enum load_reply_read_result {
	LOAD_REPLY_PARTIAL,	/* no complete reply yet */
	LOAD_REPLY_COMPLETE,	/* *R holds one whole reply */
	LOAD_REPLY_MALFORMED,	/* not "NNN text" or the code changed between lines */
	LOAD_REPLY_TOO_LONG,	/* a line beyond LOAD_REPLY_LINE_MAX */
};

/* load_reply_read - take reply lines from IN into the reply R is assembling
 * (smtpc_reply_reset before the first use and after each complete reply);
 * stops at the end of a reply, so pipelined replies are read one by one */
enum load_reply_read_result load_reply_read(struct evbuffer *in,
    struct smtpc_reply *r);

/* the classes of a message's verdict */
enum load_class {
	LOAD_CLASS_2XX, LOAD_CLASS_4XX, LOAD_CLASS_5XX,
	LOAD_CLASS_LOST,	/* no verdict: the connection broke or timed out */
	LOAD_CLASS_COUNT
};

/* load_class_of - the class of reply CODE (2xx, 4xx, 5xx; others lost) */
enum load_class load_class_of(int code);
/* load_class_name - "2xx", "4xx", "5xx", "lost" */
const char *load_class_name(enum load_class c);

#endif
