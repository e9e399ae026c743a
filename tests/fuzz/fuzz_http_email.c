/*
 * fuzz_http_email - libFuzzer target for ph-httpd's request decoding: the
 * SubmitEmailDetails JSON decoder and validator (http_email_decode) and, for
 * every input it accepts, the RFC 5322 message built from it
 * (http_mime_build), which must never contain a bare CR or LF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_email.h"
#include "http_mime.h"
#include "submit_buf.h"

/* check_crlf - every CR is followed by LF and every LF preceded by CR */
static void check_crlf(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			abort();
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_email m;
	struct http_err err;
	struct http_mime_ctx ctx = { "0123456789abcdef0123456789abcdef", 0 };
	struct submit_buf out = { 0 };

	if (http_email_decode((const char *)data, size, &m, &err) == 0) {
		if (http_mime_build(&m, &ctx, &out) == 0)
			check_crlf((const unsigned char *)out.p, out.len);
		submit_buf_free(&out);
	} else if (err.status != 400 || err.code == NULL) {
		abort();
	}
	http_email_clear(&m);
	return 0;
}
