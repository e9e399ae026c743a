/*
 * http_submit - SubmitEmail and SubmitRawEmail request handling: decode and
 * validate the request, build or take the message, then http_commit.
 *
 * SubmitEmail: the JSON request becomes a MIME message (http_mime) behind
 * the Received: line. SubmitRawEmail: headers compartment-id, sender,
 * recipients (comma separated) name the envelope; the body is the message
 * (line ends made CRLF). Everything else (the header From's addresses
 * approved as well as the sender, a Message-ID for a message without one)
 * is the pipeline's, as over SMTP.
 *
 * A request body far over the byte limit is refused before it is decoded
 * (413, the pipeline's own reply for a message over the limit).
 *
 * DIAGNOSTICS: none beyond the replies.
 */
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "http_call.h"
#include "http_commit.h"
#include "http_email.h"
#include "http_mime.h"
#include "http_submit.h"
#include "httpd.h"

/* submit_err - reply with a decoding refusal */
static void submit_err(struct http_call *c, const struct http_err *e)
{
	http_reply_error(c, e->status, e->code, "%s", e->message);
}

/* submit_too_big - a request body over FACTOR times the byte limit is
 * refused unread */
static int submit_too_big(struct http_call *c, size_t factor)
{
	if ((long long)c->body_len <= c->hd->conf.max_message_size * (long long)factor)
		return 0;
	http_reply_too_big(c);
	return -1;
}

/* submit_fill - envelope of a JSON submission */
static int submit_fill(struct http_commit *k, const struct http_email *m)
{
	snprintf(k->compartment_id, sizeof(k->compartment_id), "%s", m->compartment_id);
	snprintf(k->mail_from, sizeof(k->mail_from), "%s", m->sender.email);
	for (size_t i = 0; i < http_email_nrcpt(m); i++)
		if (http_commit_add_rcpt(k, m->rcpt[i].email, m->rcpt[i].name) == -1)
			return -1;
	return 0;
}

/* http_submit_email - POST /20220926/actions/submitEmail */
void http_submit_email(struct http_call *c)
{
	struct http_commit *k;
	struct http_email m;
	struct http_err e;
	struct http_mime_ctx ctx;

	if (submit_too_big(c, 2) == -1)
		return;
	if (http_email_decode((const char *)c->body, c->body_len, &m, &e) == -1) {
		http_email_clear(&m);
		submit_err(c, &e);
		return;
	}
	if ((k = http_commit_new(c, false)) == NULL) {
		http_email_clear(&m);
		http_reply_internal(c);
		return;
	}
	k->keep = m.root;	/* recipient names point into it */
	ctx = (struct http_mime_ctx){ k->id, k->received_ms };
	if (submit_fill(k, &m) == -1 || http_commit_received(c, k) == -1 ||
	    http_mime_build(&m, &ctx, &k->msg) == -1) {
		http_reply_internal(c);
		return;
	}
	http_commit_start(c);
}

/* raw_rcpt - one recipient of the recipients header (P, N bytes, blanks
 * around it dropped); 0, or -1 after the refusal */
static int raw_rcpt(struct http_call *c, struct http_commit *k, const char *p, size_t n)
{
	char buf[ADDR_MAX + 1];
	size_t e;

	while (n > 0 && (*p == ' ' || *p == '\t'))
		p++, n--;
	snprintf(buf, sizeof(buf), "%.*s", (int)n, p);
	for (e = strlen(buf); e > 0 && (buf[e - 1] == ' ' || buf[e - 1] == '\t'); )
		buf[--e] = '\0';
	if (buf[0] == '\0')
		return 0;
	if (!http_address_ok(buf))
		return http_reply_error(c, 400, "InvalidParameter",
		    "Invalid Internet Address : %.300s", buf), -1;
	if (k->nrcpt == HTTP_COMMIT_MAX_RCPTS)
		return http_reply_error(c, 400, "InvalidParameter",
		    "maxItems: 50, for recipients across the To:, CC: and BCC: fields."), -1;
	if (http_commit_add_rcpt(k, buf, NULL) == -1)
		return http_reply_internal(c), -1;
	return 0;
}

/* raw_envelope - compartment-id, sender, recipients headers */
static int raw_envelope(struct http_call *c, struct http_commit *k)
{
	const char *comp = http_header(c, "compartment-id");
	const char *sender = http_header(c, "sender");
	const char *rcpts = http_header(c, "recipients");

	if (comp == NULL || *comp == '\0')
		return http_reply_error(c, 400, "MissingParameter",
		    "Required attribute sender compartmentId cannot be empty or null."), -1;
	if (sender == NULL || *sender == '\0')
		return http_reply_error(c, 400, "MissingParameter",
		    "Required attribute sender can't be empty or null."), -1;
	if (!http_address_ok(sender))
		return http_reply_error(c, 400, "InvalidParameter",
		    "Invalid Internet Address : %.300s", sender), -1;
	snprintf(k->compartment_id, sizeof(k->compartment_id), "%s", comp);
	snprintf(k->mail_from, sizeof(k->mail_from), "%s", sender);
	for (const char *p = rcpts ? rcpts : ""; *p; ) {
		size_t n = strcspn(p, ",");

		if (raw_rcpt(c, k, p, n) == -1)
			return -1;
		p += n + (p[n] == ',');
	}
	if (k->nrcpt == 0)
		return http_reply_error(c, 400, "MissingParameter",
		    "Required attribute recipients must contain either to , cc or bcc recipients."), -1;
	return 0;
}

/* http_submit_raw - POST /20220926/actions/submitRawEmail */
void http_submit_raw(struct http_call *c)
{
	struct http_commit *k;

	if (submit_too_big(c, 1) == -1)
		return;
	if ((k = http_commit_new(c, true)) == NULL) {
		http_reply_internal(c);
		return;
	}
	if (raw_envelope(c, k) == -1)
		return;
	if (http_commit_received(c, k) == -1 ||
	    http_mime_crlf(&k->msg, (const char *)c->body, c->body_len) == -1) {
		http_reply_internal(c);
		return;
	}
	http_commit_start(c);
}
