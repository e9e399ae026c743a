/*
 * dkim_sign - DKIM signatures (RFC 6376) with OpenDKIM's library:
 * relaxed/relaxed, rsa-sha256 (ed25519-sha256 for Ed25519 keys), the
 * header fields of RFC 6376 5.4.1 plus Message-ID and the MIME fields (no
 * trace fields), the whole body.
 *
 * A dkim_signer is a per-process cache keyed by DKIM key id: the key's PEM
 * and algorithm, checked once with OpenSSL when first used. libopendkim has
 * no way to take an already parsed key (it decodes the PEM inside dkim_eom
 * for every message; dkim_privkey_load only loads into one handle), so the
 * cache saves the checks, not that decode: ~1 350 signatures/s per core on
 * the dev box (2048-bit RSA, 1 KiB message) against ~4 700/s for a bare
 * EVP_DigestSign with a kept key.
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
