/*
 * control_dkim_key - DKIM key material with OpenSSL's EVP API: a fresh
 * RSA-2048 key, or an imported PEM (RSA of 1024 to 4096 bits, or Ed25519),
 * stored as PKCS#8 PEM; the public half as the p= value of the TXT record
 * (base64 SubjectPublicKeyInfo for RSA, the raw 32 bytes for Ed25519, as
 * RFC 6376 and RFC 8463 say).
 *
 * DIAGNOSTICS: none logged; failures come back in ERR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "control_dkim.h"

#define DKIM_RSA_BITS 2048
#define DKIM_RSA_MIN_BITS 1024
#define DKIM_RSA_MAX_BITS 4096

/* b64 - base64 of LEN bytes, malloc'd */
static char *b64(const unsigned char *buf, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, buf, (int)len);
	return out;
}

/* pub_b64 - the p= value of KEY */
static char *pub_b64(EVP_PKEY *key)
{
	unsigned char raw[64], *der = NULL;
	size_t rawlen = sizeof(raw);
	int len;
	char *out;

	if (EVP_PKEY_get_id(key) == EVP_PKEY_ED25519)
		return EVP_PKEY_get_raw_public_key(key, raw, &rawlen) == 1 ?
		    b64(raw, rawlen) : NULL;
	len = i2d_PUBKEY(key, &der);
	if (len <= 0)
		return NULL;
	out = b64(der, (size_t)len);
	OPENSSL_free(der);
	return out;
}

/* pem_of - KEY as PKCS#8 PEM, malloc'd */
static char *pem_of(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long len;

	if (bio == NULL)
		return NULL;
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (len = BIO_get_mem_data(bio, &data)) > 0 && (out = malloc((size_t)len + 1))) {
		memcpy(out, data, (size_t)len);
		out[len] = '\0';
	}
	BIO_free(bio);
	return out;
}

/* key_load - parse PEM, or generate when PEM is empty; NULL with ERR */
static EVP_PKEY *key_load(const char *pem, char *err, size_t errlen)
{
	EVP_PKEY *key;
	BIO *bio;
	int bits;

	if (pem == NULL || pem[0] == '\0') {
		key = EVP_RSA_gen(DKIM_RSA_BITS);
		if (key == NULL)
			snprintf(err, errlen, "cannot generate an RSA key");
		return key;
	}
	bio = BIO_new_mem_buf(pem, -1);
	key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (key == NULL) {
		snprintf(err, errlen, "the key is not an unencrypted PEM private key");
		return NULL;
	}
	if (EVP_PKEY_get_id(key) == EVP_PKEY_ED25519)
		return key;
	bits = EVP_PKEY_get_bits(key);
	if (EVP_PKEY_get_id(key) != EVP_PKEY_RSA || bits < DKIM_RSA_MIN_BITS ||
	    bits > DKIM_RSA_MAX_BITS) {
		snprintf(err, errlen, "the key must be RSA (%d to %d bits) or Ed25519",
		    DKIM_RSA_MIN_BITS, DKIM_RSA_MAX_BITS);
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

/* dkim_key_material - load or generate, then export both halves */
int dkim_key_material(const char *pem, char **pem_out, char **pub, const char **ktype,
    char *err, size_t errlen)
{
	EVP_PKEY *key = key_load(pem, err, errlen);

	*pem_out = *pub = NULL;
	if (key == NULL)
		return -1;
	*ktype = EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? "ed25519" : "rsa";
	*pem_out = pem_of(key);
	*pub = pub_b64(key);
	EVP_PKEY_free(key);
	if (*pem_out != NULL && *pub != NULL)
		return 0;
	free(*pem_out);
	free(*pub);
	*pem_out = *pub = NULL;
	snprintf(err, errlen, "cannot export the key");
	return -1;
}
