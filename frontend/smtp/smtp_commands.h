/*
 * smtp_commands - the SMTP command table and its check/proceed functions.
 * check_* only validates and replies; proceed_* changes state (STYLE 16).
 */
#ifndef SMTP_COMMANDS_H
#define SMTP_COMMANDS_H

#include <stddef.h>

struct smtp_session;

/* smtp_command - dispatch one command line (line end removed) */
void smtp_command(struct smtp_session *s, const char *line, size_t len);

#endif
