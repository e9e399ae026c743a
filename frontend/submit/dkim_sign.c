/*
 * dkim_sign - DKIM signing with OpenSSL (see dkim_sign.h).
 *
 * One pass per message: the header fields to sign are picked in message
 * order (h=), the body is canonicalized (dkim_canon) and hashed (bh=), the
 * DKIM-Signature header is written folded up to "b=", then SHA-256 runs over
 * the signed fields (RFC 6376 5.4.2: for a name listed twice the last
 * instance comes first) and that header, all relaxed, without its final
 * CRLF. The digest is signed with the cached EVP_PKEY: RSASSA-PKCS1-v1_5
 * for rsa-sha256; for ed25519-sha256 (RFC 8463 3) PureEdDSA over the 32
 * digest bytes themselves.
 *
 * DIAGNOSTICS: nothing is logged here; failures come back in ERR.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "clock.h"
#include "dkim_canon.h"
#include "dkim_sign.h"
#include "strmap.h"

#define LINE_MAX_LEN 76		/* folded lines stay below RFC 5322's 78 */
#define B64_LEN(n) (4 * (((n) + 2) / 3))

/* the header fields signed when present: RFC 6376 5.4.1's list plus the
 * identity and MIME fields. Never trace fields (Received, Return-Path):
 * every hop adds those on top, and a verifier would then hash the wrong one. */
static const char *const sign_headers[] = {
	"from", "reply-to", "subject", "date", "to", "cc", "message-id",
	"mime-version", "content-type", "content-transfer-encoding", "sender",
	"in-reply-to", "references", "list-id", "list-help", "list-unsubscribe",
	"list-unsubscribe-post", "list-subscribe", "list-post", "list-owner",
	"list-archive", "resent-date", "resent-from", "resent-to", "resent-cc", NULL,
};

/* signer_key - one cached key: its PEM (to notice a change) and parsed */
struct signer_key {
	char *pem;
	EVP_PKEY *pk;
	int ed25519;
};

struct dkim_signer {
	pthread_mutex_t mu;	/* guards keys */
	struct strmap *keys;	/* key id -> struct signer_key */
};

/* fields - the header fields to sign, in message order */
struct fields {
	struct dkim_field *f;
	size_t n, cap, maxlen;
};

/* hdr - the DKIM-Signature header being written, folded as it grows */
struct hdr {
	char *p;
	size_t len, cap, col;
	int oom;
};

/* key_free - a strmap value */
static void key_free(void *v)
{
	struct signer_key *k = v;

	if (k == NULL)
		return;
	OPENSSL_cleanse(k->pem, strlen(k->pem));
	free(k->pem);
	EVP_PKEY_free(k->pk);
	free(k);
}

/* dkim_signer_new - an empty cache */
struct dkim_signer *dkim_signer_new(void)
{
	struct dkim_signer *s = calloc(1, sizeof(*s));

	if (s != NULL && (s->keys = strmap_new()) == NULL) {
		free(s);
		return NULL;
	}
	if (s != NULL)
		pthread_mutex_init(&s->mu, NULL);
	return s;
}

