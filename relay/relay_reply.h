/*
 * relay_reply - pure helpers of the SMTP client: the reply parser (multi-line
 * replies, enhanced status codes), the reply -> outcome classification, EHLO
 * capabilities and dot-stuffing of the message body. No sockets here, so every
 * function is unit-tested on its own.
 */
#ifndef PH_RELAY_REPLY_H
#define PH_RELAY_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "queue.pb-c.h"

#define RELAY_REPLY_TEXT_MAX 2048

/* relay_reply - one (possibly multi-line) server reply being assembled */
struct relay_reply {
	int code;			/* 3-digit code, 0 until the first line */
	char enh[16];			/* enhanced status code "5.1.1", or "" */
	char text[RELAY_REPLY_TEXT_MAX];/* line texts without "NNN-", '\n'-joined */
	size_t len;			/* bytes used in text */
	unsigned lines;
};

/* EHLO capabilities */
#define RELAY_CAP_PIPELINING	0x01u
#define RELAY_CAP_STARTTLS	0x02u
#define RELAY_CAP_8BITMIME	0x04u
#define RELAY_CAP_SIZE		0x08u
#define RELAY_CAP_ENHANCED	0x10u

void relay_reply_reset(struct relay_reply *r);
/* relay_reply_feed - add one line (without CRLF): 1 when the reply is
 * complete, 0 when more lines follow, -1 for a malformed line */
int relay_reply_feed(struct relay_reply *r, const char *line, size_t len);
/* relay_reply_summary - "NNN text text" on one line into OUT */
void relay_reply_summary(const struct relay_reply *r, char *out, size_t outlen);
/* relay_reply_outcome - 2xx delivered, 4xx deferred, 5xx failed, other deferred */
Ph__Outcome relay_reply_outcome(int code);
/* relay_ehlo_caps - RELAY_CAP_* bits from a complete EHLO reply */
unsigned relay_ehlo_caps(const struct relay_reply *r);

/* relay_dot_stuff - the DATA payload for BODY: bare LF made CRLF, lines that
 * start with '.' doubled, a final CRLF added when missing, then ".\r\n".
 * malloc'd, length in *OUTLEN; NULL when out of memory. */
char *relay_dot_stuff(const uint8_t *body, size_t len, size_t *outlen);

#endif
