/*
 * smtp_cmd - SMTP command line parser: verb recognition, argument split, and
 * the MAIL FROM / RCPT TO path with its ESMTP parameters (SIZE, BODY).
 *
 * Lenient where RFC 5321 clients commonly are sloppy: a blank after "FROM:",
 * a path without angle brackets, lower-case verbs. Strict where it matters:
 * NUL and other control characters refuse the whole line.
 *
 * DIAGNOSTICS: none; results are return values mapped to replies by the caller.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp_cmd.h"

static const struct {
	const char *name;
	enum smtp_verb verb;
} smtp_verbs[] = {
	{ "HELO", CMD_HELO }, { "EHLO", CMD_EHLO }, { "MAIL", CMD_MAIL },
	{ "RCPT", CMD_RCPT }, { "DATA", CMD_DATA }, { "RSET", CMD_RSET },
	{ "NOOP", CMD_NOOP }, { "QUIT", CMD_QUIT }, { "VRFY", CMD_VRFY },
	{ "HELP", CMD_HELP }, { "STARTTLS", CMD_STARTTLS }, { "AUTH", CMD_AUTH },
	{ "EXPN", CMD_NOTIMPL }, { "TURN", CMD_NOTIMPL }, { "ETRN", CMD_NOTIMPL },
	{ "BDAT", CMD_NOTIMPL }, { "ATRN", CMD_NOTIMPL }, { "SEND", CMD_NOTIMPL },
	{ "SOML", CMD_NOTIMPL }, { "SAML", CMD_NOTIMPL },
};

/* smtp_verb_name - for logs */
const char *
smtp_verb_name(enum smtp_verb v)
{
	static const char *names[CMD_COUNT] = {
		"UNKNOWN", "NOTIMPL", "HELO", "EHLO", "MAIL", "RCPT", "DATA",
		"RSET", "NOOP", "QUIT", "VRFY", "HELP", "STARTTLS", "AUTH",
	};

	return (unsigned)v < CMD_COUNT ? names[v] : "?";
}

/* smtp_verb_lookup - the verb of the LEN chars at S */
static enum smtp_verb
smtp_verb_lookup(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(smtp_verbs) / sizeof(smtp_verbs[0]); i++)
		if (strlen(smtp_verbs[i].name) == len &&
		    strncasecmp(smtp_verbs[i].name, s, len) == 0)
			return smtp_verbs[i].verb;
	return CMD_UNKNOWN;
}

/* smtp_cmd_parse - split LINE into verb and argument */
int
smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd)
{
	const char *p;
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 32 && line[i] != '\t')
			return -1;
	for (p = line; *p && *p != ' ' && *p != '\t'; p++)
		;
	cmd->verb = smtp_verb_lookup(line, (size_t)(p - line));
	while (*p == ' ' || *p == '\t')
		p++;
	cmd->arg = p;
	return 0;
}

/* smtp_cmd_token - copy the path token at P into SHOWN (brackets removed) and
 * into PATH (with brackets); returns what follows it or NULL */
static const char *
smtp_cmd_token(const char *p, char *shown, char *path)
{
	const char *start = p, *end;
	bool quoted = false;
	size_t len;

	for (; *p && (quoted || *start == '<' || *p != ' '); p++) {
		if (quoted && *p == '\\' && p[1])
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '>' && *start == '<') {
			p++;
			break;
		}
	}
	end = p;
	len = (size_t)(end - start);
	if (len == 0 || len > ADDR_MAX)
		return NULL;
	if (*start == '<') {
		memcpy(path, start, len);
		path[len] = '\0';
		len -= (end[-1] == '>' && len > 1) ? 2 : 1;
		memcpy(shown, start + 1, len);
	} else {
		path[0] = '<';
		memcpy(path + 1, start, len);
		memcpy(path + 1 + len, ">", 2);
		memcpy(shown, start, len);
	}
	shown[len] = '\0';
	return end;
}

/* smtp_cmd_param - one "KEY=VALUE" of MAIL into OUT */
static enum smtp_arg_error
smtp_cmd_param(const char *p, size_t len, struct smtp_path_arg *out)
{
	char *end;

	if (len > 5 && strncasecmp(p, "SIZE=", 5) == 0) {
		if (!isdigit((unsigned char)p[5]))
			return ARG_PARAM_VALUE;
		out->size = strtoll(p + 5, &end, 10);
		return (end == p + len && len - 5 <= 15) ? ARG_OK : ARG_PARAM_VALUE;
	}
	if (len > 5 && strncasecmp(p, "BODY=", 5) == 0) {
		if (len == 9 && strncasecmp(p + 5, "7BIT", 4) == 0)
			out->body = BODY_7BIT;
		else if (len == 13 && strncasecmp(p + 5, "8BITMIME", 8) == 0)
			out->body = BODY_8BITMIME;
		else
			return ARG_PARAM_VALUE;
		return ARG_OK;
	}
	return ARG_PARAM;
}

/* smtp_cmd_params - the blank-separated parameters after the path */
static enum smtp_arg_error
smtp_cmd_params(const char *p, bool mail, struct smtp_path_arg *out)
{
	enum smtp_arg_error e;
	const char *w;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return ARG_OK;
		if (!mail)
			return ARG_PARAM;
		for (w = p; *p && *p != ' '; p++)
			;
		if ((e = smtp_cmd_param(w, (size_t)(p - w), out)) != ARG_OK)
			return e;
	}
}

/* smtp_cmd_path - "FROM:<path> params" (MAIL) or "TO:<path>" (RCPT) */
enum smtp_arg_error
smtp_cmd_path(const char *arg, bool mail, struct smtp_path_arg *out)
{
	const char *kw = mail ? "FROM:" : "TO:";
	char path[ADDR_MAX + 3];
	const char *p;

	out->addr[0] = out->shown[0] = '\0';
	out->size = -1;
	out->body = BODY_7BIT;
	if (strncasecmp(arg, kw, strlen(kw)) != 0)
		return ARG_SYNTAX;
	p = arg + strlen(kw);
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return ARG_SYNTAX;
	if ((p = smtp_cmd_token(p, out->shown, path)) == NULL) {
		snprintf(out->shown, sizeof(out->shown), "%.64s", arg + strlen(kw));
		return ARG_ADDRESS;
	}
	if (addr_parse_path(path, mail, out->addr, NULL) < 0)
		return ARG_ADDRESS;
	return smtp_cmd_params(p, mail, out);
}
