/*
 * submit_header - the one scan of a message's RFC 5322 header block, for
 * every channel (SMTP DATA, HTTPS submitEmail's built message, HTTPS
 * submitRawEmail): checks that the message starts with a header block of
 * "Name: value" fields that ends (empty line or end of message) within
 * SUBMIT_HEADER_MAX bytes and has a From field, and keeps the unfolded,
 * trimmed From, Subject and Message-ID (the first of each).
 */
#ifndef SUBMIT_HEADER_H
#define SUBMIT_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#define SUBMIT_HEADER_MAX (256 * 1024)	/* header block, line ends included */
#define SUBMIT_HEADER_LINE_MAX (64 * 1024)	/* one header line */
#define SUBMIT_HEADER_VALUE_MAX 1024	/* a kept value; longer ones are cut */

enum submit_header_state {
	HDR_START,	/* nothing seen yet */
	HDR_FIELDS,	/* inside the header block */
	HDR_BODY,	/* header block ended; lines are body */
	HDR_ERROR	/* not a valid header block (see error) */
};

enum submit_header_field { HF_OTHER, HF_FROM, HF_SUBJECT, HF_MESSAGE_ID, HF_COUNT };

struct submit_header_value {
	char text[SUBMIT_HEADER_VALUE_MAX];
	size_t len;
	bool seen;
};

struct submit_header {
	enum submit_header_state state;
	const char *error;		/* why HDR_ERROR, for logs */
	size_t bytes;			/* header bytes so far, line ends included */
	enum submit_header_field cur;	/* field the last line belonged to */
	struct submit_header_value field[HF_COUNT];
};

/* submit_header_scan - scan the LEN bytes of MSG (lines end in LF, a CR
 * before it is dropped). 0 when the header is valid and has a From field,
 * -1 otherwise (h->error says why). */
int submit_header_scan(struct submit_header *h, const char *msg, size_t len);
/* submit_header_get - the unfolded, trimmed value of F, "" when absent
 * (after submit_header_scan) */
const char *submit_header_get(const struct submit_header *h, enum submit_header_field f);
/* submit_header_msgid - the Message-ID without angle brackets (the msg-id
 * between the first '<' and the next '>', else the value) into OUT; "" when
 * absent */
void submit_header_msgid(const struct submit_header *h, char *out, size_t len);

#endif