/* dkim_signer_free - the cache (PEMs wiped, keys freed) */
void dkim_signer_free(struct dkim_signer *s)
{
	if (s == NULL)
		return;
	strmap_free(s->keys, key_free);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* key_new - parse PEM once: an RSA or an Ed25519 private key */
static struct signer_key *key_new(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pk = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	int id = pk != NULL ? EVP_PKEY_get_id(pk) : 0;
	struct signer_key *k = NULL;

	BIO_free(bio);
	if ((id != EVP_PKEY_RSA && id != EVP_PKEY_ED25519) ||
	    (k = calloc(1, sizeof(*k))) == NULL || (k->pem = strdup(pem)) == NULL) {
		EVP_PKEY_free(pk);
		free(k);
		return NULL;
	}
	k->pk = pk;
	k->ed25519 = id == EVP_PKEY_ED25519;
	return k;
}

/* key_get - into OUT a reference to the cached key KEY_ID (parsed again
 * when its PEM changed), for the caller to release with EVP_PKEY_free;
 * -1 when PEM is no usable key */
static int key_get(struct dkim_signer *s, const char *key_id, const char *pem,
    struct signer_key *out)
{
	struct signer_key *k;

	pthread_mutex_lock(&s->mu);
	k = strmap_get(s->keys, key_id);
	if ((k == NULL || strcmp(k->pem, pem) != 0) && (k = key_new(pem)) != NULL)
		key_free(strmap_put(s->keys, key_id, k));
	if (k != NULL && EVP_PKEY_up_ref(k->pk) != 1)
		k = NULL;
	if (k != NULL) {
		out->pk = k->pk;
		out->ed25519 = k->ed25519;
	}
	pthread_mutex_unlock(&s->mu);
	return k != NULL ? 0 : -1;
}

/* field_signed - F is one of sign_headers */
static int field_signed(const struct dkim_field *f)
{
	for (size_t i = 0; sign_headers[i] != NULL; i++)
		if (dkim_canon_field_is(f, sign_headers[i]))
			return 1;
	return 0;
}

/* fields_pick - the signed fields of MSG and where its body starts; -1 on
 * no memory */
static int fields_pick(const uint8_t *msg, size_t len, struct fields *fs,
    size_t *body_off)
{
	struct dkim_field f;

	*body_off = 0;
	while (dkim_canon_field_next(msg, len, body_off, &f)) {
		if (!field_signed(&f))
			continue;
		if (fs->n == fs->cap) {
			size_t cap = fs->cap ? 2 * fs->cap : 16;
			struct dkim_field *p = realloc(fs->f, cap * sizeof(*p));

			if (p == NULL)
				return -1;
			fs->f = p;
			fs->cap = cap;
		}
		fs->f[fs->n++] = f;
		if (f.len > fs->maxlen)
			fs->maxlen = f.len;
	}
	return 0;
}

/* hdr_put - append LEN bytes of S */
static void hdr_put(struct hdr *h, const char *s, size_t len)
{
	if (h->len + len + 1 > h->cap) {
		size_t cap = 2 * (h->len + len + 1);
		char *p = h->oom ? NULL : realloc(h->p, cap);

		if (p == NULL) {
			h->oom = 1;
			return;
		}
		h->p = p;
		h->cap = cap;
	}
	memcpy(h->p + h->len, s, len);
	h->len += len;
	h->p[h->len] = '\0';
	h->col += len;
}

/* hdr_token - A B C on this line (after SEP) when they fit, else on a new
 * one: a token is never split */
static void hdr_token(struct hdr *h, const char *sep, const char *a, const char *b,
    const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);

	if (h->col + strlen(sep) + la + lb + lc > LINE_MAX_LEN) {
		hdr_put(h, "\r\n ", 3);
		h->col = 1;
	} else {
		hdr_put(h, sep, strlen(sep));
	}
	hdr_put(h, a, la);
	hdr_put(h, b, lb);
	hdr_put(h, c, lc);
}

/* hdr_b64 - S split over lines (FWS may go anywhere in b=, RFC 6376 3.5) */
static void hdr_b64(struct hdr *h, const char *s)
{
	for (size_t len = strlen(s), n; len > 0; s += n, len -= n) {
		if (h->col >= LINE_MAX_LEN) {
			hdr_put(h, "\r\n ", 3);
			h->col = 1;
		}
		n = LINE_MAX_LEN - h->col < len ? LINE_MAX_LEN - h->col : len;
		hdr_put(h, s, n);
	}
}

/* hdr_begin - the header up to "b=": tags, h= folded between names */
static void hdr_begin(struct hdr *h, const struct signer_key *k, const char *domain,
    const char *selector, const struct fields *fs, const char *bh)
{
	char tag[80];

	hdr_put(h, "DKIM-Signature: v=1;", 20);
	hdr_token(h, " ", "a=", k->ed25519 ? "ed25519-sha256" : "rsa-sha256", ";");
	hdr_token(h, " ", "c=relaxed/relaxed;", "", "");
	hdr_token(h, " ", "d=", domain, ";");
	hdr_token(h, " ", "s=", selector, ";");
	snprintf(tag, sizeof(tag), "%" PRIu64, clock_now_ms() / 1000);
	hdr_token(h, " ", "t=", tag, ";");
	for (size_t i = 0; i < fs->n; i++) {
		/* a name from sign_headers: short */
		snprintf(tag, sizeof(tag), "%.*s", (int)fs->f[i].name_len, fs->f[i].p);
		hdr_token(h, i == 0 ? " " : "", i == 0 ? "h=" : "", tag,
		    i + 1 == fs->n ? ";" : ":");
	}
	hdr_token(h, " ", "bh=", bh, ";");
	hdr_token(h, " ", "b=", "", "");
}

/* body_hash - bh=: base64 of SHA-256 over the relaxed body */
static int body_hash(const uint8_t *body, size_t len, char bh[B64_LEN(32) + 1])
{
	uint8_t *canon = malloc(len + 2), md[32];
	unsigned int mdlen = 0;
	int rc = -1;

	if (canon != NULL && EVP_Digest(canon, dkim_canon_body(body, len, canon), md,
	    &mdlen, EVP_sha256(), NULL) == 1) {
		EVP_EncodeBlock((unsigned char *)bh, md, (int)mdlen);
		rc = 0;
	}
	free(canon);
	return rc;
}

/* instance - the field hashed for h= entry I: among the fields named like
 * it, entry number r (0 = first) takes the r-th one from the bottom */
