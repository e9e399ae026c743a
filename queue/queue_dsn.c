/*
 * queue_dsn - RFC 3464 delivery status notifications, written with stdio
 * into a memory stream.
 *
 * Replies go into one-line fields: CR, LF and other control characters
 * become spaces. A reply that starts with a three-digit SMTP code is an
 * "smtp" diagnostic; a local reason (a relay's "5.4.4 ..." or the shard's
 * "4.4.7 message expired") is an "x-posthaste" one.
 *
 * DIAGNOSTICS: none; -1 only when out of memory.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "queue_dsn.h"

#define FIELD_MAX 1000

/* one_line - TEXT with control characters replaced, cut to FIELD_MAX */
static void
one_line(const char *text, char out[FIELD_MAX])
{
	size_t i = 0;

	for (; text != NULL && text[i] != '\0' && i < FIELD_MAX - 1; i++)
		out[i] = iscntrl((unsigned char)text[i]) ? ' ' : text[i];
	out[i] = '\0';
}

/* is_smtp_reply - TEXT starts with a three-digit reply code */
static int
is_smtp_reply(const char *t)
{
	return isdigit((unsigned char)t[0]) && isdigit((unsigned char)t[1]) &&
	    isdigit((unsigned char)t[2]) && (t[3] == ' ' || t[3] == '\0' ||
	    t[3] == '-');
}

/* put_head - the message header and the MIME preamble */
static void
put_head(FILE *f, const struct qdsn *d, const char *boundary)
{
	char date[64];

	clock_date(d->now_ms, date, sizeof(date));
	fprintf(f, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
	    "To: <%s>\r\n"
	    "Subject: Undelivered Mail Returned to Sender\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <%s>\r\n"
	    "Auto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"\r\n"
	    "\r\n"
	    "This is a MIME-encapsulated message.\r\n"
	    "\r\n", d->hostname, d->to, date, d->msgid, boundary);
}

/* put_part - the boundary and header of one MIME part */
static void
put_part(FILE *f, const char *boundary, const char *description, const char *type)
{
	fprintf(f, "--%s\r\n"
	    "Content-Description: %s\r\n"
	    "Content-Type: %s\r\n"
	    "\r\n", boundary, description, type);
}

/* put_human - the notification for people */
static void
put_human(FILE *f, const struct qdsn *d, const char *boundary)
{
	char diag[FIELD_MAX];

	put_part(f, boundary, "Notification", "text/plain; charset=us-ascii");
	fprintf(f, "This is the mail system at host %s.\r\n"
	    "\r\n"
	    "I'm sorry to have to inform you that your message could not\r\n"
	    "be delivered to one or more recipients.\r\n"
	    "\r\n", d->hostname);
	for (size_t i = 0; i < d->nrcpt; i++) {
		one_line(d->rcpts[i].diag, diag);
		fprintf(f, "<%s>: %s\r\n", d->rcpts[i].addr, diag);
	}
	fputs("\r\n", f);
}

/* put_rcpt - one per-recipient block */
static void
put_rcpt(FILE *f, const struct qdsn_rcpt *r)
{
	char diag[FIELD_MAX], remote[FIELD_MAX];

	one_line(r->diag, diag);
	one_line(r->remote, remote);
	fprintf(f, "\r\nFinal-Recipient: rfc822; %s\r\n"
	    "Action: failed\r\n"
	    "Status: %s\r\n", r->addr, r->status);
	if (remote[0] != '\0')
		fprintf(f, "Remote-MTA: dns; %s\r\n", remote);
	fprintf(f, "Diagnostic-Code: %s; %s\r\n",
	    is_smtp_reply(diag) ? "smtp" : "x-posthaste", diag);
}

/* put_status - the machine-readable part */
static void
put_status(FILE *f, const struct qdsn *d, const char *boundary)
{
	char date[64];

	clock_date(d->arrival_ms, date, sizeof(date));
	put_part(f, boundary, "Delivery report", "message/delivery-status");
	fprintf(f, "Reporting-MTA: dns; %s\r\n"
	    "X-Posthaste-Queue-ID: %s\r\n"
	    "Arrival-Date: %s\r\n", d->hostname, d->qid, date);
	for (size_t i = 0; i < d->nrcpt; i++)
		put_rcpt(f, &d->rcpts[i]);
	fputs("\r\n", f);
}

/* put_original - the original's header block */
static void
put_original(FILE *f, const struct qdsn *d, const char *boundary)
{
	put_part(f, boundary, "Undelivered Message Headers", "text/rfc822-headers");
	fwrite(d->orig_hdr, 1, d->orig_hlen, f);
	if (d->orig_hlen < 2 || memcmp(d->orig_hdr + d->orig_hlen - 2,
	    "\r\n", 2) != 0)
		fputs("\r\n", f);
	fprintf(f, "\r\n--%s--\r\n", boundary);
}

/* qdsn_build - the whole report */
int
qdsn_build(const struct qdsn *d, char **out, size_t *len)
{
	char boundary[128];
	FILE *f;

	snprintf(boundary, sizeof(boundary), "%s.%llu/%s", d->qid,
	    (unsigned long long)(d->now_ms / 1000), d->hostname);
	*out = NULL;
	f = open_memstream(out, len);
	if (f == NULL)
		return -1;
	put_head(f, d, boundary);
	put_human(f, d, boundary);
	put_status(f, d, boundary);
	put_original(f, d, boundary);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}
