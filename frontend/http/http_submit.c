/*
 * http_submit - SubmitEmail and SubmitRawEmail request handling: decode and
 * validate the request, build or take the message, then http_commit.
 *
 * SubmitRawEmail: headers compartment-id, sender, recipients (comma
 * separated) name the envelope; the body is the message (line ends made
 * CRLF). The header From's addresses must be approved as well as the sender
 * (as over SMTP); a message without Message-ID gets one.
 *
 * DIAGNOSTICS: none beyond the replies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>
#include <jansson.h>

#include "http_call.h"
#include "http_commit.h"
#include "http_email.h"
#include "http_mime.h"
#include "http_submit.h"
#include "httpd.h"

#define RAW_HEADER_MAX (256 * 1024)

/* submit_commit - a new commit as the call's operation state */
static struct http_commit *submit_commit(struct http_call *c, bool raw)
{
	struct http_commit *k = http_commit_new(raw);

	if (k == NULL)
		return NULL;
	c->op = k;
	c->op_free = http_commit_free;
	return k;
}

/* submit_err - reply with a decoding refusal */
static void submit_err(struct http_call *c, const struct http_err *e)
{
	http_reply_error(c, e->status, e->code, "%s", e->message);
}

/* submit_too_big - a request body far over the byte limit is refused unread */
static int submit_too_big(struct http_call *c, size_t factor)
{
	long long max = c->hd->conf.max_message_size;

	if ((long long)c->body_len <= max * (long long)factor)
		return 0;
	http_reply_error(c, 413, "RequestEntityTooLarge",
	    "Message exceeds byte limit : limit is %lld", max);
	return -1;
}

/* submit_fill - envelope and log fields of a JSON submission */
static int submit_fill(struct http_commit *k, const struct http_email *m)
{
	const char *mid = m->message_id;
	size_t n;

	snprintf(k->compartment_id, sizeof(k->compartment_id), "%s", m->compartment_id);
	snprintf(k->mail_from, sizeof(k->mail_from), "%s", m->sender.email);
	snprintf(k->header_from, sizeof(k->header_from), "%s", m->sender.email);
	snprintf(k->subject, sizeof(k->subject), "%s", m->subject);
	if (mid == NULL) {
		snprintf(k->message_id, sizeof(k->message_id), "%s@posthaste", k->id);
	} else {
		n = strlen(mid);
		if (mid[0] == '<')
			mid++, n -= 2;
		snprintf(k->message_id, sizeof(k->message_id), "%.*s", (int)n, mid);
	}
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
	if ((k = submit_commit(c, false)) == NULL || submit_fill(k, &m) == -1) {
		http_email_clear(&m);
		http_reply_internal(c);
		return;
	}
	k->keep = m.root;	/* recipient names point into it */
	if (http_commit_authorize(c, m.sender.email) == -1)
		return;
	ctx = (struct http_mime_ctx){ c->hd->hostname, c->ip, k->id, k->message_id,
	    k->received_ms };
	if (http_mime_build(&m, &ctx, k->msg) == -1) {
		http_reply_internal(c);
		return;
	}
	http_commit_start(c);
}

/* raw_header - the unfolded value of header NAME in the header section of
 * MSG (CRLF line ends) into OUT; -1 when absent */
static int raw_header(const char *msg, size_t len, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name), o = 0;
	const char *p = msg, *end = msg + len;

	while (p < end && !(p[0] == '\r' && p + 1 < end && p[1] == '\n')) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL)
			eol = end;
		if (o == 0 && (size_t)(eol - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
			const char *v = p + nl + 1;
			do {
				for (; v < eol && o + 1 < cap; v++)
					out[o++] = *v == '\t' ? ' ' : *v;
				p = eol + 2;
				eol = p < end ? memmem(p, (size_t)(end - p), "\r\n", 2) : NULL;
				v = p;
			} while (eol != NULL && p < end && (*p == ' ' || *p == '\t'));
			out[o] = '\0';
			return 0;
		}
		p = eol + 2;
	}
	return -1;
}

/* raw_from_check - addr_list_parse callback: every From address approved */
struct raw_from {
	struct http_call *c;
	int refused;
};

static void raw_from_one(void *arg, const char *mailbox)
{
	struct raw_from *f = arg;

	if (!f->refused && http_commit_authorize(f->c, mailbox) == -1)
		f->refused = 1;
}

