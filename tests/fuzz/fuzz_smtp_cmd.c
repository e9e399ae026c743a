/*
 * fuzz_smtp_cmd - libFuzzer target for the SMTP command line parser: every
 * line of the input goes through smtp_cmd_parse, MAIL/RCPT arguments through
 * smtp_cmd_path (with and without the MAIL rules), AUTH arguments through the
 * PLAIN decoder and the strict base64 decoder.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_auth.h"
#include "smtp_cmd.h"
#include "smtp_session.h"

/* fuzz_line - one command line (NUL-terminated copy of LEN bytes) */
static void
fuzz_line(const char *line, size_t len)
{
	struct smtp_path_arg path;
	struct smtp_auth_plain plain;
	unsigned char out[SMTP_LINE_MAX];
	struct smtp_cmd cmd;
	size_t n;

	if (smtp_cmd_parse(line, len, &cmd) < 0)
		return;
	if (cmd.verb == CMD_MAIL || cmd.verb == CMD_RCPT) {
		smtp_cmd_path(cmd.arg, true, &path);
		smtp_cmd_path(cmd.arg, false, &path);
	}
	if (cmd.verb == CMD_AUTH || cmd.verb == CMD_UNKNOWN) {
		smtp_auth_plain_decode(cmd.arg, &plain);
		smtp_auth_b64_decode(cmd.arg, strlen(cmd.arg), out, sizeof(out), &n);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *eol;
	char line[SMTP_LINE_MAX + 1];
	size_t len;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((eol ? eol : end) - p);
		if (len <= SMTP_LINE_MAX) {
			memcpy(line, p, len);
			if (len > 0 && line[len - 1] == '\r')
				len--;
			line[len] = '\0';
			fuzz_line(line, len);
		}
		p += len + 1;
		if (eol == NULL)
			break;
	}
	return 0;
}
