/*
 * test_http_auth - frontend/http/http_auth.c: OCI request signatures as the
 * SDKs make them (the signing string, the Authorization header, the signed
 * header set, the body hash, the date skew) against a static policy replica
 * holding one API key whose fingerprint ph-control computed
 * (control_apikey_fingerprint, checked here against OpenSSL's MD5 of the DER
 * public key).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "control.h"
#include "http_auth.h"
#include "http_call.h"
#include "policy.h"

#define NOW_S 1700000000LL	/* Tue, 14 Nov 2023 22:13:20 GMT */
#define DATE "Tue, 14 Nov 2023 22:13:20 GMT"
#define TARGET "/20220926/actions/submitEmail?x=1"
#define BODY "{\"subject\":\"hi\"}"

struct fx {
	EVP_PKEY *key;
	char pub[1024];
	char fp[48];
	char key_id[256];
	struct policy *pol;
	/* the request */
	const char *names[16], *values[16];
	size_t nh;
	char auth[2048];
};

/* fx_header - http_sig_input's look-up in the fixture's headers */
static const char *fx_header(void *arg, const char *name)
{
	struct fx *f = arg;

	for (size_t i = 0; i < f->nh; i++)
		if (strcasecmp(f->names[i], name) == 0)
			return f->values[i];
	return NULL;
}

static void fx_set(struct fx *f, const char *name, const char *value)
{
	f->names[f->nh] = name;
	f->values[f->nh++] = value;
}

/* fx_sign - the Authorization header over TEXT, listing HEADERS */
static void fx_sign(struct fx *f, const char *headers, const char *text)
{
	unsigned char sig[512];
	char b64[1024];
	size_t len = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, f->key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &len, (const unsigned char *)text,
	    strlen(text)), 1);
	EVP_MD_CTX_free(md);
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)len);
	snprintf(f->auth, sizeof(f->auth), "Signature version=\"1\",keyId=\"%s\","
	    "algorithm=\"rsa-sha256\",headers=\"%s\",signature=\"%s\"", f->key_id, headers, b64);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	Ph__ApiKey k = PH__API_KEY__INIT;
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT, *objs[1] = { &o };
	Ph__PolicySnapshot snap = PH__POLICY_SNAPSHOT__INIT;
	BIO *bio = BIO_new(BIO_s_mem());
	int n;

	f->key = EVP_RSA_gen(2048);
	assert_non_null(f->key);
	PEM_write_bio_PUBKEY(bio, f->key);
	n = BIO_read(bio, f->pub, sizeof(f->pub) - 1);
	f->pub[n] = '\0';
	BIO_free(bio);
	assert_int_equal(control_apikey_fingerprint(f->pub, f->fp), 0);
	snprintf(f->key_id, sizeof(f->key_id), "ocid1.tenancy.t/ocid1.user.u/%s", f->fp);
	k.id = "k1";
	k.tenant_id = "ocid1.tenancy.t";
	k.user_id = "ocid1.user.u";
	k.fingerprint = f->fp;
	k.public_key_pem = f->pub;
	o.obj_case = PH__POLICY_OBJECT__OBJ_API_KEY;
	o.api_key = &k;
	snap.n_objects = 1;
	snap.objects = objs;
	f->pol = policy_new_static(&snap);
	assert_non_null(f->pol);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	policy_free(f->pol);
	EVP_PKEY_free(f->key);
	free(f);
	return 0;
}

/* body_request - a signed POST as the SDKs send it (BODY_SHA is the
 * x-content-sha256 header sent) */
static void body_request(struct fx *f, const char *date, const char *body_sha)
{
	char text[2048];

	f->nh = 0;
	fx_set(f, "date", date);
	fx_set(f, "host", "127.0.0.1:8443");
	fx_set(f, "content-length", "16");
	fx_set(f, "content-type", "application/json");
	fx_set(f, "x-content-sha256", body_sha);
	snprintf(text, sizeof(text), "date: %s\n(request-target): post %s\nhost: 127.0.0.1:8443\n"
	    "content-length: 16\ncontent-type: application/json\nx-content-sha256: %s",
	    date, TARGET, body_sha);
	fx_sign(f, "date (request-target) host content-length content-type x-content-sha256",
	    text);
	fx_set(f, "authorization", f->auth);
}

static const char *body_sha(void)
{
	static char b64[64];
	unsigned char md[32];

	EVP_Digest(BODY, strlen(BODY), md, NULL, EVP_sha256(), NULL);
	EVP_EncodeBlock((unsigned char *)b64, md, 32);
	return b64;
}

/* verify - http_auth_verify of the fixture's request at NOW_S + OFFSET */
static int verify(struct fx *f, const char *method, const char *body, long long offset,
    struct http_principal *who, const char **why)
{
	struct http_sig_input in = {
		.method = method, .target = TARGET, .header = fx_header, .arg = f,
		.body = (const unsigned char *)body, .body_len = strlen(body),
		.sign_body = strcmp(method, "POST") == 0,
		.now_ms = (uint64_t)(NOW_S + offset) * 1000, .skew_ms = 300000,
	};

	*why = NULL;
	return http_auth_verify(f->pol, &in, who, why);
}

