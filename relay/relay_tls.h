/*
 * relay_tls - the STARTTLS side of ph-relay: the per-domain TLS policy of
 * [relay] tls_policy ("domain=may|encrypt|verify", patterns matched like
 * routes: exact, "*.parent", "*"; default may) and the upgrade of an SMTP
 * client connection.
 *
 *   may      Postfix's smtp_tls_security_level = may: STARTTLS when
 *            offered, any certificate; a failed handshake is retried once
 *            in plain text.
 *   encrypt  TLS required (any certificate); never plain.
 *   verify   encrypt, and the chain must verify against [relay]
 *            tls_ca_file with the MX (or route) host name in the
 *            certificate (X509_VERIFY_PARAM_set1_host).
 */
#ifndef PH_RELAY_TLS_H
#define PH_RELAY_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>
#include "config.h"

struct bufferevent;
struct event_base;
struct relay_tls_policies;

enum relay_tls_level { RELAY_TLS_MAY, RELAY_TLS_ENCRYPT, RELAY_TLS_VERIFY };

const char *relay_tls_level_name(enum relay_tls_level l);
/* relay_tls_policies_parse - from "pattern=level" entries; NULL and *ERR
 * (malloc'd) for a bad entry */
struct relay_tls_policies *relay_tls_policies_parse(const struct strvec *entries,
    char **err);
void relay_tls_policies_free(struct relay_tls_policies *p);
/* relay_tls_policy - the level for mail to DOMAIN */
enum relay_tls_level relay_tls_policy(const struct relay_tls_policies *p,
    const char *domain);
/* relay_tls_policies_need_verify - some entry says verify */
bool relay_tls_policies_need_verify(const struct relay_tls_policies *p);

#endif
