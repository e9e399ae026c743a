/*
 * smtp_auth - AUTH PLAIN and LOGIN under TLS.
 *
 * Replies (seed table, verbatim, plus RFC 4954's own):
 *   530 5.7.0 Must issue a STARTTLS command first     AUTH before TLS
 *   503 5.5.1 Error: already authenticated
 *   504 AUTH mechanism mismatch     no mechanism, junk syntax, extra arguments
 *   504 Method not supported        CRAM-MD5, XOAUTH2, ... (syntactically valid)
 *   334 (empty) / 334 VXNlcm5hbWU6 / 334 UGFzc3dvcmQ6   continuations
 *   501 5.7.0 Authentication aborted                    "*" from the client
 *   501 Invalid command argument, not a valid Base64 string
 *   501 Invalid command argument, does not contain NUL
 *   501 Invalid command argument, does not contain the second NUL
 *   535 Authentication credentials invalid   unknown user, wrong password,
 *                                            an authzid other than the user
 *   421 Too many auth failures, try again later   (then close)
 *   451 Server error                 the ratelimiter did not answer the pre-check
 *   235 2.7.0 Authentication successful
 *
 * Order of a check: (1) a dry run on "authfail:<ip>" (limit - 1, cost 0:
 * refused once the window already holds [smtpd] auth_fail_limit failures),
 * (2) scrypt on a worker thread (submit_work), against the credential's salt
 * and hash or a dummy pair for an unknown user (same cost, no user
 * enumeration by timing),
 * (3) on failure, one more failure taken on the key; when that one is
 * refused the window is full: 421 instead of 535. Passwords live only in
 * the exchange's buffers and the scrypt job, and are wiped after use.
 *
 * DIAGNOSTICS: "smtp session <id> auth ..." lines at info level (user name,
 * never the password); out of memory answers 451 4.3.0.
 */
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/crypto.h>

#include "crypto.h"
#include "log.h"
#include "policy.h"
#include "rl_client.h"
#include "smtp_auth.h"
#include "smtp_session.h"
#include "smtpd.h"
#include "submit.h"
#include "submit_work.h"

#define AUTH_SALT_MAX 64

enum smtp_auth_step { AUTH_STEP_PLAIN, AUTH_STEP_LOGIN_USER, AUTH_STEP_LOGIN_PASS,
	AUTH_STEP_CHECK };

struct smtp_auth {
	enum smtp_auth_step step;
	bool usable;			/* a credential to check against (not the dummy) */
	struct smtp_auth_plain cred;	/* user and password being checked */
	char key[96];			/* "authfail:<ip>" */
	Ph__RateLimit limit;
	const Ph__RateLimit *limitp;
};

/* auth_check - one scrypt verification, owned by its submit_work job */
struct auth_check {
	struct smtp_session *s;
	char pass[SMTP_AUTH_FIELD_MAX];
	uint8_t salt[AUTH_SALT_MAX], hash[CRYPTO_SCRYPT_LEN];
	size_t saltlen;
	bool ok;
};

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* b64_value - 0..63, or -1 */
static int
b64_value(unsigned char c)
{
	const char *p = c ? strchr(b64chars, c) : NULL;

	return p ? (int)(p - b64chars) : -1;
}

