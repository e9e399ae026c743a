/*
 * tls - OpenSSL 3 contexts and the first-start self-signed certificate.
 *
 * DIAGNOSTICS: failures are logged with OpenSSL's error queue and returned
 * (NULL / -1); the caller decides whether a missing TLS context is fatal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "config.h"
#include "fsdir.h"
#include "log.h"
#include "tls.h"

int
tls_config(const struct ph_config *cfg, struct tls_files *files, char **err)
{
	const struct config_row rows[] = {
		{ "cert_file", CFG_STR, 0, -1, "${data_dir}/tls/cert.pem", &files->cert },
		{ "key_file", CFG_STR, 0, -1, "${data_dir}/tls/key.pem", &files->key },
		{ "hostname", CFG_STR, 0, -1, "posthaste.localdomain", &files->hostname },
		{ NULL, 0, 0, 0, NULL, NULL },
	};
	memset(files, 0, sizeof(*files));
	return config_apply(cfg, "tls", rows, err);
}

static void
tls_log_errors(const char *what)
{
	unsigned long e;
	char buf[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_warnx("%s: %s", what, buf);
	}
}

/* tls_make_cert - a self-signed X.509 v3 certificate for HOSTNAME, 10 years */
static X509 *
tls_make_cert(EVP_PKEY *key, const char *hostname)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	char san[300];

	if (x == NULL)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"posthaste", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)hostname, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	snprintf(san, sizeof(san), "DNS:%s,DNS:localhost,IP:127.0.0.1", hostname);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	if (ext != NULL) {
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (X509_sign(x, key, EVP_sha256()) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int
tls_write_pem(const char *path, int mode, int (*write)(FILE *, void *), void *obj)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f;
	int ok;

	if (fd < 0) {
		log_warn("%s", path);
		return -1;
	}
	f = fdopen(fd, "w");
	ok = f != NULL && write(f, obj);
	if (f == NULL || fclose(f) != 0 || !ok) {
		log_warnx("cannot write %s", path);
		return -1;
	}
	return 0;
}

static int
tls_write_key(FILE *f, void *key)
{
	return PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
}

static int
tls_write_cert(FILE *f, void *x)
{
	return PEM_write_X509(f, x);
}

int
tls_selfsigned_ensure(const char *cert_path, const char *key_path, const char *hostname)
{
	EVP_PKEY *key;
	X509 *x;
	int rc = -1;

	if (access(cert_path, R_OK) == 0 && access(key_path, R_OK) == 0)
		return 0;
	if (fsdir_make_for(key_path, 0700) < 0 || fsdir_make_for(cert_path, 0700) < 0)
		log_warn("cannot create the directory of %s or %s", key_path, cert_path);
	key = EVP_EC_gen("P-256");
	if (key == NULL) {
		tls_log_errors("EC key generation");
		return -1;
	}
	x = tls_make_cert(key, hostname);
	if (x == NULL) {
		tls_log_errors("self-signed certificate");
		goto error;
	}
	if (tls_write_pem(key_path, 0600, tls_write_key, key) == 0 &&
	    tls_write_pem(cert_path, 0644, tls_write_cert, x) == 0) {
		log_info("created a self-signed certificate for %s in %s", hostname, cert_path);
		rc = 0;
	}
	X509_free(x);
error:
	EVP_PKEY_free(key);
	return rc;
}

/* tls_ctx_common - protocol floor, groups and options for both sides */
static void
tls_ctx_common(SSL_CTX *ctx)
{
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384");
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
}

SSL_CTX *
tls_server_ctx(const char *cert_path, const char *key_path)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		tls_log_errors("SSL_CTX_new");
		return NULL;
	}
	tls_ctx_common(ctx);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"posthaste", 9);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tls_log_errors(cert_path);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL_CTX *
tls_client_ctx(const char *ca_file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		tls_log_errors("SSL_CTX_new");
		return NULL;
	}
	tls_ctx_common(ctx);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
	if (ca_file != NULL && ca_file[0] != '\0') {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
			tls_log_errors(ca_file);
			SSL_CTX_free(ctx);
			return NULL;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	return ctx;
}

const char *
tls_version_name(const SSL *ssl)
{
	return SSL_get_version(ssl);
}

const char *
tls_cipher_name(const SSL *ssl)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	return c ? SSL_CIPHER_standard_name(c) : "";
}

/* tls_verify_ctx - a verifying client context */
SSL_CTX *tls_verify_ctx(const char *ca_file)
{
	SSL_CTX *ctx;

	if (ca_file && ca_file[0])
		return tls_client_ctx(ca_file);
	if (!(ctx = tls_client_ctx(NULL)))
		return NULL;
	if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

/* tls_client_start - begin the client handshake over UNDER */
struct bufferevent *tls_client_start(struct event_base *base,
    struct bufferevent *under, SSL_CTX *ctx, const char *host, bool verify_host)
{
	struct bufferevent *bev;
	SSL *ssl = SSL_new(ctx);

	if (!ssl)
		return NULL;
	if (host && host[0] && strchr(host, '.') && !strchr(host, ':'))
		SSL_set_tlsext_host_name(ssl, host);
	if (verify_host && SSL_set1_host(ssl, host) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	bev = bufferevent_openssl_filter_new(base, under, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		SSL_free(ssl);
	return bev;
}

/* tls_session_info - "TLSv1.3", "TLS_AES_256_GCM_SHA384" */
void tls_session_info(struct bufferevent *bev, char *version, size_t vlen,
    char *cipher, size_t clen)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	snprintf(version, vlen, "%s", ssl ? tls_version_name(ssl) : "");
	snprintf(cipher, clen, "%s", ssl ? tls_cipher_name(ssl) : "");
}

/* tls_handshake_error - describe why the handshake failed */
void tls_handshake_error(struct bufferevent *bev, char *out, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	unsigned long e = bufferevent_get_openssl_error(bev);
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (vr != X509_V_OK)
		snprintf(out, len, "Server certificate not verified: %s",
		    X509_verify_cert_error_string(vr));
	else if (e)
		ERR_error_string_n(e, out, len);
	else
		snprintf(out, len, "TLS handshake failed");
}
