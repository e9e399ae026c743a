/*
 * dkim_sign - DKIM signing with libopendkim (see dkim_sign.h).
 *
 * One DKIM_LIB per signer; each message gets a dkim_sign() handle fed with
 * dkim_chunk() (the whole message, then the end marker), dkim_eom() signs
 * and dkim_getsighdr_d() gives the folded header value.
 *
 * DIAGNOSTICS: nothing is logged here; failures come back in ERR.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opendkim/dkim.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim_sign.h"
#include "strmap.h"

#define DKIM_HDR_INDENT 16	/* strlen("DKIM-Signature: ") */

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

/* signer_key - one cached key */
struct signer_key {
	char *pem;
	dkim_alg_t alg;
};

struct dkim_signer {
	DKIM_LIB *lib;
	struct strmap *keys;	/* key id -> struct signer_key */
};

/* key_free - a strmap value */
static void key_free(void *v)
{
	struct signer_key *k = v;

	if (k == NULL)
		return;
	OPENSSL_cleanse(k->pem, strlen(k->pem));
	free(k->pem);
	free(k);
}

/* dkim_signer_new - a library handle and an empty cache */
struct dkim_signer *dkim_signer_new(void)
{
	struct dkim_signer *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->lib = dkim_init(NULL, NULL);
	s->keys = strmap_new();
	/* SIGNHDRS takes the array itself; LEN is the size of a pointer */
	if (s->lib == NULL || s->keys == NULL ||
	    dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, (void *)sign_headers,
	    sizeof(unsigned char **)) != DKIM_STAT_OK) {
		dkim_signer_free(s);
		return NULL;
	}
	return s;
}

/* dkim_signer_free - the cache (keys wiped) and the library */
void dkim_signer_free(struct dkim_signer *s)
{
	if (s == NULL)
		return;
	if (s->keys != NULL)
		strmap_free(s->keys, key_free);
	if (s->lib != NULL)
		dkim_close(s->lib);
	free(s);
}

/* key_new - parse PEM once: RSA -> rsa-sha256, Ed25519 -> ed25519-sha256 */
static struct signer_key *key_new(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pk = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	struct signer_key *k = NULL;
	int id = pk != NULL ? EVP_PKEY_get_id(pk) : 0;

	BIO_free(bio);
	EVP_PKEY_free(pk);
	if (id != EVP_PKEY_RSA && id != EVP_PKEY_ED25519)
		return NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL || (k->pem = strdup(pem)) == NULL) {
		free(k);
		return NULL;
	}
	k->alg = id == EVP_PKEY_RSA ? DKIM_SIGN_RSASHA256 : DKIM_SIGN_ED25519SHA256;
	return k;
}

/* key_get - the cached key KEY_ID, (re)loaded when its PEM differs */
static const struct signer_key *key_get(struct dkim_signer *s, const char *key_id,
    const char *pem)
{
	struct signer_key *k = strmap_get(s->keys, key_id);

	if (k != NULL && strcmp(k->pem, pem) == 0)
		return k;
	if ((k = key_new(pem)) == NULL)
		return NULL;
	key_free(strmap_put(s->keys, key_id, k));
	return k;
}

/* header_make - "DKIM-Signature: " VALUE "\r\n", with LF folds made CRLF */
static char *header_make(const unsigned char *value, size_t len)
{
	static const char name[] = "DKIM-Signature: ";
	size_t lf = 0, n = 0;
	char *out;

	for (size_t i = 0; i < len; i++)
		lf += value[i] == '\n';
	if ((out = malloc(sizeof(name) + len + lf + 3)) == NULL)
		return NULL;
	memcpy(out, name, sizeof(name) - 1);
	n = sizeof(name) - 1;
	for (size_t i = 0; i < len; i++) {
		if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
			out[n++] = '\r';
		out[n++] = (char)value[i];
	}
	memcpy(out + n, "\r\n", 3);
	return out;
}

/* sign_run - feed MSG to a fresh handle and get the header; NULL with ERR */
static char *sign_run(struct dkim_signer *s, const struct signer_key *k,
    const char *key_id, const char *domain, const char *selector,
    const uint8_t *msg, size_t len, char *err, size_t errlen)
{
	DKIM_STAT st;
	DKIM *d = dkim_sign(s->lib, (const unsigned char *)key_id, NULL,
	    (dkim_sigkey_t)k->pem, (const unsigned char *)selector,
	    (const unsigned char *)domain, DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
	    k->alg, -1, &st);
	unsigned char *value = NULL;
	size_t vlen = 0;
	char *out = NULL;

	if (d == NULL) {
		snprintf(err, errlen, "dkim_sign: %s", dkim_getresultstr(st));
		return NULL;
	}
	if ((st = dkim_chunk(d, (unsigned char *)msg, len)) != DKIM_STAT_OK ||
	    (st = dkim_chunk(d, NULL, 0)) != DKIM_STAT_OK ||
	    (st = dkim_eom(d, NULL)) != DKIM_STAT_OK ||
	    (st = dkim_getsighdr_d(d, DKIM_HDR_INDENT, &value, &vlen)) != DKIM_STAT_OK)
		snprintf(err, errlen, "%s", dkim_geterror(d) ? dkim_geterror(d) :
		    dkim_getresultstr(st));
	else if ((out = header_make(value, vlen)) == NULL)
		snprintf(err, errlen, "out of memory");
	dkim_free(d);
	return out;
}

/* dkim_sign_message - cached key, one libopendkim signing pass */
int dkim_sign_message(struct dkim_signer *s, const char *key_id, const char *domain,
    const char *selector, const char *key_pem, const uint8_t *msg, size_t len,
    char **header_out, char *err, size_t errlen)
{
	const struct signer_key *k = key_get(s, key_id, key_pem);

	*header_out = NULL;
	if (k == NULL) {
		snprintf(err, errlen, "key %s is not an RSA or Ed25519 PEM key", key_id);
		return -1;
	}
	*header_out = sign_run(s, k, key_id, domain, selector, msg, len, err, errlen);
	return *header_out != NULL ? 0 : -1;
}
