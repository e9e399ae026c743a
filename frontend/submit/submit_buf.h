/*
 * submit_buf - a growable byte buffer: the message on its way through the
 * submission pipeline. A frontend writes its Received: line and the message
 * into one (ph-smtpd reuses the buffer from message to message); the
 * pipeline may insert a Message-ID and prepend a DKIM-Signature in place.
 */
#ifndef SUBMIT_BUF_H
#define SUBMIT_BUF_H

#include <stddef.h>

struct submit_buf {
	char *p;
	size_t len, cap;
};

/* submit_buf_append - add LEN bytes at the end; 0, or -1 when out of memory */
int submit_buf_append(struct submit_buf *b, const void *data, size_t len);
/* submit_buf_printf - add printf(FMT) at the end; 0 or -1 */
int submit_buf_printf(struct submit_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* submit_buf_insert - LEN bytes at offset AT (at most b->len); 0 or -1 */
int submit_buf_insert(struct submit_buf *b, size_t at, const void *data, size_t len);
/* submit_buf_free - release the memory; B is empty and usable again */
void submit_buf_free(struct submit_buf *b);

#endif
