/*
 * test_dkim_sign - frontend/submit/dkim_sign checked by an independent verifier:
 * libopendkim's, reading the public keys from a key file (DKIM_QUERY_FILE).
 * A matrix of messages with awkward headers and bodies, each signed with a
 * fresh RSA-2048 key and an Ed25519 key, must verify, and must stop
 * verifying once a byte is added to the body; the header carries the right
 * tags, no trace fields, lines under 78 characters; a key replaced under
 * the same id is picked up; a bad key and a message without From are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <opendkim/dkim.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "control_dkim.h"
#include "dkim_sign.h"

#define LONG_TEXT "a long  line of words, " "a long  line of words, " \
	"a long  line of words, " "a long  line of words, " "a long  line of words, " \
	"a long  line of words, " "a long  line of words, " "a long  line of words, " "end"
#define FILLER_LINE "Lorem ipsum dolor sit amet,\tconsectetur  adipiscing elit \r\n"

/* the matrix: each message is signed with both keys */
static const char *const messages[] = {
	/* 0: plain, with a trace field that must stay unsigned */
	"Received: from client.test by mx.test; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
	"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\n"
	"Subject:  hello   there\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
	"Message-ID: <1@example.com>\r\n\r\nbody line  one \r\n\r\n\r\n",
	/* 1: folded fields, tabs, WSP before the colon, odd case */
	"FROM: alice@example.com\r\nsubject :\tfolded\r\n  over\r\n\tthree lines \t\r\n"
	"To:\r\n bob@example.org,\r\n\tcarol@example.org\r\n\r\nx\r\n",
	/* 2: empty body */
	"From: alice@example.com\r\nSubject: empty\r\n\r\n",
	/* 3: no body and no empty line */
	"From: alice@example.com\r\nSubject: header only\r\n",
	/* 4: WSP before every CRLF (a body without a final CRLF is in
	 * test_dkim_canon: libopendkim refuses those with DKIM_STAT_SYNTAX) */
	"From: alice@example.com \r\nTo: b@example.org\t\r\n\r\nfirst \r\nlast\t \r\n",
	/* 5: many trailing empty and blank lines */
	"From: alice@example.com\r\n\r\ntext\r\n\r\n  \r\n\t\r\n\r\n\r\n\r\n",
	/* 6: repeated fields: two To, three Cc, two Subject */
	"From: alice@example.com\r\nTo: one@example.org\r\nCc: c1@example.org\r\n"
	"Subject: first\r\nCc: c2@example.org\r\nTo: two@example.org\r\n"
	"Subject: second\r\nCc: c3@example.org\r\n\r\nrepeated\r\n",
	/* 7: tabs and blank lines inside the body, a leading dot */
	"From: alice@example.com\r\n\r\n\tindented\t\ttext\t\r\n\r\n \r\n.dot\r\n\tend\r\n",
	/* 8: MIME, 8-bit subject, an old DKIM-Signature left unsigned */
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=old;\r\n"
	" h=From; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\n"
	"From: =?utf-8?q?Caf=C3=A9?= <alice@example.com>\r\nSubject: caf\xc3\xa9 \xe2\x82\xac\r\n"
	"MIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary=\"b1\"\r\n"
	"Content-Transfer-Encoding: 8bit\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"
	"caf\xc3\xa9\r\n--b1--\r\n",
	/* 9: a long To over many folded lines, List-* fields */
	"From: alice@example.com\r\nTo: a1@example.org, a2@example.org, a3@example.org,\r\n"
	" a4@example.org, a5@example.org, a6@example.org, a7@example.org,\r\n"
	" a8@example.org\r\nList-Id: <list.example.com>\r\n"
	"List-Unsubscribe: <mailto:u@example.com>, <https://example.com/u>\r\n"
	"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nhi\r\n",
	/* 10: empty values and a value of only WSP */
	"From: alice@example.com\r\nSubject:\r\nReply-To:   \r\nX-Other: not signed\r\n"
	"\r\n  \r\nafter a blank line\r\n",
	/* 11: a long unfolded field and a long body line */
	"From: alice@example.com\r\nSubject: " LONG_TEXT "\r\n\r\n" LONG_TEXT " \r\n",
	/* 12: enough signed fields to fold h= over lines */
	"From: a@example.com\r\nTo: x@example.org\r\nCc: y@example.org\r\nSubject: s\r\n"
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <m@example.com>\r\n"
	"MIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n"
	"List-Unsubscribe: <mailto:u@example.com>\r\n"
	"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nReply-To: r@example.com\r\n"
	"In-Reply-To: <p@example.com>\r\nReferences: <p@example.com>\r\n\r\nhi\r\n",
	/* 13: 100 KiB body: see setup() */
	NULL,
};

