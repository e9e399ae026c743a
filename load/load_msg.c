/*
 * load_msg - the payload and envelope of ph-load's messages.
 *
 * DIAGNOSTICS: an unreadable --file is reported to the caller (exit 2);
 * out of memory while preparing the run likewise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <event2/buffer.h>
#include "clock.h"
#include "smtpc.h"
#include "load_msg.h"

#define BODY_LINE 76	/* text characters per body line, before CRLF */

static const char body_text[BODY_LINE + 1] =
    "ph-load body text: the quick brown fox jumps over the lazy dog 0123456789 ab";

/* load_body_make - LEN bytes of lines of BODY_LINE characters + CRLF */
char *load_body_make(size_t len)
{
	char *out = malloc(len ? len : 1);
	size_t i, col = 0;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		if (col == BODY_LINE)
			out[i] = '\r';
		else if (col == BODY_LINE + 1)
			out[i] = '\n';
		else
			out[i] = body_text[col];
		col = col == BODY_LINE + 1 ? 0 : col + 1;
	}
	/* a last line cut after its CR would end in a bare CR */
	if (len && out[len - 1] == '\r')
		out[len - 1] = body_text[0];
	return out;
}

/* read_file - the whole of PATH, malloc'd, length in *LEN */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *n;
	size_t cap = 0, got;

	*len = 0;
	if (!f) {
		snprintf(err, errlen, "--file %s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (*len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (!(n = realloc(buf, cap)))
				goto nomem;
			buf = n;
		}
		got = fread(buf + *len, 1, cap - *len, f);
		*len += got;
	} while (got > 0);
	if (ferror(f)) {
		snprintf(err, errlen, "--file %s: read error", path);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
nomem:
	snprintf(err, errlen, "--file %s: out of memory", path);
	free(buf);
	fclose(f);
	return NULL;
}

/* msg_date - an RFC 5322 date of now (one per run: the messages of a
 * load test need not differ in it) */
static void msg_date(char *out, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* load_msg_init - the payload of this run */
int load_msg_init(struct load_msg *m, const struct load_opts *o, char *err,
    size_t len)
{
	char id[33], *raw;
	size_t rawlen;

	memset(m, 0, sizeof(*m));
	m->opts = o;
	m->headers = o->file == NULL;
	id_new(id);
	memcpy(m->run_id, id, sizeof(m->run_id) - 1);
	msg_date(m->date, sizeof(m->date));
	if (o->file)
		raw = read_file(o->file, &rawlen, err, len);
	else if (!(raw = load_body_make(rawlen = o->size)))
		snprintf(err, len, "out of memory for a %zu-byte body", o->size);
	if (!raw)
		return -1;
	m->payload = smtpc_dot_stuff((const uint8_t *)raw, rawlen, &m->payload_len);
	free(raw);
	if (!m->payload) {
		snprintf(err, len, "out of memory for the message");
		return -1;
	}
	return 0;
}

/* load_msg_free - release the payload */
void load_msg_free(struct load_msg *m)
{
	free(m->payload);
	m->payload = NULL;
}

/* load_pattern_expand - "%d" -> NUMBER, "%%" -> '%' */
void load_pattern_expand(const char *pattern, uint64_t number, char *out,
    size_t len)
{
	char digits[24];
	size_t o = 0, i;

	for (; *pattern && o + 1 < len; pattern++) {
		if (pattern[0] == '%' && pattern[1] == 'd') {
			snprintf(digits, sizeof(digits), "%llu", (unsigned long long)number);
			for (i = 0; digits[i] && o + 1 < len; i++)
				out[o++] = digits[i];
			pattern++;
			continue;
		}
		if (pattern[0] == '%' && pattern[1] == '%')
			pattern++;
		out[o++] = *pattern;
	}
	if (len)
		out[o] = '\0';
}

/* load_msg_recipient - recipient I of message N */
void load_msg_recipient(const struct load_msg *m, uint64_t n, unsigned i,
    char *out, size_t len)
{
	load_pattern_expand(m->opts->to, n * m->opts->recipients + i, out, len);
}

/* load_msg_write - header block (generated messages) + shared payload */
int load_msg_write(const struct load_msg *m, uint64_t n, struct evbuffer *out)
{
	char to[LOAD_ADDR_MAX];

	if (m->headers) {
		load_msg_recipient(m, n, 0, to, sizeof(to));
		if (evbuffer_add_printf(out, "From: %s\r\nTo: %s\r\n"
		    "Subject: ph-load message %llu\r\nDate: %s\r\n"
		    "Message-ID: <%s.%llu@%s>\r\n\r\n", m->opts->from, to,
		    (unsigned long long)n, m->date, m->run_id,
		    (unsigned long long)n, m->opts->ehlo) < 0)
			return -1;
	}
	return evbuffer_add_reference(out, m->payload, m->payload_len, NULL, NULL);
}

/* load_auth_plain - the AUTH PLAIN initial response */
char *load_auth_plain(const char *user, const char *password)
{
	size_t ul = strlen(user), pl = strlen(password), n = ul + pl + 2;
	unsigned char *raw = malloc(n);
	char *b64 = malloc(4 * ((n + 2) / 3) + 1);

	if (!raw || !b64) {
		free(raw);
		free(b64);
		return NULL;
	}
	raw[0] = '\0';
	memcpy(raw + 1, user, ul);
	raw[1 + ul] = '\0';
	memcpy(raw + 2 + ul, password, pl);
	EVP_EncodeBlock((unsigned char *)b64, raw, (int)n);
	OPENSSL_cleanse(raw, n);
	free(raw);
	return b64;
}
