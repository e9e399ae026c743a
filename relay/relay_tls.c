/*
 * relay_tls - OpenSSL client side of STARTTLS for ph-relay through libevent's
 * OpenSSL filter bufferevents. Opportunistic: any certificate is accepted;
 * the negotiated version and cipher are recorded with each delivery.
 *
 * DIAGNOSTICS: a context that cannot be created disables STARTTLS (the caller
 * warns); handshake failures are reported to the session.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include "relay_tls.h"

/* relay_tls_start - begin the client handshake over UNDER */
struct bufferevent *relay_tls_start(struct event_base *base,
    struct bufferevent *under, SSL_CTX *ctx, const char *host)
{
	struct bufferevent *bev;
	SSL *ssl = SSL_new(ctx);

	if (!ssl)
		return NULL;
	if (host && host[0] && strchr(host, '.') && !strchr(host, ':'))
		SSL_set_tlsext_host_name(ssl, host);
	bev = bufferevent_openssl_filter_new(base, under, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		SSL_free(ssl);
	return bev;
}

/* relay_tls_info - "TLSv1.3", "TLS_AES_256_GCM_SHA384" */
void relay_tls_info(struct bufferevent *bev, char *version, size_t vlen,
    char *cipher, size_t clen)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	snprintf(version, vlen, "%s", ssl ? SSL_get_version(ssl) : "");
	snprintf(cipher, clen, "%s", ssl ? SSL_get_cipher_name(ssl) : "");
}

/* relay_tls_error - describe why the handshake failed */
void relay_tls_error(struct bufferevent *bev, char *out, size_t len)
{
	unsigned long e = bufferevent_get_openssl_error(bev);

	if (e)
		ERR_error_string_n(e, out, len);
	else
		snprintf(out, len, "TLS handshake failed");
}
