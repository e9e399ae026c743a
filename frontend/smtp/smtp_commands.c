/*
 * smtp_commands - the SMTP command table: for each verb the states it is
 * allowed in, the reply when it comes out of sequence, what it needs (a
 * greeting, the policy replica, an identity), and its check and proceed
 * functions.
 *
 * Order of the checks for one command: greeting (503), policy replica ready
 * (421 4.4.0, then close), identity (535 Authentication required: neither a
 * trusted client on the relay port nor authenticated), state (the row's
 * 503), the command's own check, then proceed.
 *
 * EHLO: STARTTLS before TLS (no AUTH: research 2.2), AUTH PLAIN LOGIN after
 * it; PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES always. MAIL FROM must
 * be an approved sender (smtp_authz), checked once the identity is known.
 *
 * Identity: a trusted client sends as the tenant [smtpd] trusted_tenant
 * (policy_tenant() by id or name). When the policy store has no such tenant,
 * the configured value itself is used as the tenant id with the default
 * limits (logged once), so a fresh installation accepts mail from localhost.
 *
 * DIAGNOSTICS: none beyond debug lines; every outcome is an SMTP reply.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "policy.h"
#include "smtp_auth.h"
#include "smtp_authz.h"
#include "smtp_cmd.h"
#include "smtp_commands.h"
#include "smtp_session.h"
#include "smtp_tx.h"
#include "smtpd.h"
#include "submit.h"
#include "submit_log.h"

#define ST(x) (1u << (x))
#define ST_GREETED (ST(STATE_HELO) | ST(STATE_MAIL) | ST(STATE_RCPT))
#define ST_PROMPT (ST(STATE_CONNECTED) | ST_GREETED)

#define F_HELO   0x1	/* needs HELO/EHLO first */
#define F_POLICY 0x2	/* needs the policy replica */
#define F_AUTH   0x4	/* needs an identity (trusted network or AUTH) */

/* smtp_cmd_ctx - what check_* found out, for proceed_* */
struct smtp_cmd_ctx {
	struct smtp_path_arg path;
	enum submit_rcpt_state rcpt_state;
};

struct smtp_command_row {
	enum smtp_verb verb;
	unsigned states;
	unsigned flags;
	const char *bad_seq;
	int (*check)(struct smtp_session *, const struct smtp_cmd *, struct smtp_cmd_ctx *);
	void (*proceed)(struct smtp_session *, const struct smtp_cmd *, struct smtp_cmd_ctx *);
};

/* smtp_drop_tx - forget the transaction (RSET, HELO): "Reset" log records */
static void
smtp_drop_tx(struct smtp_session *s)
{
	if (s->tx == NULL)
		return;
	if (s->tx->nrcpt > 0)
		smtp_tx_log(s->tx, s, "250 2.0.0 Ok", "Reset");
	smtp_tx_free(s->tx);
	s->tx = NULL;
}

/* check_arg - the command needs an argument */
static int
check_arg(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	if (*cmd->arg != '\0')
		return 0;
	smtp_reply(s, "501 5.5.4 Syntax: %s argument required", smtp_verb_name(cmd->verb));
	return -1;
}

/* check_noarg - the command takes no argument */
static int
check_noarg(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	if (*cmd->arg == '\0')
		return 0;
	smtp_reply(s, "501 5.5.4 Syntax: %s takes no argument", smtp_verb_name(cmd->verb));
	return -1;
}

/* proceed_helo - HELO/EHLO: greet, reset the transaction */
static void
proceed_helo(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	struct smtpd *sd = s->sd;

	smtp_drop_tx(s);
	snprintf(s->helo, sizeof(s->helo), "%s", cmd->arg);
	s->esmtp = cmd->verb == CMD_EHLO;
	if (!s->esmtp) {
		smtp_reply(s, "250 %s", sd->hostname);
	} else {
		smtp_reply(s, "250-%s", sd->hostname);
		if (!s->tls && sd->tls)
			smtp_reply(s, "250-STARTTLS");
		if (s->tls)
			smtp_reply(s, "250-AUTH PLAIN LOGIN");
		smtp_reply(s, "250-PIPELINING");
		smtp_reply(s, "250-SIZE %lld", sd->conf.max_message_size);
		smtp_reply(s, "250-8BITMIME");
		smtp_reply(s, "250 ENHANCEDSTATUSCODES");
	}
	smtp_enter_state(s, STATE_HELO);
}

/* smtp_resolve_tenant - the tenant of a trusted client, once per session */
static void
smtp_resolve_tenant(struct smtp_session *s)
{
	static bool warned;
	const char *name = s->sd->conf.trusted_tenant;
	const Ph__Tenant *t;

	if (s->ident.resolved || !s->ident.trusted || s->ident.authed)
		return;
	s->ident.resolved = true;
	if ((t = policy_tenant(s->sd->policy, name)) != NULL) {
		snprintf(s->ident.tenant_id, sizeof(s->ident.tenant_id), "%s", t->id);
		return;
	}
	if (!warned)
		log_warnx("trusted_tenant \"%s\" is not in the policy store; "
		    "using it as the tenant id with default limits", name);
	warned = true;
	snprintf(s->ident.tenant_id, sizeof(s->ident.tenant_id), "%s", name);
}

