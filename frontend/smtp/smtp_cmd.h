/*
 * smtp_cmd - the SMTP command line parser (no I/O, no state): recognises the
 * verb of one command line, splits off its argument, and parses the
 * "FROM:<path> params" / "TO:<path> params" arguments of MAIL and RCPT.
 */
#ifndef SMTP_CMD_H
#define SMTP_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include "addr.h"

enum smtp_verb {
	CMD_UNKNOWN,	/* not an SMTP verb: 500 */
	CMD_NOTIMPL,	/* a verb we know but do not implement (EXPN, TURN...): 502 */
	CMD_HELO,
	CMD_EHLO,
	CMD_MAIL,
	CMD_RCPT,
	CMD_DATA,
	CMD_RSET,
	CMD_NOOP,
	CMD_QUIT,
	CMD_VRFY,
	CMD_HELP,
	CMD_STARTTLS,
	CMD_AUTH,
	CMD_COUNT
};
const char *smtp_verb_name(enum smtp_verb v);

struct smtp_cmd {
	enum smtp_verb verb;
	const char *arg;	/* after the verb and its blanks; "" when none */
};

/* smtp_cmd_parse - LINE (NUL-terminated, CRLF or LF already removed) into CMD.
 * -1 when the line holds a NUL or a control character (LEN says where it really ends). */
int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd);

/* MAIL/RCPT argument, "FROM:<a@b> SIZE=10 BODY=8BITMIME" */
enum smtp_body_type { BODY_7BIT, BODY_8BITMIME };

struct smtp_path_arg {
	char addr[ADDR_MAX + 1];	/* the mailbox, "" for the null sender */
	char shown[ADDR_MAX + 1];	/* the path as the client wrote it, for 553 replies */
	long long size;			/* SIZE=, -1 when absent */
	enum smtp_body_type body;
};

enum smtp_arg_error {
	ARG_OK,
	ARG_SYNTAX,	/* no "FROM:"/"TO:" or no path at all: 501 5.5.4 */
	ARG_ADDRESS,	/* the path is not a valid address: 553 <shown> Invalid email address */
	ARG_PARAM,	/* unknown or unsupported parameter: 555 5.5.4 */
	ARG_PARAM_VALUE	/* SIZE=junk, BODY=junk: 501 5.5.4 */
};

/* smtp_cmd_path - parse ARG after KEYWORD ("FROM:" or "TO:"); params
 * SIZE/BODY only when MAIL. Null sender only when MAIL. */
enum smtp_arg_error smtp_cmd_path(const char *arg, bool mail, struct smtp_path_arg *out);

#endif
