/*
 * dkim_sign - DKIM signatures (RFC 6376) with OpenSSL: relaxed/relaxed
 * (dkim_canon), rsa-sha256 for RSA keys and ed25519-sha256 (RFC
 * 8463) for Ed25519 keys, the header fields of RFC 6376 5.4.1 plus
 * Message-ID and the MIME fields (no trace fields), the whole body.
 *
 * A dkim_signer is a per-process cache keyed by DKIM key id: the key's PEM
 * (to notice a changed key) and its EVP_PKEY, parsed once. Thread-safe: the
 * cache is looked up under a mutex, and each signing holds its own
 * reference to the EVP_PKEY and uses its own EVP_PKEY_CTX / EVP_MD_CTX (in
 * OpenSSL 3 a key that is not modified may sign in several threads at once,
 * see openssl-threads(7)); a key replaced meanwhile is freed by its last user.
 */
#ifndef PH_DKIM_SIGN_H
#define PH_DKIM_SIGN_H

#include <stddef.h>
#include <stdint.h>

struct dkim_signer;

struct dkim_signer *dkim_signer_new(void);
void dkim_signer_free(struct dkim_signer *s);

/* dkim_sign_message - sign MSG (an RFC 5322 message, CRLF line ends) for
 * DOMAIN/SELECTOR with the PEM key KEY_PEM known as KEY_ID. *HEADER_OUT is a
 * malloc'd "DKIM-Signature: ...\r\n" (folded) to prepend. 0, or -1 with a
 * reason in ERR (never the key). */
int dkim_sign_message(struct dkim_signer *s, const char *key_id, const char *domain,
    const char *selector, const char *key_pem, const uint8_t *msg, size_t len,
    char **header_out, char *err, size_t errlen);

#endif
