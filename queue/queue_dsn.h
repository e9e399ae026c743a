/*
 * queue_dsn - the text of a delivery status notification (RFC 3464): a
 * multipart/report; report-type=delivery-status with a human-readable part,
 * a message/delivery-status part (per-message fields, then one block per
 * failed recipient) and the original's header block as text/rfc822-headers.
 * A pure function of its input: the shard (queue_bounce.c) fills it in and
 * enqueues the result like any other message.
 */
#ifndef PH_QUEUE_DSN_H
#define PH_QUEUE_DSN_H

#include <stddef.h>
#include <stdint.h>

struct qdsn_rcpt {
	const char *addr;	/* Final-Recipient */
	const char *status;	/* "5.1.1" */
	const char *remote;	/* "host (ip)" or "" */
	const char *diag;	/* the remote reply or local reason */
};

struct qdsn {
	const char *hostname;	/* Reporting-MTA and MAILER-DAEMON's domain */
	const char *to;		/* the original envelope sender */
	const char *qid;	/* the original queue id */
	const char *msgid;	/* the DSN's own Message-ID, without <> */
	uint64_t arrival_ms;	/* when the original was received */
	uint64_t now_ms;
	const struct qdsn_rcpt *rcpts;
	size_t nrcpt;
	const char *orig_hdr;	/* the original's header block */
	size_t orig_hlen;
};

/* qdsn_build - the DSN (CRLF line ends) into a malloc'd *OUT. 0 or -1. */
int qdsn_build(const struct qdsn *d, char **out, size_t *len);

#endif