/* smtp_reply_path_error - the reply for a MAIL/RCPT argument error */
static void
smtp_reply_path_error(struct smtp_session *s, enum smtp_arg_error e,
    const struct smtp_path_arg *p, bool mail)
{
	switch (e) {
	case ARG_ADDRESS:
		smtp_reply(s, "553 <%s> Invalid email address", p->shown);
		break;
	case ARG_PARAM:
		smtp_reply(s, "555 5.5.4 Unsupported option");
		break;
	case ARG_PARAM_VALUE:
		smtp_reply(s, "501 5.5.4 Bad parameter value");
		break;
	default:
		smtp_reply(s, "501 5.5.4 Syntax: %s", mail ? "MAIL FROM:<address>" :
		    "RCPT TO:<address>");
		break;
	}
}

/* check_mail - path, SIZE, identity */
static int
check_mail(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	enum smtp_arg_error e = smtp_cmd_path(cmd->arg, true, &c->path);

	if (e != ARG_OK) {
		smtp_reply_path_error(s, e, &c->path, true);
		return -1;
	}
	if (c->path.size > s->sd->conf.max_message_size) {
		smtp_reply(s, "552 Exceeds byte limit");
		return -1;
	}
	smtp_resolve_tenant(s);
	if (!smtp_authz_allowed(s, c->path.addr)) {
		smtp_authz_refuse_mail(s, c->path.addr);
		return -1;
	}
	return 0;
}

/* proceed_mail - open the transaction */
static void
proceed_mail(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	if ((s->tx = smtp_tx_new(c->path.addr)) == NULL) {
		smtp_reply(s, "451 4.3.0 Server error");
		return;
	}
	smtp_reply(s, "250 2.1.0 Ok");
	smtp_enter_state(s, STATE_MAIL);
}

/* check_rcpt - path, recipient limit, suppression (the pipeline's check) */
static int
check_rcpt(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	enum smtp_arg_error e = smtp_cmd_path(cmd->arg, false, &c->path);
	struct submit_ident who = smtp_tx_ident(s);
	char status[ADDR_MAX + 64];

	if (e != ARG_OK) {
		smtp_reply_path_error(s, e, &c->path, false);
		if (e == ARG_ADDRESS) {
			snprintf(status, sizeof(status), "553 <%s> Invalid email address", c->path.shown);
			smtp_log_rcpt(s, c->path.shown, s->tx->mail_from, status,
			    "Invalid Recipient");
		}
		return -1;
	}
	if (s->tx->nrcpt >= (size_t)s->sd->conf.max_recipients) {
		smtp_reply(s, "452 4.5.3 Too many recipients");
		return -1;
	}
	c->rcpt_state = submit_rcpt_check(s->sd->submit, &who, c->path.addr);
	return 0;
}

/* proceed_rcpt - add the recipient */
static void
proceed_rcpt(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	struct submit_ident who = smtp_tx_ident(s);
	char reply[ADDR_MAX + SMTP_ID_MAX + 64];

	if (smtp_tx_add_rcpt(s->tx, c->path.addr, c->rcpt_state) < 0) {
		smtp_reply(s, "451 4.3.0 Server error");
		return;
	}
	submit_rcpt_status(&s->tx->rcpts[s->tx->nrcpt - 1], &who, reply, sizeof(reply));
	smtp_reply(s, "%s", reply);
	smtp_enter_state(s, STATE_RCPT);
}

/* proceed_data - start reading the message */
static void
proceed_data(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	if (smtp_tx_data_start(s->tx, s) < 0) {
		smtp_reply(s, "451 4.3.0 Server error");
		return;
	}
	smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	smtp_enter_state(s, STATE_DATA);
}

/* proceed_rset - drop the transaction, keep the greeting */
static void
proceed_rset(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	smtp_drop_tx(s);
	smtp_reply(s, "250 2.0.0 Ok");
	if (s->state != STATE_CONNECTED)
		smtp_enter_state(s, STATE_HELO);
}

/* proceed_noop - nothing */
static void
proceed_noop(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	smtp_reply(s, "250 2.0.0 Ok");
}

/* proceed_vrfy - we do not say which users exist */
static void
proceed_vrfy(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	smtp_reply(s, "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery");
}

/* proceed_help - the verbs */
static void
proceed_help(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	smtp_reply(s, "214 2.0.0 Commands: HELO EHLO STARTTLS AUTH MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");
}

/* check_starttls - no argument, TLS available and not active yet */
static int
check_starttls(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	if (check_noarg(s, cmd, c) < 0)
		return -1;
	if (s->tls) {
		smtp_reply(s, "554 5.5.1 Error: TLS already active");
		return -1;
	}
	if (s->sd->tls == NULL) {
		smtp_reply(s, "454 4.7.0 TLS not available due to local problem");
		return -1;
	}
	return 0;
}

