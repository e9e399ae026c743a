/*
 * submit_buf - growable byte buffer (see submit_buf.h).
 *
 * DIAGNOSTICS: none; out of memory is returned as -1 (the frontend answers
 * with a temporary error, common/base/log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "submit_buf.h"

/* submit_buf_reserve - room for LEN more bytes, growing by doubling */
static int
submit_buf_reserve(struct submit_buf *b, size_t len)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->len + len <= b->cap)
		return 0;
	while (cap < b->len + len)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* submit_buf_append - LEN bytes at the end */
int
submit_buf_append(struct submit_buf *b, const void *data, size_t len)
{
	if (len == 0)
		return 0;	/* memcpy to a NULL buffer is undefined even for 0 bytes */
	if (submit_buf_reserve(b, len) < 0)
		return -1;
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

/* submit_buf_printf - formatted text at the end (room for its NUL too) */
int
submit_buf_printf(struct submit_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || submit_buf_reserve(b, (size_t)n + 1) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* submit_buf_insert - open a gap at AT and fill it */
int
submit_buf_insert(struct submit_buf *b, size_t at, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	if (at > b->len || submit_buf_reserve(b, len) < 0)
		return -1;
	memmove(b->p + at + len, b->p + at, b->len - at);
	memcpy(b->p + at, data, len);
	b->len += len;
	return 0;
}

/* submit_buf_free - release the memory */
void
submit_buf_free(struct submit_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