/* smtp_auth_b64_decode - strict: groups of 4, "=" only as final padding */
int
smtp_auth_b64_decode(const char *in, size_t len, unsigned char *out,
    size_t outmax, size_t *outlen)
{
	size_t i, n = 0;
	int v[4], k;

	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		for (k = 0; k < 4; k++)
			v[k] = in[i + k] == '=' ? -2 : b64_value((unsigned char)in[i + k]);
		if (v[0] < 0 || v[1] < 0 || v[2] == -1 || v[3] == -1 ||
		    (v[2] == -2 && v[3] != -2) || ((v[2] == -2 || v[3] == -2) && i + 4 != len))
			return -1;
		if (n + 3 > outmax)
			return -1;
		out[n++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (v[2] >= 0)
			out[n++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (v[3] >= 0)
			out[n++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	*outlen = n;
	return 0;
}

/* auth_field - copy [P, P+LEN) as a C string; -1 when it does not fit */
static int
auth_field(char *dst, const unsigned char *p, size_t len)
{
	if (len >= SMTP_AUTH_FIELD_MAX)
		return -1;
	memcpy(dst, p, len);
	dst[len] = '\0';
	return 0;
}

/* smtp_auth_plain_decode - base64, then authzid NUL authcid NUL passwd */
enum smtp_auth_error
smtp_auth_plain_decode(const char *b64, struct smtp_auth_plain *out)
{
	unsigned char buf[3 * SMTP_AUTH_FIELD_MAX + 3];
	unsigned char *nul1, *nul2;
	enum smtp_auth_error e = AUTH_OK;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (smtp_auth_b64_decode(b64, strlen(b64), buf, sizeof(buf), &n) < 0)
		return AUTH_ERR_BASE64;
	if ((nul1 = memchr(buf, '\0', n)) == NULL)
		e = AUTH_ERR_NO_NUL;
	else if ((nul2 = memchr(nul1 + 1, '\0', n - (size_t)(nul1 + 1 - buf))) == NULL)
		e = AUTH_ERR_NO_NUL2;
	else if (auth_field(out->authzid, buf, (size_t)(nul1 - buf)) < 0 ||
	    auth_field(out->user, nul1 + 1, (size_t)(nul2 - nul1 - 1)) < 0 ||
	    auth_field(out->pass, nul2 + 1, n - (size_t)(nul2 + 1 - buf)) < 0 ||
	    memchr(nul2 + 1, '\0', n - (size_t)(nul2 + 1 - buf)) != NULL)
		e = AUTH_ERR_TOO_LONG;
	OPENSSL_cleanse(buf, sizeof(buf));
	return e;
}

/* smtp_auth_wipe - free an exchange's buffers, password included */
static void
smtp_auth_wipe(struct smtp_auth **ap)
{
	if (*ap == NULL)
		return;
	OPENSSL_cleanse(*ap, sizeof(**ap));
	free(*ap);
	*ap = NULL;
}

/* smtp_auth_end - the exchange is over: back to commands (the caller
 * resumes a paused session once it replied) */
static void
smtp_auth_end(struct smtp_session *s)
{
	smtp_auth_wipe(&s->auth);
}

/* smtp_auth_cancel - session freed */
void
smtp_auth_cancel(struct smtp_session *s)
{
	submit_work_cancel(submit_service_work(s->sd->submit), s);
	if (s->sd->rl)
		rl_client_cancel(s->sd->rl, s);
	smtp_auth_wipe(&s->auth);
	smtp_auth_wipe(&s->authfail);
}

/* smtp_auth_gone - the session closed (timeout, shutdown) while a check
 * was pending: drop the answer; true when so */
static bool
smtp_auth_gone(struct smtp_session *s)
{
	if (!s->closing)
		return false;
	smtp_auth_wipe(&s->auth);
	smtp_auth_wipe(&s->authfail);
	smtp_session_resume(s);		/* frees it once flushed */
	return true;
}

/* smtp_auth_too_many - 421 and close */
static void
smtp_auth_too_many(struct smtp_session *s)
{
	log_info("smtp session %016llx auth: too many failures from %s",
	    (unsigned long long)s->id, s->ip);
	smtp_reply(s, "421 Too many auth failures, try again later");
	smtp_session_close(s);
}

/* smtp_authfail_limit - LIMIT on the key "authfail:<ip>" into A */
static void
smtp_authfail_limit(struct smtp_session *s, struct smtp_auth *a, uint64_t limit)
{
	snprintf(a->key, sizeof(a->key), "authfail:%s", s->ip);
	ph__rate_limit__init(&a->limit);
	a->limit.key = a->key;
	a->limit.limit = limit;
	a->limit.window_s = (uint32_t)(s->sd->conf.auth_fail_window / 1000);
	a->limitp = &a->limit;
}

/* smtp_authfail_on_take - the failure was counted (or not) */
static void
smtp_authfail_on_take(void *arg, const struct rl_result *res)
{
	struct smtp_session *s = arg;
	void (*done)(struct smtp_session *, bool) = s->authfail_done;

	s->authfail_done = NULL;
	if (smtp_auth_gone(s))
		return;
	smtp_auth_wipe(&s->authfail);
	done(s, res->status == RL_DENIED);
}

/* smtp_authfail_record - one failure for S's IP */
void
smtp_authfail_record(struct smtp_session *s, void (*done)(struct smtp_session *, bool))
{
	struct smtp_auth *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		done(s, false);
		return;
	}
	smtp_authfail_limit(s, a, (uint64_t)s->sd->conf.auth_fail_limit);
	s->authfail = a;
	s->authfail_done = done;
	smtp_session_pause(s);
	rl_client_take(s->sd->rl, a->key, &a->limitp, 1, 1, smtp_authfail_on_take, s);
}

/* smtp_auth_failed_done - after counting a wrong password */
static void
smtp_auth_failed_done(struct smtp_session *s, bool over)
{
	if (over)
		smtp_auth_too_many(s);
	else
		smtp_reply(s, "535 Authentication credentials invalid");
	smtp_session_resume(s);
}

/* smtp_auth_success - S is now the credential's user */
static int
smtp_auth_success(struct smtp_session *s, const char *username)
{
	const Ph__Credential *c = policy_credential(s->sd->policy, username);

	if (c == NULL)
		return -1;	/* deleted while we were checking */
	snprintf(s->ident.tenant_id, sizeof(s->ident.tenant_id), "%s", c->tenant_id);
	snprintf(s->ident.user_id, sizeof(s->ident.user_id), "%s", c->user_id);
	s->ident.authed = s->ident.resolved = true;
	log_info("smtp session %016llx auth: %s authenticated as user %s",
	    (unsigned long long)s->id, s->ip, c->user_id);
	smtp_reply(s, "235 2.7.0 Authentication successful");
	return 0;
}

/* smtp_auth_on_verify - the verdict on the password */
static void
smtp_auth_on_verify(struct smtp_session *s, bool ok)
{
	char user[SMTP_AUTH_FIELD_MAX];
	bool usable;

	if (smtp_auth_gone(s))
		return;
	usable = s->auth->usable;
	snprintf(user, sizeof(user), "%s", s->auth->cred.user);
	smtp_auth_end(s);
	if (ok && usable && smtp_auth_success(s, user) == 0) {
		smtp_session_resume(s);
		return;
	}
	log_info("smtp session %016llx auth: %s failed for \"%.64s\"",
	    (unsigned long long)s->id, s->ip, user);
	smtp_authfail_record(s, smtp_auth_failed_done);
}

/* auth_check_run - scrypt, on a worker thread; the password copy is wiped */
static void
auth_check_run(void *arg)
{
	struct auth_check *c = arg;

	c->ok = crypto_scrypt_verify(c->pass, c->salt, c->saltlen, c->hash,
	    sizeof(c->hash)) == 1;
	OPENSSL_cleanse(c->pass, sizeof(c->pass));
}

/* auth_check_done - back on the loop: the verdict, unless the session left */
static void
auth_check_done(void *arg, bool cancelled)
{
	struct auth_check *c = arg;

	if (!cancelled)
		smtp_auth_on_verify(c->s, c->ok);
	OPENSSL_clear_free(c, sizeof(*c));
}

/* auth_check_submit - queue scrypt of the session's password against
 * SALT/HASH (copied); 0, or -1 when out of memory */
static int
auth_check_submit(struct smtp_session *s, const uint8_t *salt, size_t saltlen,
    const uint8_t *hash)
{
	struct auth_check *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	c->s = s;
	memcpy(c->pass, s->auth->cred.pass, sizeof(c->pass));
	c->saltlen = saltlen < AUTH_SALT_MAX ? saltlen : AUTH_SALT_MAX;
	memcpy(c->salt, salt, c->saltlen);
	memcpy(c->hash, hash, sizeof(c->hash));
	if (submit_work_submit(submit_service_work(s->sd->submit), s, auth_check_run,
	    auth_check_done, c) < 0) {
		OPENSSL_clear_free(c, sizeof(*c));
		return -1;
	}
	return 0;
}

/* smtp_auth_verify - start scrypt for the credential (or a dummy) */
static void
smtp_auth_verify(struct smtp_session *s)
{
	static const uint8_t dummy_salt[16], dummy_hash[CRYPTO_SCRYPT_LEN];
	struct smtp_auth *a = s->auth;
	const Ph__Credential *c = policy_credential(s->sd->policy, a->cred.user);
	bool usable = c && c->salt.len > 0 && c->scrypt_hash.len == CRYPTO_SCRYPT_LEN &&
	    (a->cred.authzid[0] == '\0' || strcmp(a->cred.authzid, a->cred.user) == 0);

	/* an unknown user costs the same scrypt (dummy salt and hash) */
	a->usable = usable;
	if (auth_check_submit(s, usable ? c->salt.data : dummy_salt,
	    usable ? c->salt.len : sizeof(dummy_salt),
	    usable ? c->scrypt_hash.data : dummy_hash) < 0) {
		smtp_reply(s, "451 4.3.0 Server error");
		smtp_auth_end(s);
		smtp_session_resume(s);
		return;
	}
	OPENSSL_cleanse(a->cred.pass, sizeof(a->cred.pass));
}

/* smtp_auth_on_precheck - the ratelimiter's answer on the failure window */
static void
smtp_auth_on_precheck(void *arg, const struct rl_result *res)
{
	struct smtp_session *s = arg;

	if (smtp_auth_gone(s))
		return;
	switch (res->status) {
	case RL_ALLOWED:
		smtp_auth_verify(s);
		return;
	case RL_DENIED:
		smtp_auth_end(s);
		smtp_auth_too_many(s);
		break;
	case RL_UNAVAILABLE:
	default:
		log_warnx("smtp session %016llx auth: ratelimiter unavailable",
		    (unsigned long long)s->id);
		smtp_reply(s, "451 Server error");
		smtp_auth_end(s);
		break;
	}
	smtp_session_resume(s);
}

/* smtp_auth_check - user and password known: pause and check */
static void
smtp_auth_check(struct smtp_session *s)
{
	struct smtp_auth *a = s->auth;
	uint64_t limit = (uint64_t)s->sd->conf.auth_fail_limit;

	a->step = AUTH_STEP_CHECK;
	smtp_session_pause(s);
	smtp_authfail_limit(s, a, limit - 1);
	rl_client_take(s->sd->rl, a->key, &a->limitp, 1, 0, smtp_auth_on_precheck, s);
}

/* smtp_auth_plain - a PLAIN response (initial or after 334) */
static void
smtp_auth_plain(struct smtp_session *s, const char *b64)
{
	static const char *const replies[] = {
		[AUTH_ERR_BASE64] = "501 Invalid command argument, not a valid Base64 string",
		[AUTH_ERR_NO_NUL] = "501 Invalid command argument, does not contain NUL",
		[AUTH_ERR_NO_NUL2] = "501 Invalid command argument, does not contain the second NUL",
	};
	enum smtp_auth_error e = smtp_auth_plain_decode(b64, &s->auth->cred);

	if (e == AUTH_OK || e == AUTH_ERR_TOO_LONG) {
		if (e == AUTH_ERR_TOO_LONG)
			s->auth->cred.user[0] = '\0';	/* no such user: fails */
		smtp_auth_check(s);
		return;
	}
	smtp_reply(s, "%s", replies[e]);
	smtp_auth_end(s);
}

/* smtp_auth_login_field - a LOGIN username or password into DST; -1 replied */
static int
smtp_auth_login_field(struct smtp_session *s, const char *b64, char *dst)
{
	size_t n;

	if (smtp_auth_b64_decode(b64, strlen(b64), (unsigned char *)dst,
	    SMTP_AUTH_FIELD_MAX - 1, &n) < 0) {
		smtp_reply(s, "501 Invalid command argument, not a valid Base64 string");
		smtp_auth_end(s);
		return -1;
	}
	dst[n] = '\0';
	return 0;
}

/* smtp_auth_line - the client's answer to a 334 */
void
smtp_auth_line(struct smtp_session *s, const char *line, size_t len)
{
	struct smtp_auth *a = s->auth;

	if (len == SIZE_MAX) {
		smtp_reply(s, "500 5.5.6 Authentication exchange line is too long");
		smtp_auth_end(s);
		return;
	}
	if (strcmp(line, "*") == 0) {
		smtp_reply(s, "501 5.7.0 Authentication aborted");
		smtp_auth_end(s);
		return;
	}
	switch (a->step) {
	case AUTH_STEP_PLAIN:
		smtp_auth_plain(s, line);
		break;
	case AUTH_STEP_LOGIN_USER:
		if (smtp_auth_login_field(s, line, a->cred.user) == 0) {
			a->step = AUTH_STEP_LOGIN_PASS;
			smtp_reply(s, "334 UGFzc3dvcmQ6");
		}
		break;
	case AUTH_STEP_LOGIN_PASS:
		if (smtp_auth_login_field(s, line, a->cred.pass) == 0)
			smtp_auth_check(s);
		break;
	default:
		break;
	}
}

/* smtp_auth_mech_valid - RFC 4954 sasl-mech: 1*20 of [A-Z0-9-_] */
static bool
smtp_auth_mech_valid(const char *p, size_t len)
{
	size_t i;

	if (len == 0 || len > 20)
		return false;
	for (i = 0; i < len; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", p[i]))
			return false;
	return true;
}

/* smtp_auth_start - a valid PLAIN or LOGIN, with INITIAL ("" when none) */
static void
smtp_auth_start(struct smtp_session *s, bool plain, const char *initial)
{
	if ((s->auth = calloc(1, sizeof(*s->auth))) == NULL) {
		smtp_reply(s, "451 4.3.0 Server error");
		return;
	}
	s->auth->step = plain ? AUTH_STEP_PLAIN : AUTH_STEP_LOGIN_USER;
	if (*initial == '\0') {
		smtp_reply(s, "%s", plain ? "334 " : "334 VXNlcm5hbWU6");
		return;
	}
	if (strcmp(initial, "=") == 0)
		initial = "";
	smtp_auth_line(s, initial, strlen(initial));
}

/* smtp_auth_command - AUTH mechanism [initial-response] */
void
smtp_auth_command(struct smtp_session *s, const char *arg)
{
	const char *end = arg + strcspn(arg, " \t"), *initial = end;
	size_t len = (size_t)(end - arg);

	while (*initial == ' ' || *initial == '\t')
		initial++;
	if (!s->tls) {
		smtp_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		return;
	}
	if (s->ident.authed) {
		smtp_reply(s, "503 5.5.1 Error: already authenticated");
		return;
	}
	if (!smtp_auth_mech_valid(arg, len) || strpbrk(initial, " \t") != NULL) {
		smtp_reply(s, "504 AUTH mechanism mismatch");
		return;
	}
	if (len == 5 && strncasecmp(arg, "PLAIN", 5) == 0)
		smtp_auth_start(s, true, initial);
	else if (len == 5 && strncasecmp(arg, "LOGIN", 5) == 0)
		smtp_auth_start(s, false, initial);
	else
		smtp_reply(s, "504 Method not supported");
}
