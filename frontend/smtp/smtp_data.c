/*
 * smtp_data - DATA reader: dot-unstuffing, end detection, size limit,
 * line-end normalisation (see smtp_data.h for the rules).
 *
 * DIAGNOSTICS: none; overflow and out-of-memory are flags the caller turns
 * into replies once the final dot arrived.
 */
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>

#include "smtp_data.h"
#include "submit_buf.h"

/* smtp_data_start - reset D for a new message */
void
smtp_data_start(struct smtp_data *d, struct submit_buf *body, size_t max_size)
{
	d->body = body;
	d->max_size = max_size;
	d->total = 0;
	d->at_bol = true;
	d->prev_crlf = true;
	d->overflow = false;
	d->nomem = false;
}

/* smtp_data_store - append LEN bytes of content (+ CRLF when EOL) to the body */
static void
smtp_data_store(struct smtp_data *d, const char *p, size_t len, bool eol)
{
	size_t add = len + (eol ? 2 : 0);

	d->total += add;
	if (d->overflow || d->nomem)
		return;
	if (d->body->len + add > d->max_size) {
		d->overflow = true;
		return;
	}
	if (submit_buf_append(d->body, p, len) < 0 ||
	    (eol && submit_buf_append(d->body, "\r\n", 2) < 0))
		d->nomem = true;
}

/* smtp_data_piece - one line (EOL) or a piece of a long line (!EOL) */
static void
smtp_data_piece(struct smtp_data *d, const char *p, size_t len, bool eol)
{
	if (d->at_bol && len > 0 && p[0] == '.') {
		p++;
		len--;
	}
	smtp_data_store(d, p, len, eol);
	d->at_bol = eol;
}

/* smtp_data_partial - no LF in IN: consume a piece when it is big; 0 if done */
static int
smtp_data_partial(struct smtp_data *d, struct evbuffer *in)
{
	size_t n = evbuffer_get_length(in);
	const char *p;

	if (n < SMTP_DATA_CHUNK)
		return -1;
	n--;	/* keep a possible CR for the LF still to come */
	p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
	smtp_data_piece(d, p, n, false);
	evbuffer_drain(in, n);
	return 0;
}

/* smtp_data_feed - consume complete lines from IN */
enum smtp_data_status
smtp_data_feed(struct smtp_data *d, struct evbuffer *in)
{
	struct evbuffer_ptr eol;
	const char *p;
	size_t len;
	bool crlf;

	for (;;) {
		eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		if (eol.pos < 0) {
			if (smtp_data_partial(d, in) < 0)
				return DATA_MORE;
			continue;
		}
		len = (size_t)eol.pos;
		p = (const char *)evbuffer_pullup(in, (ev_ssize_t)len + 1);
		crlf = len > 0 && p[len - 1] == '\r';
		if (crlf)
			len--;
		if (d->at_bol && crlf && d->prev_crlf && len == 1 && p[0] == '.') {
			evbuffer_drain(in, 3);
			return DATA_END;
		}
		smtp_data_piece(d, p, len, true);
		d->prev_crlf = crlf;
		evbuffer_drain(in, (size_t)eol.pos + 1);
	}
}
