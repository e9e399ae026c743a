/*
 * fuzz_smtp_header - libFuzzer target for the DATA reader and the
 * submission pipeline's RFC 5322 header scan: the input is a message as a
 * client sends it after "354" (the final "." line is appended), fed in two
 * pieces to exercise partial lines; then the header verdict over the stored
 * message, the kept fields, and the From address list that the
 * approved-sender check walks.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <event2/buffer.h>

#include "addr.h"
#include "smtp_data.h"
#include "submit_buf.h"
#include "submit_header.h"

/* fuzz_from - addr_list_parse callback */
static void
fuzz_from(void *arg, const char *mailbox)
{
	(*(size_t *)arg) += strlen(mailbox);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer *in = evbuffer_new();
	struct submit_buf body = { 0 };
	struct submit_header hdr;
	struct smtp_data d;
	size_t half = size / 2, total = 0;
	char msgid[SUBMIT_HEADER_VALUE_MAX];
	const char *from;

	smtp_data_start(&d, &body, 1 << 20);
	evbuffer_add(in, data, half);
	if (smtp_data_feed(&d, in) == DATA_MORE) {
		evbuffer_add(in, data + half, size - half);
		evbuffer_add(in, "\r\n.\r\n", 5);
		smtp_data_feed(&d, in);
	}
	if (submit_header_scan(&hdr, body.p ? body.p : "", body.len) == 0) {
		from = submit_header_get(&hdr, HF_FROM);
		addr_list_parse(from, strlen(from), fuzz_from, &total);
		submit_header_get(&hdr, HF_SUBJECT);
		submit_header_msgid(&hdr, msgid, sizeof(msgid));
	}
	submit_buf_free(&body);
	evbuffer_free(in);
	return 0;
}
