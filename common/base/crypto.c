/*
 * crypto - OpenSSL helpers: AES-256-GCM sealing of values at rest, the master
 * key file, scrypt password hashes, random bytes and tokens.
 *
 * Sealed layout: nonce[12] || ciphertext[len] || tag[16]; the AAD (the key
 * name under which a value is stored) is authenticated but not stored.
 *
 * DIAGNOSTICS: every function returns -1 (or 0 for "no match") on failure and
 * logs nothing: callers decide whether a failure is fatal. crypto_token
 * panics when the system has no randomness (a broken environment).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto.h"
#include "fsdir.h"
#include "log.h"

#define NONCE_LEN 12
#define TAG_LEN 16
#define SCRYPT_N 16384
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SCRYPT_MAXMEM (64u * 1024 * 1024)

/* read_full - read exactly LEN bytes from FD */
static int read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* key_load - read an existing key file; -1 with errno ENOENT when absent */
static int key_load(const char *path, uint8_t key[CRYPTO_KEY_LEN])
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || st.st_size != CRYPTO_KEY_LEN ||
	    read_full(fd, key, CRYPTO_KEY_LEN) == -1) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	close(fd);
	return 0;
}

/* key_create - write a fresh random key with mode 0600, never replacing one */
static int key_create(const char *path, uint8_t key[CRYPTO_KEY_LEN])
{
	int fd;

	if (fsdir_make_for(path, 0700) == -1 || crypto_random(key, CRYPTO_KEY_LEN) == -1)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	if (write(fd, key, CRYPTO_KEY_LEN) != CRYPTO_KEY_LEN || fsync(fd) == -1) {
		close(fd);
		unlink(path);
		return -1;
	}
	return close(fd);
}

/* crypto_key_load_or_create - the master key, created on first use */
int crypto_key_load_or_create(const char *path, uint8_t key[CRYPTO_KEY_LEN])
{
	if (key_load(path, key) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	if (key_create(path, key) == 0)
		return 0;
	/* another process created it between our two calls */
	return errno == EEXIST ? key_load(path, key) : -1;
}

/* gcm_init - a cipher context for AES-256-GCM with KEY and NONCE */
static EVP_CIPHER_CTX *gcm_init(const uint8_t *key, const uint8_t *nonce, int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (ctx == NULL)
		return NULL;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* gcm_run - feed AAD then DATA through CTX into OUT */
static int gcm_run(EVP_CIPHER_CTX *ctx, const void *aad, size_t aadlen,
    const uint8_t *in, size_t len, uint8_t *out)
{
	int n;

	if (aadlen > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
		return -1;
	if (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
		return -1;
	return 0;
}

/* crypto_seal - encrypt and authenticate PT bound to AAD */
int crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const void *pt, size_t len,
    const void *aad, size_t aadlen, uint8_t **out, size_t *outlen)
{
	uint8_t *buf;
	EVP_CIPHER_CTX *ctx;
	int n, rc = -1;

	if (len > INT32_MAX || aadlen > INT32_MAX)
		return -1;
	buf = malloc(len + CRYPTO_SEAL_OVERHEAD);
	if (buf == NULL || crypto_random(buf, NONCE_LEN) == -1 ||
	    (ctx = gcm_init(key, buf, 1)) == NULL)
		goto error;
	if (gcm_run(ctx, aad, aadlen, pt, len, buf + NONCE_LEN) == 0 &&
	    EVP_EncryptFinal_ex(ctx, buf + NONCE_LEN + len, &n) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
	    buf + NONCE_LEN + len) == 1)
		rc = 0;
	EVP_CIPHER_CTX_free(ctx);
	if (rc == 0) {
		*out = buf;
		*outlen = len + CRYPTO_SEAL_OVERHEAD;
		return 0;
	}
error:
	free(buf);
	return -1;
}

/* crypto_open - verify and decrypt a sealed value; -1 when tampered */
int crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const void *sealed, size_t len,
    const void *aad, size_t aadlen, uint8_t **out, size_t *outlen)
{
	const uint8_t *in = sealed;
	size_t ctlen;
	uint8_t *buf;
	EVP_CIPHER_CTX *ctx;
	uint8_t tag[TAG_LEN];
	int n, rc = -1;

	if (len < CRYPTO_SEAL_OVERHEAD || len > INT32_MAX || aadlen > INT32_MAX)
		return -1;
	ctlen = len - CRYPTO_SEAL_OVERHEAD;
	buf = malloc(ctlen + 1);
	if (buf == NULL || (ctx = gcm_init(key, in, 0)) == NULL)
		goto error;
	memcpy(tag, in + NONCE_LEN + ctlen, TAG_LEN);
	if (gcm_run(ctx, aad, aadlen, in + NONCE_LEN, ctlen, buf) == 0 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1 &&
	    EVP_DecryptFinal_ex(ctx, buf + ctlen, &n) == 1)
		rc = 0;
	EVP_CIPHER_CTX_free(ctx);
	if (rc == 0) {
		buf[ctlen] = '\0';	/* convenience for text values */
		*out = buf;
		*outlen = ctlen;
		return 0;
	}
error:
	if (buf != NULL)
		OPENSSL_cleanse(buf, ctlen);
	free(buf);
	return -1;
}

/* crypto_scrypt - derive the stored hash of PASSWORD */
int crypto_scrypt(const char *password, const uint8_t *salt, size_t saltlen,
    uint8_t out[CRYPTO_SCRYPT_LEN])
{
	if (EVP_PBE_scrypt(password, strlen(password), salt, saltlen, SCRYPT_N,
	    SCRYPT_R, SCRYPT_P, SCRYPT_MAXMEM, out, CRYPTO_SCRYPT_LEN) != 1)
		return -1;
	return 0;
}

/* crypto_scrypt_verify - 1 when PASSWORD hashes to HASH */
int crypto_scrypt_verify(const char *password, const uint8_t *salt, size_t saltlen,
    const uint8_t *hash, size_t hashlen)
{
	uint8_t got[CRYPTO_SCRYPT_LEN];
	int match;

	if (hashlen != CRYPTO_SCRYPT_LEN ||
	    crypto_scrypt(password, salt, saltlen, got) == -1)
		return 0;
	match = CRYPTO_memcmp(got, hash, CRYPTO_SCRYPT_LEN) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return match;
}

/* crypto_random - LEN bytes from the CSPRNG */
int crypto_random(void *buf, size_t len)
{
	if (len > INT32_MAX || RAND_bytes(buf, (int)len) != 1)
		return -1;
	return 0;
}

/* crypto_token - unbiased random alphanumerics (rejection sampling) */
void crypto_token(char *out, size_t len)
{
	static const char set[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t r[64];
	size_t i = 0;

	if (len == 0)
		return;
	while (i < len - 1) {
		if (crypto_random(r, sizeof(r)) == -1)
			panic("crypto_token: no randomness");
		for (size_t j = 0; j < sizeof(r) && i < len - 1; j++)
			if (r[j] < 248)	/* 248 = 4 * 62: keeps the draw uniform */
				out[i++] = set[r[j] % 62];
	}
	out[len - 1] = '\0';
}
