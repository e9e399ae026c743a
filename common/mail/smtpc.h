/*
 * smtpc - pure helpers of an SMTP client (ph-relay, ph-load): the reply parser (multi-line
 * replies, enhanced status codes), the reply -> outcome classification, EHLO
 * capabilities and dot-stuffing of the message body. No sockets here, so every
 * function is unit-tested on its own.
 */
#ifndef PH_SMTPC_H
#define PH_SMTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "queue.pb-c.h"

#define SMTPC_REPLY_TEXT_MAX 2048

/* relay_reply - one (possibly multi-line) server reply being assembled */
struct smtpc_reply {
	int code;			/* 3-digit code, 0 until the first line */
	char enh[16];			/* enhanced status code "5.1.1", or "" */
	char text[SMTPC_REPLY_TEXT_MAX];/* line texts without "NNN-", '\n'-joined */
	size_t len;			/* bytes used in text */
	unsigned lines;
};

/* EHLO capabilities */
#define SMTPC_CAP_PIPELINING	0x01u
#define SMTPC_CAP_STARTTLS	0x02u
#define SMTPC_CAP_8BITMIME	0x04u
#define SMTPC_CAP_SIZE		0x08u
#define SMTPC_CAP_ENHANCED	0x10u

void smtpc_reply_reset(struct smtpc_reply *r);
/* smtpc_reply_feed - add one line (without CRLF): 1 when the reply is
 * complete, 0 when more lines follow, -1 for a malformed line */
int smtpc_reply_feed(struct smtpc_reply *r, const char *line, size_t len);
/* smtpc_reply_summary - "NNN text text" on one line into OUT */
void smtpc_reply_summary(const struct smtpc_reply *r, char *out, size_t outlen);
/* smtpc_reply_outcome - 2xx delivered, 4xx deferred, 5xx failed, other deferred */
Ph__Outcome smtpc_reply_outcome(int code);
/* smtpc_ehlo_caps - SMTPC_CAP_* bits from a complete EHLO reply */
unsigned smtpc_ehlo_caps(const struct smtpc_reply *r);

/* smtpc_dot_stuff - the DATA payload for BODY: bare LF made CRLF, lines that
 * start with '.' doubled, a final CRLF added when missing, then ".\r\n".
 * malloc'd, length in *OUTLEN; NULL when out of memory. */
char *smtpc_dot_stuff(const uint8_t *body, size_t len, size_t *outlen);

#endif