/* raw_envelope - compartment-id, sender, recipients headers */
static int raw_envelope(struct http_call *c, struct http_commit *k)
{
	const char *comp = http_header(c, "compartment-id");
	const char *sender = http_header(c, "sender");
	const char *rcpts = http_header(c, "recipients");
	char buf[ADDR_MAX + 1];

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
		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		snprintf(buf, sizeof(buf), "%.*s", (int)n, p);
		for (size_t e = strlen(buf); e > 0 && (buf[e - 1] == ' ' || buf[e - 1] == '\t'); )
			buf[--e] = '\0';
		p += n + (p[n] == ',');
		if (buf[0] == '\0')
			continue;
		if (!http_address_ok(buf))
			return http_reply_error(c, 400, "InvalidParameter",
			    "Invalid Internet Address : %.300s", buf), -1;
		if (k->nrcpt == HTTP_COMMIT_MAX_RCPTS)
			return http_reply_error(c, 400, "InvalidParameter",
			    "maxItems: 50, for recipients across the To:, CC: and BCC: fields."), -1;
		if (http_commit_add_rcpt(k, buf, NULL) == -1)
			return http_reply_internal(c), -1;
	}
	if (k->nrcpt == 0)
		return http_reply_error(c, 400, "MissingParameter",
		    "Required attribute recipients must contain either to , cc or bcc recipients."), -1;
	return 0;
}

/* raw_message - Received:, Message-ID: when missing, then the message */
static int raw_message(struct http_call *c, struct http_commit *k)
{
	struct evbuffer *tmp = evbuffer_new();
	char date[64], *text;
	size_t len;
	int rc = -1;

	if (tmp == NULL || http_mime_crlf(tmp, (const char *)c->body, c->body_len) < 0)
		goto out;
	len = evbuffer_get_length(tmp);
	text = (char *)evbuffer_pullup(tmp, -1);
	http_mime_date(k->received_ms, date, sizeof(date));
	if (evbuffer_add_printf(k->msg, "Received: from [%s]\r\n\tby %s (posthaste) with HTTPS id %.16s;"
	    "\r\n\t%s\r\n", c->ip, c->hd->hostname, k->id, date) < 0)
		goto out;
	if (raw_header(text ? text : "", len, "Message-ID", k->message_id, sizeof(k->message_id)) == -1) {
		snprintf(k->message_id, sizeof(k->message_id), "%s@posthaste", k->id);
		if (evbuffer_add_printf(k->msg, "Message-ID: <%s>\r\n", k->message_id) < 0)
			goto out;
	}
	raw_header(text ? text : "", len, "Subject", k->subject, sizeof(k->subject));
	rc = evbuffer_add_buffer(k->msg, tmp);
out:
	if (tmp != NULL)
		evbuffer_free(tmp);
	return rc;
}

/* raw_authorize - the sender and every address of the header From */
static int raw_authorize(struct http_call *c, struct http_commit *k)
{
	struct raw_from f = { c, 0 };
	char from[2048] = "";
	char *text = (char *)evbuffer_pullup(k->msg, -1);
	size_t len = evbuffer_get_length(k->msg);
	char *b = k->message_id;

	if (b[0] == '<') {
		memmove(b, b + 1, strlen(b));
		b[strcspn(b, ">")] = '\0';
	}
	if (http_commit_authorize(c, k->mail_from) == -1)
		return -1;
	snprintf(k->header_from, sizeof(k->header_from), "%s", k->mail_from);
	if (raw_header(text, len, "From", from, sizeof(from)) == 0) {
		addr_list_parse(from, strlen(from), raw_from_one, &f);
		if (f.refused)
			return -1;
	}
	return 0;
}

/* http_submit_raw - POST /20220926/actions/submitRawEmail */
void http_submit_raw(struct http_call *c)
{
	struct http_commit *k;

	if (submit_too_big(c, 1) == -1)
		return;
	if ((k = submit_commit(c, true)) == NULL) {
		http_reply_internal(c);
		return;
	}
	if (raw_envelope(c, k) == -1)
		return;
	if (raw_message(c, k) == -1) {
		http_reply_internal(c);
		return;
	}
	if (raw_authorize(c, k) == -1)
		return;
	http_commit_start(c);
}
