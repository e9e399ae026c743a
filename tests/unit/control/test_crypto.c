/*
 * test_crypto - AES-256-GCM sealing, the key file, scrypt and tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "crypto.h"

static const uint8_t key[CRYPTO_KEY_LEN] = "0123456789abcdef0123456789abcdef";

/* test_seal_round_trip - open(seal(x)) == x, and the nonce makes seals differ */
static void test_seal_round_trip(void **state)
{
	const char *pt = "alice@example.com";
	uint8_t *s1, *s2, *out;
	size_t l1, l2, outlen;

	assert_int_equal(crypto_seal(key, pt, strlen(pt), "k", 1, &s1, &l1), 0);
	assert_int_equal(crypto_seal(key, pt, strlen(pt), "k", 1, &s2, &l2), 0);
	assert_int_equal(l1, strlen(pt) + CRYPTO_SEAL_OVERHEAD);
	assert_memory_not_equal(s1, s2, l1);
	assert_null(memmem(s1, l1, pt, strlen(pt)));
	assert_int_equal(crypto_open(key, s1, l1, "k", 1, &out, &outlen), 0);
	assert_int_equal(outlen, strlen(pt));
	assert_memory_equal(out, pt, outlen);
	free(out);
	free(s1);
	free(s2);
}

/* test_seal_empty - an empty value seals too */
static void test_seal_empty(void **state)
{
	uint8_t *s, *out;
	size_t l, outlen;

	assert_int_equal(crypto_seal(key, "", 0, NULL, 0, &s, &l), 0);
	assert_int_equal(crypto_open(key, s, l, NULL, 0, &out, &outlen), 0);
	assert_int_equal(outlen, 0);
	free(out);
	free(s);
}

/* test_tamper - a flipped bit anywhere, another AAD or key, or truncation fail */
static void test_tamper(void **state)
{
	uint8_t *s, *out, other[CRYPTO_KEY_LEN];
	size_t l, outlen;

	assert_int_equal(crypto_seal(key, "secret", 6, "a", 1, &s, &l), 0);
	for (size_t i = 0; i < l; i++) {
		s[i] ^= 0x01;
		assert_int_equal(crypto_open(key, s, l, "a", 1, &out, &outlen), -1);
		s[i] ^= 0x01;
	}
	assert_int_equal(crypto_open(key, s, l, "b", 1, &out, &outlen), -1);
	assert_int_equal(crypto_open(key, s, l - 1, "a", 1, &out, &outlen), -1);
	assert_int_equal(crypto_open(key, s, 5, "a", 1, &out, &outlen), -1);
	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	assert_int_equal(crypto_open(other, s, l, "a", 1, &out, &outlen), -1);
	free(s);
}

/* test_scrypt_verify - the right password matches, others do not */
static void test_scrypt_verify(void **state)
{
	uint8_t salt[16] = "saltsaltsaltsalt", hash[CRYPTO_SCRYPT_LEN];

	assert_int_equal(crypto_scrypt("hunter2", salt, sizeof(salt), hash), 0);
	assert_int_equal(crypto_scrypt_verify("hunter2", salt, sizeof(salt), hash, sizeof(hash)), 1);
	assert_int_equal(crypto_scrypt_verify("hunter3", salt, sizeof(salt), hash, sizeof(hash)), 0);
	assert_int_equal(crypto_scrypt_verify("hunter2", salt, 15, hash, sizeof(hash)), 0);
	assert_int_equal(crypto_scrypt_verify("hunter2", salt, sizeof(salt), hash, 31), 0);
}

/* test_key_file - created 0600 in a 0700 dir, and read back identically */
static void test_key_file(void **state)
{
	char dir[] = "/tmp/test_crypto.XXXXXX", path[256];
	uint8_t k1[CRYPTO_KEY_LEN], k2[CRYPTO_KEY_LEN];
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/master.key", dir);
	assert_int_equal(crypto_key_load_or_create(path, k1), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, CRYPTO_KEY_LEN);
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/sub/master.key", dir);
	assert_int_equal(crypto_key_load_or_create(path, k2), 0);
	assert_memory_equal(k1, k2, CRYPTO_KEY_LEN);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

/* test_key_file_bad_size - a truncated key file is refused, not replaced */
static void test_key_file_bad_size(void **state)
{
	char path[] = "/tmp/test_crypto_key.XXXXXX";
	uint8_t k[CRYPTO_KEY_LEN];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "short", 5), 5);
	close(fd);
	assert_int_equal(crypto_key_load_or_create(path, k), -1);
	unlink(path);
}

/* test_token - length and alphabet */
static void test_token(void **state)
{
	char t1[33], t2[33];

	crypto_token(t1, sizeof(t1));
	crypto_token(t2, sizeof(t2));
	assert_int_equal(strlen(t1), 32);
	assert_string_not_equal(t1, t2);
	for (size_t i = 0; i < 32; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", t1[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_round_trip),
		cmocka_unit_test(test_seal_empty),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_scrypt_verify),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_key_file_bad_size),
		cmocka_unit_test(test_token),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
