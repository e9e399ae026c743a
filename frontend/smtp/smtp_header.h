/*
 * smtp_header - incremental RFC 5322 header scan over the lines of a message
 * as they arrive in DATA: checks that the message starts with a header block
 * of "Name: value" fields that ends (empty line or end of message) within
 * SMTP_HEADER_MAX bytes, and keeps the unfolded From, Subject and Message-ID.
 */
#ifndef SMTP_HEADER_H
#define SMTP_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_HEADER_MAX (256 * 1024)
#define SMTP_HEADER_VALUE_MAX 1024

enum smtp_header_state {
	HDR_START,	/* nothing seen yet */
	HDR_FIELDS,	/* inside the header block */
	HDR_BODY,	/* header block ended; lines are body */
	HDR_ERROR	/* not a valid header block (see error) */
};

enum smtp_header_field { HF_OTHER, HF_FROM, HF_SUBJECT, HF_MESSAGE_ID, HF_COUNT };

struct smtp_header_value {
	char text[SMTP_HEADER_VALUE_MAX];
	size_t len;
	bool seen;
};

struct smtp_header {
	enum smtp_header_state state;
	const char *error;		/* why HDR_ERROR, for logs */
	size_t bytes;			/* header bytes so far, line ends included */
	enum smtp_header_field cur;	/* field the last line belonged to */
	struct smtp_header_value field[HF_COUNT];
};

void smtp_header_init(struct smtp_header *h);
/* smtp_header_line - one line without its line end */
void smtp_header_line(struct smtp_header *h, const char *line, size_t len);
/* smtp_header_too_long - a line too long to be a header line arrived */
void smtp_header_too_long(struct smtp_header *h);
/* smtp_header_finish - end of message; 0 when the header is valid and has a
 * From field, -1 otherwise (h->error says why). Values are trimmed. */
int smtp_header_finish(struct smtp_header *h);
/* smtp_header_get - the unfolded, trimmed value, "" when absent (after finish) */
const char *smtp_header_get(const struct smtp_header *h, enum smtp_header_field f);

#endif
