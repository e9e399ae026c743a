/*
 * http_mime - the RFC 5322 message built from a SubmitEmailDetails: header
 * fields with CRLF line ends, display names and unstructured text (subject,
 * custom header values) as RFC 2047 encoded-words whenever they hold anything
 * but printable ASCII (so a CR or LF in any field can never end a header line:
 * injection is impossible by construction), a text/plain or text/html body or
 * multipart/alternative with both, 7bit when possible, base64 otherwise.
 * It follows the Received: line the submission pipeline's submit_received
 * wrote; a message without messageId gets its Message-ID from the pipeline.
 */
#ifndef HTTP_MIME_H
#define HTTP_MIME_H

#include <stddef.h>
#include <stdint.h>

struct http_email;
struct submit_buf;

struct http_mime_ctx {
	const char *id;			/* submission id, for the boundary */
	uint64_t now_ms;		/* Date: */
};

/* http_mime_build - append the message to OUT. 0 or -1 (out of memory) */
int http_mime_build(const struct http_email *m, const struct http_mime_ctx *ctx,
    struct submit_buf *out);
/* http_mime_crlf - append TEXT[0..len) to OUT with every line end as CRLF */
int http_mime_crlf(struct submit_buf *out, const char *text, size_t len);

#endif