/* proceed_starttls - 220, then TLS under the session (state reset) */
static void
proceed_starttls(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	smtp_reply(s, "220 Ready to start TLS");
	if (smtp_session_starttls(s) < 0)
		smtp_session_close(s);
}

/* proceed_auth - the AUTH exchange (smtp_auth) */
static void
proceed_auth(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	smtp_auth_command(s, cmd->arg);
}

/* proceed_quit - say goodbye and close */
static void
proceed_quit(struct smtp_session *s, const struct smtp_cmd *cmd, struct smtp_cmd_ctx *c)
{
	smtp_drop_tx(s);
	smtp_reply(s, "221 2.0.0 Bye");
	smtp_session_close(s);
}

static const struct smtp_command_row smtp_commands[] = {
	{ CMD_HELO, ST_PROMPT, 0, NULL, check_arg, proceed_helo },
	{ CMD_EHLO, ST_PROMPT, 0, NULL, check_arg, proceed_helo },
	{ CMD_MAIL, ST(STATE_HELO), F_HELO | F_POLICY | F_AUTH,
	    "503 5.5.1 Error: nested MAIL command", check_mail, proceed_mail },
	{ CMD_RCPT, ST(STATE_MAIL) | ST(STATE_RCPT), F_HELO | F_POLICY | F_AUTH,
	    "503 5.5.1 Error: need MAIL command", check_rcpt, proceed_rcpt },
	{ CMD_DATA, ST(STATE_RCPT), F_HELO | F_AUTH,
	    "503 Need RCPT command", check_noarg, proceed_data },
	{ CMD_RSET, ST_PROMPT, 0, NULL, check_noarg, proceed_rset },
	{ CMD_NOOP, ST_PROMPT, 0, NULL, NULL, proceed_noop },
	{ CMD_VRFY, ST_PROMPT, 0, NULL, check_arg, proceed_vrfy },
	{ CMD_HELP, ST_PROMPT, 0, NULL, NULL, proceed_help },
	{ CMD_QUIT, ST_PROMPT, 0, NULL, NULL, proceed_quit },
	{ CMD_STARTTLS, ST(STATE_CONNECTED) | ST(STATE_HELO), 0,
	    "503 5.5.1 Error: MAIL transaction in progress", check_starttls, proceed_starttls },
	{ CMD_AUTH, ST(STATE_HELO), F_HELO | F_POLICY,
	    "503 5.5.1 Error: MAIL transaction in progress", NULL, proceed_auth },
};

/* smtp_command_find - the row of VERB, NULL when it has none */
static const struct smtp_command_row *
smtp_command_find(enum smtp_verb verb)
{
	size_t i;

	for (i = 0; i < sizeof(smtp_commands) / sizeof(smtp_commands[0]); i++)
		if (smtp_commands[i].verb == verb)
			return &smtp_commands[i];
	return NULL;
}

/* smtp_command_gate - the checks common to all rows; 0 to go on */
static int
smtp_command_gate(struct smtp_session *s, const struct smtp_command_row *row)
{
	if ((row->flags & F_HELO) && s->state == STATE_CONNECTED) {
		smtp_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		return -1;
	}
	if ((row->flags & F_POLICY) && (s->sd->policy == NULL || !policy_ready(s->sd->policy))) {
		smtp_reply(s, "421 4.4.0 Problem attempting to execute commands. Please try again later");
		smtp_session_close(s);
		return -1;
	}
	if ((row->flags & F_AUTH) && !s->ident.trusted && !s->ident.authed) {
		smtp_reply(s, "535 Authentication required");
		return -1;
	}
	if (!(row->states & ST(s->state))) {
		smtp_reply(s, "%s", row->bad_seq ? row->bad_seq : "503 5.5.1 Bad sequence of commands");
		return -1;
	}
	return 0;
}

/* smtp_command - dispatch one command line */
void
smtp_command(struct smtp_session *s, const char *line, size_t len)
{
	const struct smtp_command_row *row;
	struct smtp_cmd_ctx ctx;
	struct smtp_cmd cmd;

	if (smtp_cmd_parse(line, len, &cmd) < 0) {
		smtp_reply(s, "500 5.5.2 Error: bad syntax");
		return;
	}
	log_debug("smtp session %016llx <<< %s", (unsigned long long)s->id,
	    smtp_verb_name(cmd.verb));
	if (cmd.verb == CMD_UNKNOWN) {
		smtp_reply(s, "500 5.5.1 Error: command not recognized");
		return;
	}
	if ((row = smtp_command_find(cmd.verb)) == NULL) {
		smtp_reply(s, "502 5.5.1 Error: command not implemented");
		return;
	}
	if (smtp_command_gate(s, row) < 0)
		return;
	if (row->check && row->check(s, &cmd, &ctx) < 0)
		return;
	row->proceed(s, &cmd, &ctx);
}
