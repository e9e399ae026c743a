/*
 * smtp_auth - SMTP AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN, only
 * under TLS: the exchange, the checks against the policy replica's
 * credentials (scrypt on submit_work's threads), and the per-client-IP count of
 * failures in ph-ratelimiter ("authfail:<ip>", shared by every ph-smtpd)
 * that also counts refused senders (smtp_authz).
 */
#ifndef SMTP_AUTH_H
#define SMTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct smtp_session;

#define SMTP_AUTH_FIELD_MAX 512

enum smtp_auth_error {
	AUTH_OK,
	AUTH_ERR_BASE64,	/* 501 Invalid command argument, not a valid Base64 string */
	AUTH_ERR_NO_NUL,	/* 501 Invalid command argument, does not contain NUL */
	AUTH_ERR_NO_NUL2,	/* 501 Invalid command argument, does not contain the second NUL */
	AUTH_ERR_TOO_LONG	/* a field longer than SMTP_AUTH_FIELD_MAX: credentials invalid */
};

/* smtp_auth_plain - a decoded PLAIN response: authzid NUL authcid NUL passwd */
struct smtp_auth_plain {
	char authzid[SMTP_AUTH_FIELD_MAX];
	char user[SMTP_AUTH_FIELD_MAX];
	char pass[SMTP_AUTH_FIELD_MAX];
};

/* smtp_auth_b64_decode - strict base64 (RFC 4648, padding required) of the
 * LEN chars at IN into OUT (at most OUTMAX bytes); -1 when not base64 or too long */
int smtp_auth_b64_decode(const char *in, size_t len, unsigned char *out,
    size_t outmax, size_t *outlen);
/* smtp_auth_plain_decode - the base64 PLAIN response B64 into OUT */
enum smtp_auth_error smtp_auth_plain_decode(const char *b64, struct smtp_auth_plain *out);

/* smtp_auth_command - "AUTH <mechanism> [initial-response]" (ARG after the verb) */
void smtp_auth_command(struct smtp_session *s, const char *arg);
/* smtp_auth_line - a client line while an AUTH exchange waits for one
 * (LEN SIZE_MAX: an overlong line) */
void smtp_auth_line(struct smtp_session *s, const char *line, size_t len);
/* smtp_auth_cancel - the session goes away: forget the exchange */
void smtp_auth_cancel(struct smtp_session *s);

/* smtp_authfail_record - count one failure of S's client IP, then call
 * DONE(S, over) with OVER true when the client has now had too many
 * (the caller answers 421 Too many auth failures, try again later). The
 * session is paused until DONE; a ratelimiter that does not answer counts as
 * not over. */
void smtp_authfail_record(struct smtp_session *s,
    void (*done)(struct smtp_session *s, bool over));

#endif