static const struct dkim_field *instance(const struct fields *fs, size_t i)
{
	const struct dkim_field *f = &fs->f[i];
	size_t r = 0;

	for (size_t j = 0; j < i; j++)
		r += fs->f[j].name_len == f->name_len &&
		    strncasecmp(fs->f[j].p, f->p, f->name_len) == 0;
	for (size_t j = fs->n; j-- > 0;)
		if (fs->f[j].name_len == f->name_len &&
		    strncasecmp(fs->f[j].p, f->p, f->name_len) == 0 && r-- == 0)
			return &fs->f[j];
	return f;	/* not reached: f itself counts */
}

/* header_hash - SHA-256 over the signed fields, each relaxed + CRLF, and
 * the DKIM-Signature header H (up to "b=") relaxed without CRLF */
static int header_hash(const struct fields *fs, const struct hdr *h, uint8_t md[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char *canon = malloc((fs->maxlen > h->len ? fs->maxlen : h->len) + 1);
	struct dkim_field self;
	size_t off = 0;
	int ok = ctx != NULL && canon != NULL &&
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;

	for (size_t i = 0; ok && i < fs->n; i++)
		ok = EVP_DigestUpdate(ctx, canon, dkim_canon_header(instance(fs, i),
		    canon)) == 1 && EVP_DigestUpdate(ctx, "\r\n", 2) == 1;
	dkim_canon_field_next((const uint8_t *)h->p, h->len, &off, &self);
	ok = ok && EVP_DigestUpdate(ctx, canon, dkim_canon_header(&self, canon)) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	free(canon);
	return ok ? 0 : -1;
}

/* digest_sign - b= before base64: PKCS#1 v1.5 over the SHA-256 digest, or
 * Ed25519 over the digest bytes (RFC 8463); SIG has room for 512 bytes */
static int digest_sign(const struct signer_key *k, const uint8_t md[32],
    uint8_t *sig, size_t *siglen)
{
	EVP_PKEY_CTX *pc = NULL;
	EVP_MD_CTX *mc = NULL;
	int ok;

	*siglen = 512;
	if (k->ed25519) {
		ok = (mc = EVP_MD_CTX_new()) != NULL &&
		    EVP_DigestSignInit(mc, NULL, NULL, NULL, k->pk) == 1 &&
		    EVP_DigestSign(mc, sig, siglen, md, 32) == 1;
	} else {
		ok = (pc = EVP_PKEY_CTX_new(k->pk, NULL)) != NULL &&
		    EVP_PKEY_sign_init(pc) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
		    EVP_PKEY_sign(pc, sig, siglen, md, 32) == 1;
	}
	EVP_MD_CTX_free(mc);
	EVP_PKEY_CTX_free(pc);
	return ok ? 0 : -1;
}

/* sign_fields - the header for the picked fields; NULL with ERR */
static char *sign_fields(const struct signer_key *k, const char *domain,
    const char *selector, const struct fields *fs, const uint8_t *body,
    size_t blen, char *err, size_t errlen)
{
	struct hdr h = { 0 };
	char bh[B64_LEN(32) + 1], b[B64_LEN(512) + 1];
	uint8_t md[32], sig[512];
	size_t siglen;

	if (body_hash(body, blen, bh) == -1) {
		snprintf(err, errlen, "cannot hash the body");
		return NULL;
	}
	hdr_begin(&h, k, domain, selector, fs, bh);
	if (h.oom || header_hash(fs, &h, md) == -1 ||
	    digest_sign(k, md, sig, &siglen) == -1) {
		snprintf(err, errlen, "%s", h.oom ? "out of memory" : "cannot sign");
		free(h.p);
		return NULL;
	}
	EVP_EncodeBlock((unsigned char *)b, sig, (int)siglen);
	hdr_b64(&h, b);
	hdr_put(&h, "\r\n", 2);
	if (h.oom) {
		snprintf(err, errlen, "out of memory");
		free(h.p);
		return NULL;
	}
	return h.p;
}

/* has_from - RFC 6376 5.4: From must be signed */
static int has_from(const struct fields *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		if (dkim_canon_field_is(&fs->f[i], "from"))
			return 1;
	return 0;
}

/* dkim_sign_message - cached key, picked fields, one signature */
int dkim_sign_message(struct dkim_signer *s, const char *key_id, const char *domain,
    const char *selector, const char *key_pem, const uint8_t *msg, size_t len,
    char **header_out, char *err, size_t errlen)
{
	struct signer_key k = { 0 };
	struct fields fs = { 0 };
	size_t body_off;

	*header_out = NULL;
	if (key_get(s, key_id, key_pem, &k) == -1)
		snprintf(err, errlen, "key %s is not an RSA or Ed25519 PEM key", key_id);
	else if (fields_pick(msg, len, &fs, &body_off) == -1)
		snprintf(err, errlen, "out of memory");
	else if (!has_from(&fs))
		snprintf(err, errlen, "no From header field to sign");
	else
		*header_out = sign_fields(&k, domain, selector, &fs, msg + body_off,
		    len - body_off, err, errlen);
	EVP_PKEY_free(k.pk);
	free(fs.f);
	return *header_out != NULL ? 0 : -1;
}
