/*
 * control_apikey - the ApiKey kind of the policy store: an API signing key of
 * a user (OCI request signing, used by ph-httpd). A key names an existing
 * user; its tenant is the user's; the public key must be RSA (OCI signs with
 * rsa-sha256) in PEM; the fingerprint is always recomputed here, so a stored
 * fingerprint matches its key.
 *
 * DIAGNOSTICS: nothing is logged; refusals go back in a control_err.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "clock.h"
#include "control.h"
#include "control_obj.h"
#include "control_store.h"

#define APIKEY_PEM_MAX 16384

/* apikey_load - the public key in PEM, NULL if it is not one */
static EVP_PKEY *apikey_load(const char *pem)
{
	BIO *bio;
	EVP_PKEY *key;

	if (strlen(pem) > APIKEY_PEM_MAX)
		return NULL;
	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return NULL;
	key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return key;
}

/* apikey_md5_hex - "aa:bb:..." of the MD5 of DER[0..len) */
static int apikey_md5_hex(const unsigned char *der, int len, char out[48])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(der, (size_t)len, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16)
		return -1;
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + i * 3, 4, i + 1 < mdlen ? "%02x:" : "%02x", md[i]);
	return 0;
}

/* control_apikey_fingerprint - MD5 of the DER SubjectPublicKeyInfo */
int control_apikey_fingerprint(const char *pem, char out[48])
{
	EVP_PKEY *key = apikey_load(pem);
	unsigned char *der = NULL;
	int len, rc = -1;

	if (key == NULL)
		return -1;
	len = i2d_PUBKEY(key, &der);
	if (len > 0 && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA)
		rc = apikey_md5_hex(der, len, out);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	return rc;
}

/* control_check_api_key - user, tenant, key, fingerprint, time */
int control_check_api_key(struct control_store *s, Ph__ApiKey *k, struct control_err *e)
{
	char fp[48];

	if (control_check_user_tenant(s, k->user_id, &k->tenant_id, "api key", e) == -1)
		return -1;
	if (control_apikey_fingerprint(k->public_key_pem, fp) == -1)
		return control_err_set(e, PH__ERROR_CODE__ERR_BAD_REQUEST,
		    "api key needs an RSA public key in PEM");
	if (control_str_set(&k->fingerprint, fp) == -1)
		return control_err_set(e, PH__ERROR_CODE__ERR_INTERNAL, "out of memory");
	if (k->time_created_ms == 0)
		k->time_created_ms = clock_now_ms();
	return 0;
}