struct keyset {
	char *pem, *pub;
	const char *ktype;
};

static char keyfile[64];
static struct keyset rsa, ed;
static char *big;	/* message 13 */

/* keyset_make - key material from PEM (NULL = RSA-2048) */
static void keyset_make(struct keyset *k, const char *pem)
{
	char err[160];

	assert_int_equal(dkim_key_material(pem, &k->pem, &k->pub, &k->ktype, err,
	    sizeof(err)), 0);
}

/* ed25519_pem - a fresh Ed25519 private key as PEM, malloc'd */
static char *ed25519_pem(void)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_non_null(pk);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(bio, &data);
	out = strndup(data, (size_t)n);
	BIO_free(bio);
	EVP_PKEY_free(pk);
	return out;
}

/* keyfile_write - SELECTOR=KEY lines for libopendkim's file query */
static void keyfile_write(const struct keyset *const *keys, const char *const *sels,
    size_t n)
{
	FILE *f = fopen(keyfile, "w");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s._domainkey.example.com v=DKIM1; k=%s; p=%s\n", sels[i],
		    keys[i]->ktype, keys[i]->pub);
	fclose(f);
}

/* verify - DKIM_STAT of libopendkim verifying SIGNED against the key file */
static DKIM_STAT verify(const char *signed_msg, size_t len)
{
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	int method = DKIM_QUERY_FILE;
	DKIM_STAT st;
	DKIM *d;

	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &method, sizeof(method));
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO, keyfile, strlen(keyfile));
	d = dkim_verify(lib, (const unsigned char *)"t", NULL, &st);
	assert_non_null(d);
	st = dkim_chunk(d, (unsigned char *)signed_msg, len);
	if (st == DKIM_STAT_OK)
		st = dkim_chunk(d, NULL, 0);
	if (st == DKIM_STAT_OK)
		st = dkim_eom(d, NULL);
	dkim_free(d);
	dkim_close(lib);
	return st;
}

/* sign - header + MSG (malloc'd, *LEN), the header alone in *HDR */
static char *sign(struct dkim_signer *s, const char *id, const char *sel,
    const struct keyset *k, const char *msg, char **hdr, size_t *len)
{
	char err[256], *out;

	assert_int_equal(dkim_sign_message(s, id, "example.com", sel, k->pem,
	    (const uint8_t *)msg, strlen(msg), hdr, err, sizeof(err)), 0);
	*len = strlen(*hdr) + strlen(msg);
	out = malloc(*len + 2);
	strcpy(out, *hdr);
	strcat(out, msg);
	return out;
}

/* check_lines - every header line under 78 characters, folds are CRLF SP */
static void check_lines(const char *hdr)
{
	for (const char *p = hdr, *e; *p != '\0'; p = e + 2) {
		e = strstr(p, "\r\n");
		assert_non_null(e);
		assert_true(e - p < 78);
		assert_true(p == hdr || *p == ' ');
	}
}

/* check_one - MSG signed by K under SEL verifies; one more body byte breaks it */
static void check_one(struct dkim_signer *s, const char *sel, const struct keyset *k,
    const char *alg, const char *msg)
{
	char *hdr, *signed_msg;
	size_t len;

	signed_msg = sign(s, sel, sel, k, msg, &hdr, &len);
	assert_non_null(strstr(hdr, alg));
	check_lines(hdr);
	assert_int_equal(verify(signed_msg, len), DKIM_STAT_OK);
	strcat(signed_msg, "x");
	assert_int_not_equal(verify(signed_msg, len + 1), DKIM_STAT_OK);
	free(hdr);
	free(signed_msg);
}

/* test_matrix - every message, both algorithms */
static void test_matrix(void **state)
{
	struct dkim_signer *s = dkim_signer_new();

	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
		const char *m = messages[i] != NULL ? messages[i] : big;

		print_message("message %zu\n", i);
		check_one(s, "rsa1", &rsa, "a=rsa-sha256;", m);
		check_one(s, "ed1", &ed, "a=ed25519-sha256;", m);
	}
	dkim_signer_free(s);
}

/* test_tags - the tags, h= in message order with repeats, no trace field,
 * the relaxed empty-body hash, and a changed header field breaks it */
