/*
 * smtp_authz - approved-sender checks for MAIL FROM and the header From.
 *
 * The null sender (MAIL FROM:<>) is never an approved sender: it is refused
 * as "535 Authorization failed: address <> not authorized". A header From
 * without any parseable mailbox is a parse error (554), decided by
 * smtp_tx_data_end before this runs.
 *
 * DIAGNOSTICS: refusals at info level ("smtp session <id> authz ...").
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "policy.h"
#include "smtp_auth.h"
#include "smtp_authz.h"
#include "smtp_commit.h"
#include "smtp_session.h"
#include "smtp_tx.h"
#include "smtpd.h"

/* smtp_authz_allowed - approved sender of the tenant; user's compartments
 * when authenticated, any compartment for the trusted tenant */
bool
smtp_authz_allowed(const struct smtp_session *s, const char *addr)
{
	const Ph__User *user = NULL;

	if (addr[0] == '\0' || s->ident.tenant_id[0] == '\0')
		return false;
	if (s->ident.authed &&
	    (user = policy_user(s->sd->policy, s->ident.user_id)) == NULL)
		return false;
	return policy_sender(s->sd->policy, s->ident.tenant_id, user, addr) != NULL;
}

/* smtp_authz_reply - the 535 (or 421) text for the refused address */
static void
smtp_authz_reply(const struct smtp_session *s, bool over, char *buf, size_t len)
{
	if (over)
		snprintf(buf, len, "421 Too many auth failures, try again later");
	else
		snprintf(buf, len, "535 Authorization failed: address %s not authorized",
		    s->authz_addr[0] ? s->authz_addr : "<>");
}

/* smtp_authz_mail_done - the failure was counted: log and reply */
static void
smtp_authz_mail_done(struct smtp_session *s, bool over)
{
	char reply[ADDR_MAX + 64];

	smtp_authz_reply(s, over, reply, sizeof(reply));
	smtp_log_rcpt(s, NULL, s->authz_addr, NULL, reply, "Authorization failure");
	smtp_reply(s, "%s", reply);
	if (over)
		smtp_session_close(s);
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

/* smtp_authz_data_done - the failure was counted: end the transaction */
static void
smtp_authz_data_done(struct smtp_session *s, bool over)
{
	char reply[ADDR_MAX + 64];

	smtp_authz_reply(s, over, reply, sizeof(reply));
	if (over)
		smtp_session_close(s);
	smtp_commit_finish(s, reply, "Authorization failure");
}

/* smtp_authz_from_one - addr_list_parse callback: remember the first refusal */
static void
smtp_authz_from_one(void *arg, const char *mailbox)
{
	struct smtp_session *s = arg;

	if (s->authz_addr[0] == '\0' && !smtp_authz_allowed(s, mailbox))
		snprintf(s->authz_addr, sizeof(s->authz_addr), "%s", mailbox);
}

/* smtp_authz_header_from - every mailbox of From: */
int
smtp_authz_header_from(struct smtp_session *s)
{
	const char *from = smtp_header_get(&s->tx->hdr, HF_FROM);

	s->authz_addr[0] = '\0';
	if (addr_list_parse(from, strlen(from), smtp_authz_from_one, s) <= 0)
		snprintf(s->authz_addr, sizeof(s->authz_addr), "%.*s", ADDR_MAX, from);
	if (s->authz_addr[0] == '\0')
		return 0;
	log_info("smtp session %016llx authz: %s may not send with From %s",
	    (unsigned long long)s->id, s->ip, s->authz_addr);
	smtp_authfail_record(s, smtp_authz_data_done);
	return -1;
}
