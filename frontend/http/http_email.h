/*
 * http_email - decoding and validating a SubmitEmailDetails JSON body
 * (research notes 1.2) into borrowed pointers into the parsed document.
 * No network, no policy: pure input checks, so it is also the fuzz target.
 *
 * Refusals carry the documented status, code and message: 400
 * CannotParseRequest (not JSON, not an object, wrong types, invalid UTF-8,
 * duplicate keys, too deep), 400 MissingParameter (5 messages), 400
 * InvalidParameter (7 messages).
 */
#ifndef HTTP_EMAIL_H
#define HTTP_EMAIL_H

#include <stddef.h>

struct json_t;

#define HTTP_EMAIL_MAX_RCPTS 50

/* http_err - a refusal */
struct http_err {
	int status;
	const char *code;
	char message[600];
};

struct http_addr {
	const char *email;
	const char *name;	/* NULL when absent */
};

struct http_email {
	struct json_t *root;
	const char *message_id;		/* NULL = generate */
	struct http_addr sender;
	const char *compartment_id;
	struct http_addr rcpt[HTTP_EMAIL_MAX_RCPTS];	/* to, then cc, then bcc */
	size_t nto, ncc, nbcc;
	struct http_addr reply_to[HTTP_EMAIL_MAX_RCPTS];
	size_t nreply;
	const char *subject, *body_text, *body_html;
	const char *hkey[64], *hval[64];
	size_t nhdr;
};

/* http_email_decode - 0, or -1 with ERR filled; M must be cleared either way */
int http_email_decode(const char *body, size_t len, struct http_email *m,
    struct http_err *err);
void http_email_clear(struct http_email *m);
/* http_email_nrcpt - to + cc + bcc */
size_t http_email_nrcpt(const struct http_email *m);

/* http_address_ok - ASCII-only, valid RFC 5321 mailbox */
int http_address_ok(const char *email);
/* http_msgid_ok - an RFC 5322 msg-id, with or without angle brackets */
int http_msgid_ok(const char *id);
/* http_header_reserved - NAME may not be set through headerFields */
int http_header_reserved(const char *name);

#endif