static void test_tags(void **state)
{
	struct dkim_signer *s = dkim_signer_new();
	char *hdr, *signed_msg, *p;
	size_t len;

	signed_msg = sign(s, "rsa1", "rsa1", &rsa, messages[0], &hdr, &len);
	p = "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; "
	    "s=rsa1;\r\n t=";
	assert_memory_equal(hdr, p, strlen(p));
	assert_non_null(strstr(hdr, " h=From:To:Subject:Date:Message-ID;"));
	assert_null(strstr(hdr, "Received"));
	p = strstr(signed_msg, "hello");
	p[0] = 'j';
	assert_int_not_equal(verify(signed_msg, len), DKIM_STAT_OK);
	free(hdr);
	free(signed_msg);
	signed_msg = sign(s, "rsa1", "rsa1", &rsa, messages[6], &hdr, &len);
	assert_non_null(strstr(hdr, "h=From:To:Cc:Subject:Cc:To:Subject:Cc;"));
	free(hdr);
	free(signed_msg);
	signed_msg = sign(s, "ed1", "ed1", &ed, messages[2], &hdr, &len);
	assert_non_null(strstr(hdr, "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"));
	free(hdr);
	free(signed_msg);
	dkim_signer_free(s);
}

/* test_key_replaced - a new PEM under a cached id signs with the new key */
static void test_key_replaced(void **state)
{
	struct dkim_signer *s = dkim_signer_new();
	char *hdr, *signed_msg;
	size_t len;

	signed_msg = sign(s, "same-id", "rsa1", &rsa, messages[0], &hdr, &len);
	assert_int_equal(verify(signed_msg, len), DKIM_STAT_OK);
	free(hdr);
	free(signed_msg);
	signed_msg = sign(s, "same-id", "ed1", &ed, messages[0], &hdr, &len);
	assert_non_null(strstr(hdr, "a=ed25519-sha256;"));
	assert_int_equal(verify(signed_msg, len), DKIM_STAT_OK);
	free(hdr);
	free(signed_msg);
	dkim_signer_free(s);
}

/* test_refused - not a key, no From: -1 and a reason, no header */
static void test_refused(void **state)
{
	static const char no_from[] = "To: bob@example.org\r\nSubject: x\r\n\r\nbody\r\n";
	struct dkim_signer *s = dkim_signer_new();
	char err[256], *hdr = (char *)1;

	assert_int_equal(dkim_sign_message(s, "id2", "example.com", "s1", "garbage",
	    (const uint8_t *)messages[0], strlen(messages[0]), &hdr, err, sizeof(err)), -1);
	assert_null(hdr);
	assert_string_equal(err, "key id2 is not an RSA or Ed25519 PEM key");
	assert_int_equal(dkim_sign_message(s, "id3", "example.com", "s1", rsa.pem,
	    (const uint8_t *)no_from, strlen(no_from), &hdr, err, sizeof(err)), -1);
	assert_null(hdr);
	assert_string_equal(err, "no From header field to sign");
	dkim_signer_free(s);
}

/* big_message - message 13: 100 KiB of body lines */
static char *big_message(void)
{
	static const char head[] = "From: alice@example.com\r\nSubject: big\r\n\r\n";
	size_t n = 100 * 1024 / (sizeof(FILLER_LINE) - 1) + 1;
	char *m = malloc(sizeof(head) + n * (sizeof(FILLER_LINE) - 1));

	strcpy(m, head);
	for (char *p = m + strlen(m); n > 0; n--, p += sizeof(FILLER_LINE) - 1)
		memcpy(p, FILLER_LINE, sizeof(FILLER_LINE));
	return m;
}

/* setup - both keys, one key file naming them */
static int setup(void **state)
{
	const struct keyset *keys[] = { &rsa, &ed };
	const char *sels[] = { "rsa1", "ed1" };
	char *pem = ed25519_pem();
	int fd;

	keyset_make(&rsa, NULL);
	keyset_make(&ed, pem);
	free(pem);
	snprintf(keyfile, sizeof(keyfile), "/tmp/test_dkim_sign.XXXXXX");
	if ((fd = mkstemp(keyfile)) < 0)
		return -1;
	close(fd);
	keyfile_write(keys, sels, 2);
	big = big_message();
	return 0;
}

static int teardown(void **state)
{
	unlink(keyfile);
	free(rsa.pem);
	free(rsa.pub);
	free(ed.pem);
	free(ed.pub);
	free(big);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_key_replaced),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
