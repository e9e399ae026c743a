/*
 * submit_header - RFC 5322 header scan (see submit_header.h).
 *
 * Accepted: "Name: value" lines whose name is printable ASCII without ':'
 * (blanks before the colon tolerated, RFC 5322 obs-syntax), continuation
 * lines starting with a blank, and an empty line or the end of the message as
 * the end of the header. Refused (the pipeline's parse error: SMTP "554
 * Message parse error"): a message that does not start with a field, a line
 * without a colon, a header line of SUBMIT_HEADER_LINE_MAX bytes or more, no
 * header end within SUBMIT_HEADER_MAX bytes, and no From field.
 *
 * The scan is line by line and stops at the end of the header block, so a
 * message costs its header, not its size.
 *
 * DIAGNOSTICS: none; the verdict is in the state.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "submit_header.h"

/* submit_header_init - ready for the first line */
static void
submit_header_init(struct submit_header *h)
{
	int i;

	h->state = HDR_START;
	h->error = NULL;
	h->bytes = 0;
	h->cur = HF_OTHER;
	for (i = 0; i < HF_COUNT; i++) {
		h->field[i].len = 0;
		h->field[i].seen = false;
		h->field[i].text[0] = '\0';
	}
}

/* submit_header_fail - enter HDR_ERROR with REASON */
static void
submit_header_fail(struct submit_header *h, const char *reason)
{
	h->state = HDR_ERROR;
	h->error = reason;
}

/* submit_header_kind - which field NAME (LEN chars) is */
static enum submit_header_field
submit_header_kind(const char *name, size_t len)
{
	if (len == 4 && strncasecmp(name, "From", 4) == 0)
		return HF_FROM;
	if (len == 7 && strncasecmp(name, "Subject", 7) == 0)
		return HF_SUBJECT;
	if (len == 10 && strncasecmp(name, "Message-ID", 10) == 0)
		return HF_MESSAGE_ID;
	return HF_OTHER;
}

/* submit_header_append - add LEN chars to the value of the current field */
static void
submit_header_append(struct submit_header *h, const char *s, size_t len)
{
	struct submit_header_value *v = &h->field[h->cur];
	size_t room = sizeof(v->text) - 1 - v->len;

	if (h->cur == HF_OTHER)
		return;
	if (len > room)
		len = room;
	memcpy(v->text + v->len, s, len);
	v->len += len;
	v->text[v->len] = '\0';
}

/* submit_header_field_start - a "Name: value" line */
static void
submit_header_field_start(struct submit_header *h, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	size_t i, nlen;

	if (colon == NULL) {
		submit_header_fail(h, "header line without colon");
		return;
	}
	for (nlen = (size_t)(colon - line); nlen > 0 &&
	    (line[nlen - 1] == ' ' || line[nlen - 1] == '\t'); nlen--)
		;
	for (i = 0; i < nlen; i++)
		if ((unsigned char)line[i] < 33 || (unsigned char)line[i] > 126)
			break;
	if (nlen == 0 || i < nlen) {
		submit_header_fail(h, "bad header field name");
		return;
	}
	h->cur = submit_header_kind(line, nlen);
	if (h->cur != HF_OTHER && h->field[h->cur].seen)
		h->cur = HF_OTHER;	/* keep the first occurrence */
	if (h->cur != HF_OTHER)
		h->field[h->cur].seen = true;
	submit_header_append(h, colon + 1, len - (size_t)(colon + 1 - line));
}

/* submit_header_line - feed one line (no line end) */
static void
submit_header_line(struct submit_header *h, const char *line, size_t len)
{
	if (h->state == HDR_BODY || h->state == HDR_ERROR)
		return;
	h->bytes += len + 2;
	if (len == 0) {
		if (h->state == HDR_START)
			submit_header_fail(h, "no header block");
		else
			h->state = HDR_BODY;
		return;
	}
	if (h->bytes > SUBMIT_HEADER_MAX) {
		submit_header_fail(h, "header block too large");
		return;
	}
	if (line[0] == ' ' || line[0] == '\t') {
		if (h->state == HDR_START)
			submit_header_fail(h, "continuation line first");
		else
			submit_header_append(h, line, len);
		return;
	}
	h->state = HDR_FIELDS;
	submit_header_field_start(h, line, len);
}


/* submit_header_trim - strip blanks at both ends of V */
static void
submit_header_trim(struct submit_header_value *v)
{
	size_t start = 0;

	while (v->len > 0 && (v->text[v->len - 1] == ' ' || v->text[v->len - 1] == '\t'))
		v->len--;
	while (start < v->len && (v->text[start] == ' ' || v->text[start] == '\t'))
		start++;
	memmove(v->text, v->text + start, v->len - start);
	v->len -= start;
	v->text[v->len] = '\0';
}

/* submit_header_finish - verdict at the end of the message */
static int
submit_header_finish(struct submit_header *h)
{
	int i;

	if (h->state == HDR_START)
		submit_header_fail(h, "empty message");
	if (h->state == HDR_ERROR)
		return -1;
	for (i = 0; i < HF_COUNT; i++)
		submit_header_trim(&h->field[i]);
	h->state = HDR_BODY;
	if (!h->field[HF_FROM].seen) {
		submit_header_fail(h, "no From field");
		return -1;
	}
	return 0;
}

/* submit_header_get - value of F, "" when absent */
const char *
submit_header_get(const struct submit_header *h, enum submit_header_field f)
{
	return h->field[f].text;
}

/* submit_header_scan - every header line of MSG, then the verdict */
int
submit_header_scan(struct submit_header *h, const char *msg, size_t len)
{
	const char *p = msg, *end = msg + len, *nl;
	size_t n;

	submit_header_init(h);
	while (p < end && (h->state == HDR_START || h->state == HDR_FIELDS)) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		if (n >= SUBMIT_HEADER_LINE_MAX) {
			submit_header_fail(h, "header line too long");
			break;
		}
		submit_header_line(h, p, n > 0 && nl && p[n - 1] == '\r' ? n - 1 : n);
		p = nl ? nl + 1 : end;
	}
	return submit_header_finish(h);
}

/* submit_header_msgid - the msg-id inside <...>, else the whole value */
void
submit_header_msgid(const struct submit_header *h, char *out, size_t len)
{
	const char *v = h->field[HF_MESSAGE_ID].text;
	const char *lt = strchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (lt != NULL && gt != NULL)
		snprintf(out, len, "%.*s", (int)(gt - lt - 1), lt + 1);
	else
		snprintf(out, len, "%s", v);
}
