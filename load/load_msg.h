/*
 * load_msg - what ph-load sends: the envelope addresses of message N and
 * its DATA payload.
 *
 * The payload is prepared once per run and shared by every message (each
 * session adds a reference to it to its output, no copy per message):
 *   --file F   the file as is, dot-stuffed (RFC 5321 4.5.2: a line that
 *              starts with '.' gets another, bare LF becomes CRLF), ".\r\n"
 *   --size B   B bytes of body text in lines of 76 characters and CRLF (a
 *              last, shorter line gets its CRLF added), ".\r\n"; then
 *              each message gets its own header block in front (From, To,
 *              Subject, Date, a unique Message-ID), written per message.
 * Recipient number i of message N (K per message) is the --to pattern
 * with "%d" replaced by N*K+i, so every recipient of a run is distinct.
 */
#ifndef PH_LOAD_MSG_H
#define PH_LOAD_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "load_opts.h"

struct evbuffer;

#define LOAD_ADDR_MAX 512

struct load_msg {
	char *payload;			/* dot-stuffed, ends in ".\r\n" */
	size_t payload_len;
	bool headers;			/* generated: a header block per message */
	char run_id[17];		/* in every Message-ID of this run */
	char date[64];			/* the Date header of this run */
	const struct load_opts *opts;
};

/* load_msg_init - read or generate the payload; -1 with a reason in ERR */
int load_msg_init(struct load_msg *m, const struct load_opts *o, char *err,
    size_t len);
void load_msg_free(struct load_msg *m);
/* load_msg_recipient - recipient I of message N into OUT (truncated at LEN) */
void load_msg_recipient(const struct load_msg *m, uint64_t n, unsigned i,
    char *out, size_t len);
/* load_msg_write - the DATA payload of message N into OUT (the header block
 * of a generated message, then a reference to the shared payload, which
 * must outlive OUT's use of it); -1 when out of memory */
int load_msg_write(const struct load_msg *m, uint64_t n, struct evbuffer *out);
/* load_pattern_expand - PATTERN with its "%d" replaced by NUMBER and "%%"
 * by '%' into OUT (truncated at LEN) */
void load_pattern_expand(const char *pattern, uint64_t number, char *out,
    size_t len);
/* load_body_make - LEN bytes of body text in CRLF lines (malloc'd, not
 * NUL-terminated); NULL when out of memory */
char *load_body_make(size_t len);
/* load_auth_plain - base64 of "\0USER\0PASSWORD" (RFC 4616), malloc'd */
char *load_auth_plain(const char *user, const char *password);

#endif
