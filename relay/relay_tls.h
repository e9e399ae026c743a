/*
 * relay_tls - the STARTTLS upgrade of an SMTP client connection (the
 * context comes from common/tls.h: opportunistic, like Postfix's
 * smtp_tls_security_level = may, no certificate check).
 */
#ifndef PH_RELAY_TLS_H
#define PH_RELAY_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

struct bufferevent;
struct event_base;

/* relay_tls_start - wrap UNDER (taken) in a TLS client filter for SNI name
 * HOST; NULL on failure (UNDER is then still the caller's) */
struct bufferevent *relay_tls_start(struct event_base *base,
    struct bufferevent *under, SSL_CTX *ctx, const char *host);
/* relay_tls_info - protocol version and cipher of an established TLS bev */
void relay_tls_info(struct bufferevent *bev, char *version, size_t vlen,
    char *cipher, size_t clen);
/* relay_tls_error - the last TLS error of BEV as text */
void relay_tls_error(struct bufferevent *bev, char *out, size_t len);

#endif
