/*
 * mailhdr - read fields out of a stored RFC 5322 message: the extent of its
 * header block and the unfolded value of one field. For messages already
 * accepted (the queue's header log, bounce reports); the frontend's
 * incremental scanner (frontend/smtp/smtp_header.c) validates while the
 * message arrives and lives with the SMTP server.
 */
#ifndef PH_MAILHDR_H
#define PH_MAILHDR_H

#include <stddef.h>

/* mailhdr_block_len - bytes of MSG's header block, up to and including the
 * empty line that ends it (all of MSG when there is none) */
size_t mailhdr_block_len(const char *msg, size_t len);

/* mailhdr_get - the first field NAME (case-insensitive) of MSG's header
 * block, unfolded and trimmed, into OUT (truncated to OUTLEN - 1 bytes).
 * 0 when found, -1 when absent (OUT is then ""). */
int mailhdr_get(const char *msg, size_t len, const char *name, char *out,
    size_t outlen);

#endif
