/*
 * http_mime - build the message of a JSON submission (see http_mime.h).
 *
 * DIAGNOSTICS: none; -1 means out of memory.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>

#include "clock.h"
#include "http_email.h"
#include "http_mime.h"
#include "submit_buf.h"

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
static int mime_words(struct submit_buf *out, const char *s)
{
	size_t n = strlen(s), i = 0;
	unsigned char b64[2 * MIME_WORD_IN];

	while (i < n) {
		size_t take = n - i > MIME_WORD_IN ? MIME_WORD_IN : n - i;
		while (take > 1 && i + take < n && ((unsigned char)s[i + take] & 0xc0) == 0x80)
			take--;
		EVP_EncodeBlock(b64, (const unsigned char *)s + i, (int)take);
		if (submit_buf_printf(out, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", b64) < 0)
			return -1;
		i += take;
	}
	return 0;
}

/* mime_text - unstructured text: as is when plain, else encoded-words */
static int mime_text(struct submit_buf *out, const char *s)
{
	if (mime_plain(s))
		return submit_buf_append(out, s, strlen(s));
	return mime_words(out, s);
}

/* mime_phrase - a display name: quoted-string when plain, else encoded */
static int mime_phrase(struct submit_buf *out, const char *s)
{
	if (!mime_plain(s))
		return mime_words(out, s);
	if (submit_buf_append(out, "\"", 1) < 0)
		return -1;
	for (; *s; s++)
		if ((*s == '"' || *s == '\\') && submit_buf_append(out, "\\", 1) < 0)
			return -1;
		else if (submit_buf_append(out, s, 1) < 0)
			return -1;
	return submit_buf_append(out, "\"", 1);
}

/* mime_addr - [phrase] <email> */
static int mime_addr(struct submit_buf *out, const struct http_addr *a)
{
	if (a->name != NULL && a->name[0] != '\0') {
		if (mime_phrase(out, a->name) < 0 || submit_buf_append(out, " ", 1) < 0)
			return -1;
	}
	return submit_buf_printf(out, "<%s>", a->email) < 0 ? -1 : 0;
}

/* mime_addr_field - "Name: a,\r\n b\r\n" (nothing when N is 0) */
static int mime_addr_field(struct submit_buf *out, const char *name,
    const struct http_addr *a, size_t n)
{
	if (n == 0)
		return 0;
	if (submit_buf_printf(out, "%s: ", name) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((i && submit_buf_append(out, ",\r\n ", 4) < 0) || mime_addr(out, &a[i]) < 0)
			return -1;
	return submit_buf_append(out, "\r\n", 2);
}

/* http_mime_crlf - normalize CR, LF and CRLF to CRLF */
int http_mime_crlf(struct submit_buf *out, const char *text, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] != '\r' && text[i] != '\n')
			continue;
		if (submit_buf_append(out, text + start, i - start) < 0 ||
		    submit_buf_append(out, "\r\n", 2) < 0)
			return -1;
		if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	return submit_buf_append(out, text + start, len - start);
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
static int mime_base64(struct submit_buf *out, const char *s)
{
	size_t n = strlen(s);
	unsigned char line[80];

	for (size_t i = 0; i < n; i += 57) {
		EVP_EncodeBlock(line, (const unsigned char *)s + i, (int)(n - i > 57 ? 57 : n - i));
		if (submit_buf_printf(out, "%s\r\n", line) < 0)
			return -1;
	}
	return 0;
}

/* mime_part - Content-Type/CTE header lines, blank line, body */
static int mime_part(struct submit_buf *out, const char *type, const char *text)
{
	bool plain = mime_7bit(text);

	if (submit_buf_printf(out, "Content-Type: %s; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: %s\r\n\r\n", type, plain ? "7bit" : "base64") < 0)
		return -1;
	if (!plain)
		return mime_base64(out, text);
	if (http_mime_crlf(out, text, strlen(text)) < 0)
		return -1;
	return submit_buf_append(out, "\r\n", 2);
}

/* mime_body - one part, or multipart/alternative with text then html */
static int mime_body(struct submit_buf *out, const struct http_email *m, const char *id)
{
	const char *text = m->body_text && *m->body_text ? m->body_text : NULL;
	const char *html = m->body_html && *m->body_html ? m->body_html : NULL;

	if (text == NULL || html == NULL)
		return mime_part(out, text ? "text/plain" : "text/html", text ? text : html);
	if (submit_buf_printf(out, "Content-Type: multipart/alternative; "
	    "boundary=\"=_ph_%s\"\r\n\r\n--=_ph_%s\r\n", id, id) < 0 ||
	    mime_part(out, "text/plain", text) < 0 ||
	    submit_buf_printf(out, "--=_ph_%s\r\n", id) < 0 ||
	    mime_part(out, "text/html", html) < 0)
		return -1;
	return submit_buf_printf(out, "--=_ph_%s--\r\n", id) < 0 ? -1 : 0;
}

/* mime_custom - headerFields (keys were validated: ASCII field names) */
static int mime_custom(struct submit_buf *out, const struct http_email *m)
{
	for (size_t i = 0; i < m->nhdr; i++)
		if (submit_buf_printf(out, "%s: ", m->hkey[i]) < 0 ||
		    mime_text(out, m->hval[i]) < 0 || submit_buf_append(out, "\r\n", 2) < 0)
			return -1;
	return 0;
}

/* mime_message_id - "Message-ID: <id>" for the request's messageId (given
 * with or without angle brackets); none without one */
static int mime_message_id(struct submit_buf *out, const char *id)
{
	size_t n;

	if (id == NULL)
		return 0;
	n = strlen(id);
	if (n >= 2 && id[0] == '<' && id[n - 1] == '>')
		id++, n -= 2;
	return submit_buf_printf(out, "Message-ID: <%.*s>\r\n", (int)n, id);
}

/* http_mime_build - header fields, then the body */
int http_mime_build(const struct http_email *m, const struct http_mime_ctx *ctx,
    struct submit_buf *out)
{
	char date[64];

	clock_date(ctx->now_ms, date, sizeof(date));
	if (submit_buf_printf(out, "Date: %s\r\n", date) < 0 ||
	    mime_addr_field(out, "From", &m->sender, 1) < 0 ||
	    mime_addr_field(out, "To", m->rcpt, m->nto) < 0 ||
	    mime_addr_field(out, "Cc", m->rcpt + m->nto, m->ncc) < 0 ||
	    mime_addr_field(out, "Reply-To", m->reply_to, m->nreply) < 0 ||
	    submit_buf_append(out, "Subject: ", 9) < 0 || mime_text(out, m->subject) < 0 ||
	    submit_buf_append(out, "\r\n", 2) < 0 || mime_message_id(out, m->message_id) < 0 ||
	    submit_buf_append(out, "MIME-Version: 1.0\r\n", 19) < 0 || mime_custom(out, m) < 0)
		return -1;
	return mime_body(out, m, ctx->id);
}
