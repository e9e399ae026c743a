/*
 * dkim_bench - DKIM signatures per second on one core (frontend/submit/dkim_sign):
 * RSA-2048 and Ed25519 keys, 1 KiB and 100 KiB messages, each case run for
 * SECONDS (argument, default 2) through one signer, as ph-smtpd does (the
 * key parsed once, then cached). Not a test: nothing here passes or fails.
 *
 * usage: dkim_bench [SECONDS]
 *
 * DIAGNOSTICS: a signing failure is fatal (exit 1, reason on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "clock.h"
#include "dkim_sign.h"

#define LINE "The quick brown fox jumps over the lazy dog,  again\tand again.\r\n"

/* key_pem - a fresh key of TYPE ("RSA" 2048 bits, or "ED25519") as PEM */
static char *key_pem(const char *type)
{
	EVP_PKEY *pk = strcmp(type, "RSA") == 0 ?
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) :
	    EVP_PKEY_Q_keygen(NULL, NULL, type);
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (pk != NULL && bio != NULL &&
	    PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0)
		out = strndup(data, (size_t)n);
	BIO_free(bio);
	EVP_PKEY_free(pk);
	return out;
}

/* message - a header and a body of about SIZE bytes, malloc'd */
static char *message(size_t size)
{
	static const char head[] = "From: Bench <bench@source.test>\r\n"
	    "To: rcpt@dest.test\r\nSubject: dkim bench\r\n"
	    "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@source.test>\r\n\r\n";
	size_t lines = size / (sizeof(LINE) - 1) + 1;
	char *m = malloc(sizeof(head) + lines * (sizeof(LINE) - 1)), *p;

	if (m == NULL)
		return NULL;
	p = m + strlen(strcpy(m, head));
	for (; lines > 0; lines--, p += sizeof(LINE) - 1)
		memcpy(p, LINE, sizeof(LINE));
	return m;
}

/* run - signatures per second of MSG with PEM for SECONDS */
static double run(struct dkim_signer *s, const char *pem, const char *msg,
    unsigned seconds)
{
	uint64_t t0 = clock_mono_ms(), t;
	size_t len = strlen(msg), n = 0;
	char err[256], *hdr;

	do {
		for (int i = 0; i < 50; i++, n++) {
			if (dkim_sign_message(s, "bench", "source.test", "s1", pem,
			    (const uint8_t *)msg, len, &hdr, err, sizeof(err)) == -1) {
				fprintf(stderr, "dkim_bench: %s\n", err);
				exit(1);
			}
			free(hdr);
		}
		t = clock_mono_ms() - t0;
	} while (t < seconds * 1000u);
	return (double)n * 1000.0 / (double)t;
}

int main(int argc, char **argv)
{
	static const char *const types[] = { "RSA", "ED25519" };
	static const size_t sizes[] = { 1024, 100 * 1024 };
	unsigned seconds = argc > 1 ? (unsigned)atoi(argv[1]) : 2;
	struct dkim_signer *s = dkim_signer_new();

	printf("%-8s %9s %14s\n", "key", "message", "signatures/s");
	for (size_t k = 0; k < 2; k++) {
		char *pem = key_pem(types[k]);

		for (size_t z = 0; z < 2 && pem != NULL; z++) {
			char *msg = message(sizes[z]);

			if (msg == NULL)
				return 1;
			printf("%-8s %6zu KiB %14.0f\n", k == 0 ? "RSA-2048" : "Ed25519",
			    sizes[z] / 1024, run(s, pem, msg, seconds == 0 ? 1 : seconds));
			fflush(stdout);
			free(msg);
		}
		free(pem);
	}
	dkim_signer_free(s);
	return 0;
}
