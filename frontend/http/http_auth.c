/*
 * http_auth - verify an OCI request signature (see http_auth.h) against the
 * API key named by keyId in the policy replica.
 *
 * DIAGNOSTICS: none here; the caller logs *why at debug and answers 401.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "http_auth.h"
#include "http_call.h"
#include "policy.h"

#define SIG_PARAM_MAX 2048
#define SIG_STRING_MAX 8192

/* sig_params - the parameters of a "Signature k="v",..." header */
struct sig_params {
	char key_id[SIG_PARAM_MAX];
	char algorithm[64];
	char headers[SIG_PARAM_MAX];
	char signature[SIG_PARAM_MAX];
};

/* sig_param_slot - where the value of parameter NAME goes (NULL: ignored) */
static char *sig_param_slot(struct sig_params *sp, const char *name, size_t n, size_t *cap)
{
	static const struct { const char *name; size_t off, cap; } rows[] = {
		{ "keyId", offsetof(struct sig_params, key_id), SIG_PARAM_MAX },
		{ "algorithm", offsetof(struct sig_params, algorithm), 64 },
		{ "headers", offsetof(struct sig_params, headers), SIG_PARAM_MAX },
		{ "signature", offsetof(struct sig_params, signature), SIG_PARAM_MAX },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (strlen(rows[i].name) == n && strncmp(rows[i].name, name, n) == 0) {
			*cap = rows[i].cap;
			return (char *)sp + rows[i].off;
		}
	return NULL;
}

/* sig_parse - split the Authorization header; -1 when malformed */
static int sig_parse(const char *h, struct sig_params *sp)
{
	memset(sp, 0, sizeof(*sp));
	if (strncasecmp(h, "Signature ", 10) != 0)
		return -1;
	for (h += 10; *h; ) {
		const char *eq, *end;
		size_t cap = 0;
		char *slot;

		while (*h == ' ' || *h == ',')
			h++;
		if (*h == '\0')
			break;
		if ((eq = strchr(h, '=')) == NULL || eq[1] != '"' ||
		    (end = strchr(eq + 2, '"')) == NULL)
			return -1;
		slot = sig_param_slot(sp, h, (size_t)(eq - h), &cap);
		if (slot != NULL) {
			if ((size_t)(end - eq - 2) >= cap)
				return -1;
			memcpy(slot, eq + 2, (size_t)(end - eq - 2));
			slot[end - eq - 2] = '\0';
		}
		h = end + 1;
	}
	return sp->key_id[0] && sp->headers[0] && sp->signature[0] ? 0 : -1;
}

/* sig_has - NAME is one of the space-separated signed HEADERS */
static bool sig_has(const char *headers, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = headers; *p; ) {
		size_t len = strcspn(p, " ");
		if (len == n && strncasecmp(p, name, n) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

/* sig_string - the signing string into OUT; -1 when a header is missing */
static int sig_string(const struct http_sig_input *in, const char *headers,
    char *out, size_t cap)
{
	size_t used = 0;
	char name[128];

	out[0] = '\0';
	for (const char *p = headers; *p; ) {
		size_t len = strcspn(p, " ");
		const char *v;
		int n;

		if (len == 0 || len >= sizeof(name))
			return -1;
		for (size_t i = 0; i < len; i++)
			name[i] = (char)tolower((unsigned char)p[i]);
		name[len] = '\0';
		if (strcmp(name, "(request-target)") == 0) {
			char m[16];
			snprintf(m, sizeof(m), "%s", in->method);
			for (char *q = m; *q; q++)
				*q = (char)tolower((unsigned char)*q);
			n = snprintf(out + used, cap - used, "%s%s: %s %s", used ? "\n" : "",
			    name, m, in->target);
		} else {
			if ((v = in->header(in->arg, name)) == NULL)
				return -1;
			n = snprintf(out + used, cap - used, "%s%s: %s", used ? "\n" : "", name, v);
		}
		if (n < 0 || (size_t)n >= cap - used)
			return -1;
		used += (size_t)n;
		p += len;
		p += strspn(p, " ");
	}
	return 0;
}

/* sig_required - the signed set covers what this request needs */
static const char *sig_required(const struct http_sig_input *in, const char *h)
{
	if (!sig_has(h, "(request-target)") || !sig_has(h, "host"))
		return "(request-target) and host must be signed";
	if (!sig_has(h, "date") && !sig_has(h, "x-date"))
		return "date must be signed";
	if (in->sign_body && (!sig_has(h, "content-length") || !sig_has(h, "x-content-sha256")))
		return "the body must be signed";
	return NULL;
}

/* sig_date_ok - the signed date is within the allowed skew */
static bool sig_date_ok(const struct http_sig_input *in)
{
	const char *d = in->header(in->arg, "x-date");
	struct tm tm;
	const char *end;
	int64_t t, now = (int64_t)(in->now_ms / 1000);

	if (d == NULL)
		d = in->header(in->arg, "date");
	if (d == NULL)
		return false;
	memset(&tm, 0, sizeof(tm));
	end = strptime(d, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return false;
	t = (int64_t)timegm(&tm);
	return (t > now ? t - now : now - t) * 1000 <= (int64_t)in->skew_ms;
}

/* sig_body_ok - x-content-sha256 (when sent) and content-length match */
static bool sig_body_ok(const struct http_sig_input *in)
{
	const char *h = in->header(in->arg, "x-content-sha256");
	const char *cl = in->header(in->arg, "content-length");
	unsigned char md[32];
	char b64[64];

	if (cl != NULL && strtoull(cl, NULL, 10) != in->body_len)
		return false;
	if (h == NULL)
		return !in->sign_body;
	if (EVP_Digest(in->body, in->body_len, md, NULL, EVP_sha256(), NULL) != 1)
		return false;
	EVP_EncodeBlock((unsigned char *)b64, md, sizeof(md));
	return strcmp(b64, h) == 0;
}

/* sig_verify - RSA PKCS#1 v1.5 SHA-256 of TEXT under PEM */
static bool sig_verify(const char *pem, const char *text, const char *sig_b64)
{
	size_t b64len = strlen(sig_b64);
	unsigned char *sig = malloc(b64len + 4);
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int siglen = sig ? EVP_DecodeBlock(sig, (const unsigned char *)sig_b64, (int)b64len) : -1;
	bool ok = false;

	if (siglen > 0 && b64len >= 2)	/* EVP_DecodeBlock counts padding as data */
		siglen -= (sig_b64[b64len - 1] == '=') + (sig_b64[b64len - 2] == '=');
	if (key != NULL && md != NULL && siglen > 0 &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1)
		ok = EVP_DigestVerify(md, sig, (size_t)siglen, (const unsigned char *)text,
		    strlen(text)) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	BIO_free(bio);
	free(sig);
	return ok;
}

/* http_auth_verify - header, key, signed set, date, body hash, signature */
int http_auth_verify(const struct policy *p, const struct http_sig_input *in,
    struct http_principal *who, const char **why)
{
	const char *auth = in->header(in->arg, "authorization");
	static struct sig_params sp;
	static char text[SIG_STRING_MAX];
	const Ph__ApiKey *k;

	if (auth == NULL || sig_parse(auth, &sp) == -1)
		return *why = "no or malformed Authorization header", -1;
	if (sp.algorithm[0] && strcmp(sp.algorithm, "rsa-sha256") != 0)
		return *why = "unsupported algorithm", -1;
	if ((k = policy_api_key(p, sp.key_id)) == NULL)
		return *why = "unknown keyId", -1;
	if ((*why = sig_required(in, sp.headers)) != NULL)
		return -1;
	if (!sig_date_ok(in))
		return *why = "date missing or too far from the current time", -1;
	if (!sig_body_ok(in))
		return *why = "body does not match x-content-sha256 or content-length", -1;
	if (sig_string(in, sp.headers, text, sizeof(text)) == -1)
		return *why = "a signed header is missing", -1;
	if (!sig_verify(k->public_key_pem, text, sp.signature))
		return *why = "signature does not verify", -1;
	snprintf(who->tenant_id, sizeof(who->tenant_id), "%s", k->tenant_id);
	snprintf(who->user_id, sizeof(who->user_id), "%s", k->user_id);
	return 0;
}
