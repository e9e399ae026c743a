/*
 * dkim_canon - DKIM relaxed canonicalization (see dkim_canon.h).
 *
 * Header (RFC 6376 3.4.2): the name lowercased, WSP around the colon
 * deleted, folds unfolded, every WSP run one SP, WSP at the end deleted.
 * Body (3.4.4): per line every WSP run one SP and WSP at the line end
 * deleted; empty lines at the end deleted; a last line without CRLF gets one.
 * A body with nothing left is empty (not a CRLF: that is "simple" only).
 * A last line without CRLF loses its WSP at the end like any other: what a
 * verifier computes once the relay added the CRLF that SMTP needs before
 * the final dot (libopendkim and dkimpy each differ there; ph-smtpd bodies
 * always end in CRLF anyway).
 *
 * DIAGNOSTICS: none; these functions cannot fail.
 */
#include <string.h>

#include "dkim_canon.h"

#define IS_WSP(c) ((c) == ' ' || (c) == '\t')

/* is_crlf - a CRLF at I */
static int is_crlf(const uint8_t *p, size_t len, size_t i)
{
	return i + 1 < len && p[i] == '\r' && p[i + 1] == '\n';
}

/* line_end - the offset of the CRLF ending the line at I, or LEN */
static size_t line_end(const uint8_t *p, size_t len, size_t i)
{
	const uint8_t *lf;

	while (i < len && (lf = memchr(p + i, '\n', len - i)) != NULL) {
		size_t at = (size_t)(lf - p);

		if (at > i && p[at - 1] == '\r')
			return at - 1;
		i = at + 1;
	}
	return len;
}

/* dkim_canon_field_next - a field ends at a CRLF not followed by WSP */
int dkim_canon_field_next(const uint8_t *msg, size_t len, size_t *off,
    struct dkim_field *f)
{
	size_t start = *off, end, n = 0;

	if (start >= len || is_crlf(msg, len, start)) {
		*off = start >= len ? len : start + 2;
		return 0;
	}
	end = line_end(msg, len, start);
	while (end + 2 < len && IS_WSP(msg[end + 2]))
		end = line_end(msg, len, end + 2);
	f->p = (const char *)msg + start;
	f->len = end - start;
	while (n < f->len && f->p[n] != ':')
		n++;
	while (n > 0 && n < f->len && IS_WSP(f->p[n - 1]))
		n--;
	f->name_len = n;
	*off = end < len ? end + 2 : len;
	return 1;
}

/* lower - ASCII only: header names are ASCII (RFC 5322 2.2) */
static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* dkim_canon_field_is - compare names */
int dkim_canon_field_is(const struct dkim_field *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->name_len && name[i] != '\0'; i++)
		if (lower(f->p[i]) != lower(name[i]))
			return 0;
	return i == f->name_len && name[i] == '\0';
}

/* dkim_canon_header - name, colon, then the value with WSP runs and folds
 * squeezed to one SP, none at either end */
size_t dkim_canon_header(const struct dkim_field *f, char *out)
{
	const uint8_t *p = (const uint8_t *)f->p;
	size_t i = f->name_len, n = 0;
	int space = 0;

	for (size_t k = 0; k < f->name_len; k++)
		out[n++] = lower(f->p[k]);
	while (i < f->len && f->p[i] != ':')
		i++;
	if (i == f->len)
		return n;
	out[n++] = ':';
	for (size_t v = n, j = i + 1; j < f->len; j++) {
		if (is_crlf(p, f->len, j) || IS_WSP(p[j])) {
			space = 1;
			j += p[j] == '\r';
			continue;
		}
		if (space && n > v)
			out[n++] = ' ';
		space = 0;
		out[n++] = (char)p[j];
	}
	return n;
}

/* body_line - line IN..IN+LEN (no CRLF) relaxed into OUT; its length */
static size_t body_line(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t n = 0;
	int space = 0;

	for (size_t i = 0; i < len; i++) {
		if (IS_WSP(in[i])) {
			space = 1;
			continue;
		}
		if (space)
			out[n++] = ' ';
		space = 0;
		out[n++] = in[i];
	}
	return n;
}

/* dkim_canon_body - line by line; empty lines are only counted, and
 * written once a line with text follows (so none at the end ever is) */
size_t dkim_canon_body(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t i = 0, n = 0, empty = 0;

	while (i < len) {
		size_t end = line_end(in, len, i);
		/* the text goes after the held CRLFs: each took 2 input bytes */
		size_t w = body_line(in + i, end - i, out + n + 2 * empty);

		if (w == 0) {
			empty++;
		} else {
			for (; empty > 0; empty--, n += 2)
				memcpy(out + n, "\r\n", 2);
			memcpy(out + n + w, "\r\n", 2);
			n += w + 2;
		}
		i = end < len ? end + 2 : len;
	}
	return n;
}
