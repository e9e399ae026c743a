/*
 * smtp_header - incremental RFC 5322 header scan (see smtp_header.h).
 *
 * Accepted: "Name: value" lines whose name is printable ASCII without ':'
 * (blanks before the colon tolerated, RFC 5322 obs-syntax), continuation
 * lines starting with a blank, and an empty line or the end of the message as
 * the end of the header. Refused ("554 Message parse error" upstream): a
 * message that does not start with a field, a line without a colon, no
 * header end within SMTP_HEADER_MAX bytes, and no From field.
 *
 * DIAGNOSTICS: none; the verdict is in the state.
 */
#include <string.h>
#include <strings.h>

#include "smtp_header.h"

/* smtp_header_init - ready for the first line */
void
smtp_header_init(struct smtp_header *h)
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

/* smtp_header_fail - enter HDR_ERROR with REASON */
static void
smtp_header_fail(struct smtp_header *h, const char *reason)
{
	h->state = HDR_ERROR;
	h->error = reason;
}

/* smtp_header_kind - which field NAME (LEN chars) is */
static enum smtp_header_field
smtp_header_kind(const char *name, size_t len)
{
	if (len == 4 && strncasecmp(name, "From", 4) == 0)
		return HF_FROM;
	if (len == 7 && strncasecmp(name, "Subject", 7) == 0)
		return HF_SUBJECT;
	if (len == 10 && strncasecmp(name, "Message-ID", 10) == 0)
		return HF_MESSAGE_ID;
	return HF_OTHER;
}

/* smtp_header_append - add LEN chars to the value of the current field */
static void
smtp_header_append(struct smtp_header *h, const char *s, size_t len)
{
	struct smtp_header_value *v = &h->field[h->cur];
	size_t room = sizeof(v->text) - 1 - v->len;

	if (h->cur == HF_OTHER)
		return;
	if (len > room)
		len = room;
	memcpy(v->text + v->len, s, len);
	v->len += len;
	v->text[v->len] = '\0';
}

/* smtp_header_field_start - a "Name: value" line */
static void
smtp_header_field_start(struct smtp_header *h, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	size_t i, nlen;

	if (colon == NULL) {
		smtp_header_fail(h, "header line without colon");
		return;
	}
	for (nlen = (size_t)(colon - line); nlen > 0 &&
	    (line[nlen - 1] == ' ' || line[nlen - 1] == '\t'); nlen--)
		;
	for (i = 0; i < nlen; i++)
		if ((unsigned char)line[i] < 33 || (unsigned char)line[i] > 126)
			break;
	if (nlen == 0 || i < nlen) {
		smtp_header_fail(h, "bad header field name");
		return;
	}
	h->cur = smtp_header_kind(line, nlen);
	if (h->cur != HF_OTHER && h->field[h->cur].seen)
		h->cur = HF_OTHER;	/* keep the first occurrence */
	if (h->cur != HF_OTHER)
		h->field[h->cur].seen = true;
	smtp_header_append(h, colon + 1, len - (size_t)(colon + 1 - line));
}

/* smtp_header_line - feed one line (no line end) */
void
smtp_header_line(struct smtp_header *h, const char *line, size_t len)
{
	if (h->state == HDR_BODY || h->state == HDR_ERROR)
		return;
	h->bytes += len + 2;
	if (len == 0) {
		if (h->state == HDR_START)
			smtp_header_fail(h, "no header block");
		else
			h->state = HDR_BODY;
		return;
	}
	if (h->bytes > SMTP_HEADER_MAX) {
		smtp_header_fail(h, "header block too large");
		return;
	}
	if (line[0] == ' ' || line[0] == '\t') {
		if (h->state == HDR_START)
			smtp_header_fail(h, "continuation line first");
		else
			smtp_header_append(h, line, len);
		return;
	}
	h->state = HDR_FIELDS;
	smtp_header_field_start(h, line, len);
}

/* smtp_header_too_long - a line of SMTP_DATA_CHUNK bytes or more */
void
smtp_header_too_long(struct smtp_header *h)
{
	if (h->state == HDR_START || h->state == HDR_FIELDS)
		smtp_header_fail(h, "header line too long");
}

/* smtp_header_trim - strip blanks at both ends of V */
static void
smtp_header_trim(struct smtp_header_value *v)
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

/* smtp_header_finish - verdict at the end of the message */
int
smtp_header_finish(struct smtp_header *h)
{
	int i;

	if (h->state == HDR_START)
		smtp_header_fail(h, "empty message");
	if (h->state == HDR_ERROR)
		return -1;
	for (i = 0; i < HF_COUNT; i++)
		smtp_header_trim(&h->field[i]);
	h->state = HDR_BODY;
	if (!h->field[HF_FROM].seen) {
		smtp_header_fail(h, "no From field");
		return -1;
	}
	return 0;
}

/* smtp_header_get - value of F, "" when absent */
const char *
smtp_header_get(const struct smtp_header *h, enum smtp_header_field f)
{
	return h->field[f].text;
}
