/*
 * smtp_authz - may this session send as this address? The envelope sender
 * (MAIL FROM, checked at once) and every mailbox of the header From (checked
 * by the submission pipeline at the end of DATA) must be approved senders
 * of the session's tenant (submit_sender_check). A refusal is "535
 * Authorization failed: address <address> not authorized", counted as an
 * auth failure of the client IP (421 Too many auth failures once over the
 * limit) and logged with errorType "Authorization failure".
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
/* smtp_authz_refuse_data - the pipeline refused the message's sender ADDR
 * (its records are written): count, reply, end the transaction */
void smtp_authz_refuse_data(struct smtp_session *s, const char *addr);

#endif
