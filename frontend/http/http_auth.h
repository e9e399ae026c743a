/*
 * http_auth - OCI request signing (HTTP Signature, draft-cavage, as the OCI
 * SDKs produce it):
 *
 *   Authorization: Signature version="1",keyId="<tenancy>/<user>/<fingerprint>",
 *     algorithm="rsa-sha256",headers="date (request-target) host
 *     [content-length content-type x-content-sha256]",signature="<base64>"
 *
 * The signing string is one "name: value" line per listed header, joined by
 * "\n", where "(request-target)" is "<lowercase method> <path?query>". The
 * signed set must include (request-target), host and date (or x-date); a
 * request with a body must also sign content-length and x-content-sha256
 * (unless the operation takes a binary body, which the SDKs do not hash), and
 * x-content-sha256 must be the base64 SHA-256 of the body. The date must be
 * within the allowed skew of our clock.
 */
#ifndef HTTP_AUTH_H
#define HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct policy;
struct http_principal;

/* http_sig_input - what the verifier needs from a request */
struct http_sig_input {
	const char *method;		/* "POST" */
	const char *target;		/* "/20220926/actions/submitEmail?x=y" */
	const char *(*header)(void *arg, const char *name);	/* NULL if absent */
	void *arg;
	const unsigned char *body;
	size_t body_len;
	bool sign_body;			/* the operation's body must be signed */
	uint64_t now_ms;
	uint64_t skew_ms;
};

/* http_auth_verify - 0 with WHO filled, or -1 with *WHY (a static string
 * for the log; the client only ever sees NotAuthenticated) */
int http_auth_verify(const struct policy *p, const struct http_sig_input *in,
    struct http_principal *who, const char **why);

#endif
