/*
 * smtp_authz - may this session send as this address? The envelope sender
 * (MAIL FROM) and every mailbox of the header From must be approved senders
 * (policy_sender) of the session's tenant, in a compartment the
 * authenticated user may use (any compartment of the trusted tenant for a
 * trusted-network client). A refusal is "535 Authorization failed: address
 * <address> not authorized", counted as an auth failure of the client IP
 * (421 Too many auth failures once over the limit) and logged with
 * errorType "Authorization failure".
 */
#ifndef SMTP_AUTHZ_H
#define SMTP_AUTHZ_H

#include <stdbool.h>

struct smtp_session;

/* smtp_authz_allowed - ADDR is an approved sender for S */
bool smtp_authz_allowed(const struct smtp_session *s, const char *addr);
/* smtp_authz_refuse_mail - MAIL FROM:<ADDR> is not allowed: count, log,
 * reply (the session is paused meanwhile) */
void smtp_authz_refuse_mail(struct smtp_session *s, const char *addr);
/* smtp_authz_header_from - at the end of DATA: 0 when every From mailbox is
 * allowed; -1 when one is not (the refusal then finishes the transaction
 * with smtp_commit_finish once the failure was counted) */
int smtp_authz_header_from(struct smtp_session *s);

#endif
