/*
 * http_mime - build the message of a JSON submission (see http_mime.h).
 *
 * DIAGNOSTICS: none; -1 means out of memory.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <event2/buffer.h>
#include <openssl/evp.h>

#include "http_email.h"
#include "http_mime.h"

#define MIME_WORD_IN 45		/* input bytes per encoded-word (60 base64 chars) */
#define MIME_PLAIN_MAX 900	/* longer text is encoded (and so folded) */
#define MIME_LINE_MAX 998

/* mime_plain - printable ASCII only, short enough for one line */
static bool mime_plain(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return n <= MIME_PLAIN_MAX;
}

/* mime_words - S as UTF-8 B encoded-words folded onto continuation lines;
 * chunks never split a UTF-8 sequence */
static int mime_words(struct evbuffer *out, const char *s)
{
	size_t n = strlen(s), i = 0;
	unsigned char b64[2 * MIME_WORD_IN];

	while (i < n) {
		size_t take = n - i > MIME_WORD_IN ? MIME_WORD_IN : n - i;
		while (take > 1 && i + take < n && ((unsigned char)s[i + take] & 0xc0) == 0x80)
			take--;
		EVP_EncodeBlock(b64, (const unsigned char *)s + i, (int)take);
		if (evbuffer_add_printf(out, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", b64) < 0)
			return -1;
		i += take;
	}
	return 0;
}

/* mime_text - unstructured text: as is when plain, else encoded-words */
static int mime_text(struct evbuffer *out, const char *s)
{
	if (mime_plain(s))
		return evbuffer_add(out, s, strlen(s));
	return mime_words(out, s);
}

/* mime_phrase - a display name: quoted-string when plain, else encoded */
static int mime_phrase(struct evbuffer *out, const char *s)
{
	if (!mime_plain(s))
		return mime_words(out, s);
	if (evbuffer_add(out, "\"", 1) < 0)
		return -1;
	for (; *s; s++)
		if ((*s == '"' || *s == '\\') && evbuffer_add(out, "\\", 1) < 0)
			return -1;
		else if (evbuffer_add(out, s, 1) < 0)
			return -1;
	return evbuffer_add(out, "\"", 1);
}

/* mime_addr - [phrase] <email> */
static int mime_addr(struct evbuffer *out, const struct http_addr *a)
{
	if (a->name != NULL && a->name[0] != '\0') {
		if (mime_phrase(out, a->name) < 0 || evbuffer_add(out, " ", 1) < 0)
			return -1;
	}
	return evbuffer_add_printf(out, "<%s>", a->email) < 0 ? -1 : 0;
}

/* mime_addr_field - "Name: a,\r\n b\r\n" (nothing when N is 0) */
static int mime_addr_field(struct evbuffer *out, const char *name,
    const struct http_addr *a, size_t n)
{
	if (n == 0)
		return 0;
	if (evbuffer_add_printf(out, "%s: ", name) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((i && evbuffer_add(out, ",\r\n ", 4) < 0) || mime_addr(out, &a[i]) < 0)
			return -1;
	return evbuffer_add(out, "\r\n", 2);
}

/* http_mime_date - "Tue, 01 Jul 2025 10:00:00 +0000" */
void http_mime_date(uint64_t ms, char *buf, size_t len)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* http_mime_crlf - normalize CR, LF and CRLF to CRLF */
int http_mime_crlf(struct evbuffer *out, const char *text, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] != '\r' && text[i] != '\n')
			continue;
		if (evbuffer_add(out, text + start, i - start) < 0 || evbuffer_add(out, "\r\n", 2) < 0)
			return -1;
		if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	return evbuffer_add(out, text + start, len - start);
}

/* mime_7bit - ASCII without NUL and every line within the limit */
static bool mime_7bit(const char *s)
{
	size_t line = 0;

	for (; *s; s++) {
		if ((unsigned char)*s > 0x7e)
			return false;
		line = (*s == '\n' || *s == '\r') ? 0 : line + 1;
		if (line > MIME_LINE_MAX)
			return false;
	}
	return true;
}

/* mime_base64 - S in 76-column base64 lines */
static int mime_base64(struct evbuffer *out, const char *s)
{
	size_t n = strlen(s);
	unsigned char line[80];

	for (size_t i = 0; i < n; i += 57) {
		EVP_EncodeBlock(line, (const unsigned char *)s + i, (int)(n - i > 57 ? 57 : n - i));
		if (evbuffer_add_printf(out, "%s\r\n", line) < 0)
			return -1;
	}
	return 0;
}

/* mime_part - Content-Type/CTE header lines, blank line, body */
static int mime_part(struct evbuffer *out, const char *type, const char *text)
{
	bool plain = mime_7bit(text);

	if (evbuffer_add_printf(out, "Content-Type: %s; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: %s\r\n\r\n", type, plain ? "7bit" : "base64") < 0)
		return -1;
	if (!plain)
		return mime_base64(out, text);
	if (http_mime_crlf(out, text, strlen(text)) < 0)
		return -1;
	return evbuffer_add(out, "\r\n", 2);
}

/* mime_body - one part, or multipart/alternative with text then html */
static int mime_body(struct evbuffer *out, const struct http_email *m, const char *id)
{
	const char *text = m->body_text && *m->body_text ? m->body_text : NULL;
	const char *html = m->body_html && *m->body_html ? m->body_html : NULL;

	if (text == NULL || html == NULL)
		return mime_part(out, text ? "text/plain" : "text/html", text ? text : html);
	if (evbuffer_add_printf(out, "Content-Type: multipart/alternative; "
	    "boundary=\"=_ph_%s\"\r\n\r\n--=_ph_%s\r\n", id, id) < 0 ||
	    mime_part(out, "text/plain", text) < 0 ||
	    evbuffer_add_printf(out, "--=_ph_%s\r\n", id) < 0 ||
	    mime_part(out, "text/html", html) < 0)
		return -1;
	return evbuffer_add_printf(out, "--=_ph_%s--\r\n", id) < 0 ? -1 : 0;
}

/* mime_custom - headerFields (keys were validated: ASCII field names) */
static int mime_custom(struct evbuffer *out, const struct http_email *m)
{
	for (size_t i = 0; i < m->nhdr; i++)
		if (evbuffer_add_printf(out, "%s: ", m->hkey[i]) < 0 ||
		    mime_text(out, m->hval[i]) < 0 || evbuffer_add(out, "\r\n", 2) < 0)
			return -1;
	return 0;
}

/* http_mime_build - header fields, then the body */
int http_mime_build(const struct http_email *m, const struct http_mime_ctx *ctx,
    struct evbuffer *out)
{
	char date[64];

	http_mime_date(ctx->now_ms, date, sizeof(date));
	if (evbuffer_add_printf(out, "Received: from [%s]\r\n\tby %s (posthaste) with HTTPS id %.16s;"
	    "\r\n\t%s\r\nDate: %s\r\n", ctx->client_ip, ctx->hostname, ctx->id, date, date) < 0 ||
	    mime_addr_field(out, "From", &m->sender, 1) < 0 ||
	    mime_addr_field(out, "To", m->rcpt, m->nto) < 0 ||
	    mime_addr_field(out, "Cc", m->rcpt + m->nto, m->ncc) < 0 ||
	    mime_addr_field(out, "Reply-To", m->reply_to, m->nreply) < 0 ||
	    evbuffer_add(out, "Subject: ", 9) < 0 || mime_text(out, m->subject) < 0 ||
	    evbuffer_add_printf(out, "\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n",
	    ctx->message_id) < 0 || mime_custom(out, m) < 0)
		return -1;
	return mime_body(out, m, ctx->id);
}
