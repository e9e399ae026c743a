/*
 * dkim_canon - DKIM "relaxed" canonicalization (RFC 6376 3.4.2 and 3.4.4)
 * and the header field scan it needs: pure functions over a message held in
 * memory (lines end in CRLF; a bare CR or LF is an ordinary octet).
 */
#ifndef PH_DKIM_CANON_H
#define PH_DKIM_CANON_H

#include <stddef.h>
#include <stdint.h>

/* dkim_field - one header field: P..P+LEN is the field with its folds and
 * without its final CRLF; NAME_LEN is its name without WSP before the colon
 * (the whole field when there is no colon) */
struct dkim_field {
	const char *p;
	size_t len, name_len;
};

/* dkim_canon_field_next - the header field at *OFF in MSG into F and *OFF
 * past it: 1; 0 at the end of the header, *OFF then being where the body
 * starts (after the empty line, or LEN when there is none) */
int dkim_canon_field_next(const uint8_t *msg, size_t len, size_t *off,
    struct dkim_field *f);

/* dkim_canon_field_is - F's name is NAME (ASCII case-insensitive) */
int dkim_canon_field_is(const struct dkim_field *f, const char *name);

/* dkim_canon_header - F relaxed into OUT (room for F->len + 1 bytes):
 * "name:value" without CRLF; the length written */
size_t dkim_canon_header(const struct dkim_field *f, char *out);

/* dkim_canon_body - the body IN..IN+LEN relaxed into OUT (room for LEN + 2
 * bytes); the length written (0 for a body of empty lines only) */
size_t dkim_canon_body(const uint8_t *in, size_t len, uint8_t *out);

#endif
