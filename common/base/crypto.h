/*
 * crypto - OpenSSL helpers: AES-256-GCM sealing of values at rest, the master
 * key file, scrypt password hashes, random bytes and tokens.
 *
 * Sealed format: 12-byte random nonce || ciphertext || 16-byte tag. The AAD
 * binds a value to its key name so a value cannot be moved to another key.
 */
#ifndef PH_CRYPTO_H
#define PH_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_LEN 32
#define CRYPTO_SEAL_OVERHEAD (12 + 16)
#define CRYPTO_SCRYPT_LEN 32

/* crypto_key_load_or_create - read the 32-byte key file, or create it with
 * mode 0600 (directory created 0700) when it does not exist. 0 or -1. */
int crypto_key_load_or_create(const char *path, uint8_t key[CRYPTO_KEY_LEN]);

/* crypto_seal - *out is malloc'd, *outlen = len + CRYPTO_SEAL_OVERHEAD. 0 or -1. */
int crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const void *pt, size_t len,
    const void *aad, size_t aadlen, uint8_t **out, size_t *outlen);
/* crypto_open - -1 when the tag does not verify (tampered or wrong key) */
int crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const void *sealed, size_t len,
    const void *aad, size_t aadlen, uint8_t **out, size_t *outlen);

/* crypto_scrypt - scrypt N=16384 r=8 p=1 into out[32]. 0 or -1. */
int crypto_scrypt(const char *password, const uint8_t *salt, size_t saltlen,
    uint8_t out[CRYPTO_SCRYPT_LEN]);
/* crypto_scrypt_verify - constant-time compare; 1 match, 0 mismatch */
int crypto_scrypt_verify(const char *password, const uint8_t *salt, size_t saltlen,
    const uint8_t *hash, size_t hashlen);

int crypto_random(void *buf, size_t len);
/* crypto_token - LEN-1 random chars from [A-Za-z0-9] plus NUL */
void crypto_token(char *out, size_t len);

#endif