/* the fingerprint: colon-separated lowercase MD5 of the DER public key */
static void test_fingerprint(void **state)
{
	struct fx *f = *state;
	unsigned char *der = NULL, md[16];
	int len = i2d_PUBKEY(f->key, &der);
	char want[48];

	EVP_Digest(der, (size_t)len, md, NULL, EVP_md5(), NULL);
	OPENSSL_free(der);
	for (int i = 0; i < 16; i++)
		snprintf(want + 3 * i, sizeof(want) - 3 * (size_t)i, "%02x%s", md[i],
		    i < 15 ? ":" : "");
	assert_string_equal(f->fp, want);
}

/* a POST signed as the SDKs sign it verifies and names the principal */
static void test_post_verifies(void **state)
{
	struct fx *f = *state;
	struct http_principal who;
	const char *why;

	body_request(f, DATE, body_sha());
	assert_int_equal(verify(f, "POST", BODY, 0, &who, &why), 0);
	assert_string_equal(who.tenant_id, "ocid1.tenancy.t");
	assert_string_equal(who.user_id, "ocid1.user.u");
}

/* a GET signs date, (request-target) and host only */
static void test_get_verifies(void **state)
{
	struct fx *f = *state;
	struct http_principal who;
	const char *why;
	char text[512];

	f->nh = 0;
	fx_set(f, "date", DATE);
	fx_set(f, "host", "h");
	snprintf(text, sizeof(text), "date: %s\n(request-target): get %s\nhost: h", DATE, TARGET);
	fx_sign(f, "date (request-target) host", text);
	fx_set(f, "authorization", f->auth);
	assert_int_equal(verify(f, "GET", "", 0, &who, &why), 0);
	/* the method is part of the signing string */
	assert_int_equal(verify(f, "DELETE", "", 0, &who, &why), -1);
	assert_string_equal(why, "signature does not verify");
}

/* the date may be 5 minutes off either way, not more */
static void test_date_skew(void **state)
{
	struct fx *f = *state;
	struct http_principal who;
	const long long offsets[] = { -300, 300, -301, 301, 86400 };
	const int want[] = { 0, 0, -1, -1, -1 };
	const char *why;

	body_request(f, DATE, body_sha());
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		int got = verify(f, "POST", BODY, offsets[i], &who, &why);
		if (got != want[i])
			fail_msg("offset %lld: got %d, want %d", offsets[i], got, want[i]);
	}
	assert_string_equal(why, "date missing or too far from the current time");
	body_request(f, "Tue, 14 Nov 2023 22:13:20", body_sha());	/* no zone */
	assert_int_equal(verify(f, "POST", BODY, 0, &who, &why), -1);
}

/* the body must match x-content-sha256 and content-length */
static void test_body_hash(void **state)
{
	struct fx *f = *state;
	struct http_principal who;
	const char *why;

	body_request(f, DATE, body_sha());
	assert_int_equal(verify(f, "POST", "{\"subject\":\"ho\"}", 0, &who, &why), -1);
	assert_string_equal(why, "body does not match x-content-sha256 or content-length");
	assert_int_equal(verify(f, "POST", BODY " ", 0, &who, &why), -1);
}

struct auth_case {
	const char *auth;
	const char *why;
};

/* malformed or incomplete Authorization headers */
static void test_authorization_header(void **state)
{
	struct fx *f = *state;
	struct http_principal who;
	char unknown[2048], partial[2048], alg[2048];
	const char *why;
	const struct auth_case cases[] = {
		{ "Basic dXNlcjpwYXNz", "no or malformed Authorization header" },
		{ "Signature keyId=\"a\",headers=\"date\"", "no or malformed Authorization header" },
		{ "Signature keyId=a,headers=\"date\",signature=\"x\"",
		  "no or malformed Authorization header" },
		{ "Signature keyId=\"a/b/c\",headers=\"date\",signature=\"x",
		  "no or malformed Authorization header" },
		{ unknown, "unknown keyId" },
		{ partial, "the body must be signed" },
		{ alg, "unsupported algorithm" },
	};

	snprintf(unknown, sizeof(unknown), "Signature keyId=\"t/u/00:11\",headers=\"date "
	    "(request-target) host\",signature=\"AAAA\"");
	snprintf(partial, sizeof(partial), "Signature keyId=\"%s\",headers=\"date "
	    "(request-target) host\",signature=\"AAAA\"", f->key_id);
	snprintf(alg, sizeof(alg), "Signature keyId=\"%s\",algorithm=\"hmac-sha256\","
	    "headers=\"date (request-target) host\",signature=\"AAAA\"", f->key_id);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		body_request(f, DATE, body_sha());
		f->values[f->nh - 1] = cases[i].auth;
		assert_int_equal(verify(f, "POST", BODY, 0, &who, &why), -1);
		if (strcmp(why, cases[i].why) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, why, cases[i].why);
	}
}

/* a header listed as signed but absent fails */
static void test_signed_header_missing(void **state)
{
	struct fx *f = *state;
	struct http_principal who;
	const char *why;

	body_request(f, DATE, body_sha());
	f->names[1] = "x-host";		/* "host" is listed but gone */
	assert_int_equal(verify(f, "POST", BODY, 0, &who, &why), -1);
	assert_string_equal(why, "a signed header is missing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_post_verifies),
		cmocka_unit_test(test_get_verifies),
		cmocka_unit_test(test_date_skew),
		cmocka_unit_test(test_body_hash),
		cmocka_unit_test(test_authorization_header),
		cmocka_unit_test(test_signed_header_missing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
