/*
 * mailhdr - header block extent and field values of a stored message.
 * Lines may end in CRLF or LF; a folded field continues on lines that start
 * with a space or a tab; folding line ends are dropped (RFC 5322 2.2.3).
 *
 * DIAGNOSTICS: none; a malformed header simply has fewer fields.
 */
#include <string.h>
#include <strings.h>

#include "mailhdr.h"

/* line_end - offset of the '\n' ending the line at P, or LEN */
static size_t
line_end(const char *msg, size_t len, size_t p)
{
	const char *nl = memchr(msg + p, '\n', len - p);

	return nl != NULL ? (size_t)(nl - msg) : len;
}

/* line_empty - the line [P, E) is empty ("" or "\r") */
static int
line_empty(const char *msg, size_t p, size_t e)
{
	return e == p || (e == p + 1 && msg[p] == '\r');
}

/* mailhdr_block_len - up to the empty line */
size_t
mailhdr_block_len(const char *msg, size_t len)
{
	for (size_t p = 0; p < len;) {
		size_t e = line_end(msg, len, p);
		if (line_empty(msg, p, e))
			return e < len ? e + 1 : len;
		p = e + 1;
	}
	return len;
}

/* append - the bytes [P, E) to OUT at *N, without CR, within OUTLEN */
static void
append(char *out, size_t outlen, size_t *n, const char *msg, size_t p,
    size_t e)
{
	for (; p < e && *n + 1 < outlen; p++)
		if (msg[p] != '\r')
			out[(*n)++] = msg[p];
}

/* trim - strip blanks at both ends of OUT (N bytes) */
static void
trim(char *out, size_t n)
{
	size_t s = 0;

	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	while (s < n && (out[s] == ' ' || out[s] == '\t'))
		s++;
	memmove(out, out + s, n - s);
	out[n - s] = '\0';
}

/* mailhdr_get - the value of the first NAME field */
int
mailhdr_get(const char *msg, size_t len, const char *name, char *out,
    size_t outlen)
{
	size_t nlen = strlen(name), hlen = mailhdr_block_len(msg, len), n = 0;
	int found = 0;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	for (size_t p = 0; p < hlen;) {
		size_t e = line_end(msg, hlen, p);
		int cont = msg[p] == ' ' || msg[p] == '\t';
		if (found && !cont)
			break;
		if (found)
			append(out, outlen, &n, msg, p, e);
		else if (!cont && e - p > nlen && msg[p + nlen] == ':' &&
		    strncasecmp(msg + p, name, nlen) == 0) {
			found = 1;
			append(out, outlen, &n, msg, p + nlen + 1, e);
		}
		p = e + 1;
	}
	if (!found)
		return -1;
	trim(out, n);
	return 0;
}
