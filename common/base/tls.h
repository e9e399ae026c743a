/*
 * tls - OpenSSL contexts for every process that speaks TLS.
 *
 * Server contexts: TLS 1.2 minimum (1.0/1.1 refused), groups X25519:P-256
 * (an ECDSA P-256 certificate needs P-256 offered), session cache on, no
 * renegotiation. Client contexts (relay): opportunistic by default (no
 * certificate check), or verifying against a CA file.
 *
 * tls_selfsigned_ensure creates an ECDSA P-256 key and a self-signed
 * certificate (mode 0600 key) when the files do not exist: the embedded
 * default config's first start.
 */
#ifndef PH_TLS_H
#define PH_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>

struct ph_config;

/* tls_files - [tls] cert_file, key_file (defaults ${data_dir}/tls/cert.pem and
 * key.pem) and hostname (the name in a generated certificate, default
 * "posthaste.localdomain"); shared by every TLS server. */
struct tls_files {
	char *cert;
	char *key;
	char *hostname;
};
int tls_config(const struct ph_config *cfg, struct tls_files *files, char **err);

/* tls_selfsigned_ensure - create CERT/KEY for HOSTNAME unless both exist. 0 or -1 */
int tls_selfsigned_ensure(const char *cert_path, const char *key_path, const char *hostname);
/* tls_server_ctx - NULL (logged) when the files cannot be loaded */
SSL_CTX *tls_server_ctx(const char *cert_path, const char *key_path);
/* tls_client_ctx - CA_FILE NULL: no verification (opportunistic TLS) */
SSL_CTX *tls_client_ctx(const char *ca_file);
/* tls_describe - "TLSv1.3 TLS_AES_256_GCM_SHA384" of an established SSL */
const char *tls_version_name(const SSL *ssl);
const char *tls_cipher_name(const SSL *ssl);

/* ---- the client side of an SMTP connection (ph-relay, ph-load) ---- */
struct bufferevent;
struct event_base;

/* tls_verify_ctx - a client context that verifies peers against
 * CA_FILE ("" = the system's store); NULL when it cannot be loaded */
SSL_CTX *tls_verify_ctx(const char *ca_file);
/* tls_client_start - wrap UNDER (taken) in a TLS client filter for SNI name
 * HOST (checked against the certificate when VERIFY_HOST); NULL on failure
 * (UNDER is then still the caller's) */
struct bufferevent *tls_client_start(struct event_base *base,
    struct bufferevent *under, SSL_CTX *ctx, const char *host, bool verify_host);
/* tls_session_info - protocol version and cipher of an established TLS bev */
void tls_session_info(struct bufferevent *bev, char *version, size_t vlen,
    char *cipher, size_t clen);
/* tls_handshake_error - why the handshake of BEV failed, as text (the
 * certificate check's verdict when that was the reason) */
void tls_handshake_error(struct bufferevent *bev, char *out, size_t len);

#endif
