/*
 * smtp_authz - approved-sender refusals of ph-smtpd: the reply and the
 * auth-failure count (the check itself is the pipeline's).
 *
 * The null sender (MAIL FROM:<>) is never an approved sender: it is refused
 * as "535 Authorization failed: address <> not authorized". A header From
 * without any parseable mailbox is refused with its raw value.
 *
 * DIAGNOSTICS: refusals at info level ("smtp session <id> authz ...").
 */
#include <stdio.h>

#include "log.h"
#include "smtp_auth.h"
#include "smtp_authz.h"
#include "smtp_session.h"
#include "smtp_tx.h"
#include "smtpd.h"
#include "submit.h"

/* smtp_authz_allowed - the pipeline's sender check for S's identity */
bool
smtp_authz_allowed(const struct smtp_session *s, const char *addr)
{
	struct submit_ident who = smtp_tx_ident(s);

	return submit_sender_check(s->sd->submit, &who, addr, NULL, 0) == 0;
}

/* smtp_authz_reply - the 535 (the pipeline's text) or 421 for the refused
 * address */
static void
smtp_authz_reply(const struct smtp_session *s, bool over, char *buf, size_t len)
{
	struct submit_result r = { .outcome = SUBMIT_NOT_AUTHORIZED, .address = s->authz_addr };

	if (over)
		snprintf(buf, len, "421 Too many auth failures, try again later");
	else
		submit_status(&r, buf, len);
}

/* smtp_authz_answer - the failure was counted: the 535, or the 421 and
 * the end of the session, into REPLY (LEN bytes) and to the client */
static void
smtp_authz_answer(struct smtp_session *s, bool over, char *reply, size_t len)
{
	smtp_authz_reply(s, over, reply, len);
	smtp_reply(s, "%s", reply);
	if (over)
		smtp_session_close(s);
}

/* smtp_authz_mail_done - the answer to MAIL, logged; then the next command */
static void
smtp_authz_mail_done(struct smtp_session *s, bool over)
{
	char reply[ADDR_MAX + 64];

	smtp_authz_answer(s, over, reply, sizeof(reply));
	smtp_log_rcpt(s, NULL, s->authz_addr, reply, "Authorization failure");
	smtp_session_resume(s);
}

/* smtp_authz_refuse_mail - count, then reply */
void
smtp_authz_refuse_mail(struct smtp_session *s, const char *addr)
{
	snprintf(s->authz_addr, sizeof(s->authz_addr), "%s", addr);
	log_info("smtp session %016llx authz: %s may not send as <%s>",
	    (unsigned long long)s->id, s->ip, addr);
	smtp_authfail_record(s, smtp_authz_mail_done);
}

/* smtp_authz_data_done - the answer to DATA (the pipeline logged the
 * refusal); the transaction ends */
static void
smtp_authz_data_done(struct smtp_session *s, bool over)
{
	char reply[ADDR_MAX + 64];

	smtp_authz_answer(s, over, reply, sizeof(reply));
	smtp_session_tx_done(s);
}

/* smtp_authz_refuse_data - count, then reply */
void
smtp_authz_refuse_data(struct smtp_session *s, const char *addr)
{
	snprintf(s->authz_addr, sizeof(s->authz_addr), "%s", addr);
	log_info("smtp session %016llx authz: %s may not send with From %s",
	    (unsigned long long)s->id, s->ip, s->authz_addr);
	smtp_authfail_record(s, smtp_authz_data_done);
}
