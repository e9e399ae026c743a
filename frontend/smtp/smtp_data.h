/*
 * smtp_data - the DATA phase reader: turns the dot-stuffed, CRLF-terminated
 * lines a client sends after "354" into the message body, detects the final
 * "." line and enforces the size limit (the header is the submission
 * pipeline's to scan, frontend/submit). Works on any evbuffer, so it is
 * tested without sockets.
 *
 * Line ends: only <CRLF>.<CRLF> ends the message (a "." line next to a bare LF
 * does not: no SMTP smuggling). A line that ends in a bare LF is stored with
 * CRLF, so the body always has CRLF line ends. Lines longer than RFC 5321's
 * 1000 octets are accepted (the size limit bounds them); a line with no LF in
 * SMTP_DATA_CHUNK bytes is consumed in pieces.
 */
#ifndef SMTP_DATA_H
#define SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>

struct evbuffer;
struct submit_buf;

#define SMTP_DATA_CHUNK (64 * 1024)

struct smtp_data {
	struct submit_buf *body;	/* where the message goes (may hold a Received: line) */
	size_t max_size;		/* body limit in bytes */
	size_t total;			/* bytes of message received, kept or not */
	bool at_bol;			/* the next byte starts a line */
	bool prev_crlf;			/* the last complete line ended with CRLF */
	bool overflow;			/* the body exceeded max_size: reject at the end */
	bool nomem;			/* out of memory: reject at the end */
};

enum smtp_data_status { DATA_MORE, DATA_END };

/* smtp_data_start - a new message into BODY (not cleared), at most MAX_SIZE bytes */
void smtp_data_start(struct smtp_data *d, struct submit_buf *body, size_t max_size);
/* smtp_data_feed - consume what IN holds; DATA_END once the final "." line was
 * consumed (the rest of IN, e.g. pipelined commands, is left there) */
enum smtp_data_status smtp_data_feed(struct smtp_data *d, struct evbuffer *in);

#endif
