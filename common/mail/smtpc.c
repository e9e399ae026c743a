/*
 * smtpc - SMTP reply parsing, outcome classification, EHLO capability
 * scan and dot-stuffing for an SMTP client (ph-relay, ph-load) (RFC 5321 4.2, 4.5.2;
 * RFC 3463 enhanced codes; RFC 2920 PIPELINING).
 *
 * DIAGNOSTICS: none; a malformed reply line is reported to the caller (-1),
 * which treats it as a protocol error of the connection.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "smtpc.h"

/* smtpc_reply_reset - forget the reply being assembled */
void smtpc_reply_reset(struct smtpc_reply *r)
{
	r->code = 0;
	r->enh[0] = '\0';
	r->text[0] = '\0';
	r->len = 0;
	r->lines = 0;
}

/* reply_code - the 3-digit code at the start of LINE, -1 when there is none */
static int reply_code(const char *line, size_t len)
{
	if (len < 3 || !isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) || !isdigit((unsigned char)line[2]))
		return -1;
	if (line[0] < '1' || line[0] > '5')
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* enh_part - length of a 1..3 digit number at S (max LEN), 0 if none */
static size_t enh_part(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && n < 4 && isdigit((unsigned char)s[n]))
		n++;
	return n >= 1 && n <= 3 ? n : 0;
}

/* reply_enhanced - copy an enhanced code "c.s.d" at the start of TEXT whose
 * class matches CODE into OUT (RFC 3463 2: class is 2, 4 or 5) */
static void reply_enhanced(int code, const char *text, size_t len, char out[16])
{
	size_t a, b, c;

	out[0] = '\0';
	if (len < 5 || text[0] != '0' + code / 100 || text[1] != '.')
		return;
	if ((a = enh_part(text + 2, len - 2)) == 0 || 2 + a >= len ||
	    text[2 + a] != '.')
		return;
	if ((b = enh_part(text + 3 + a, len - 3 - a)) == 0)
		return;
	c = 3 + a + b;
	if (c < len && text[c] != ' ')
		return;
	memcpy(out, text, c);
	out[c] = '\0';
}

/* reply_append - add one line's text to R->text, truncating when full */
static void reply_append(struct smtpc_reply *r, const char *s, size_t n)
{
	size_t room = sizeof(r->text) - 1 - r->len;

	if (r->lines > 0 && room > 0) {
		r->text[r->len++] = '\n';
		room--;
	}
	if (n > room)
		n = room;
	memcpy(r->text + r->len, s, n);
	r->len += n;
	r->text[r->len] = '\0';
}

/* smtpc_reply_feed - add one line (without CRLF); 1 complete, 0 more, -1 bad */
int smtpc_reply_feed(struct smtpc_reply *r, const char *line, size_t len)
{
	int code = reply_code(line, len);
	const char *text = len > 4 ? line + 4 : "";
	size_t tlen = len > 4 ? len - 4 : 0;

	if (code < 0 || (r->lines > 0 && code != r->code))
		return -1;
	if (r->lines == 0) {
		r->code = code;
		reply_enhanced(code, text, tlen, r->enh);
	}
	reply_append(r, text, tlen);
	r->lines++;
	return len > 3 && line[3] == '-' ? 0 : 1;
}

/* smtpc_reply_summary - "NNN text text" on one line, for logs and results */
void smtpc_reply_summary(const struct smtpc_reply *r, char *out, size_t outlen)
{
	size_t i, n;

	if (outlen == 0)
		return;
	n = (size_t)snprintf(out, outlen, "%03d%s%s", r->code,
	    r->len ? " " : "", r->text);
	if (n >= outlen)
		n = outlen - 1;
	for (i = 0; i < n; i++)
		if (out[i] == '\n' || out[i] == '\r' || out[i] == '\t')
			out[i] = ' ';
}

/* smtpc_reply_outcome - classify a reply code for one recipient */
Ph__Outcome smtpc_reply_outcome(int code)
{
	if (code >= 200 && code <= 299)
		return PH__OUTCOME__OUTCOME_DELIVERED;
	if (code >= 500 && code <= 599)
		return PH__OUTCOME__OUTCOME_FAILED;
	return PH__OUTCOME__OUTCOME_DEFERRED;
}

/* cap_keyword - the SMTPC_CAP_* bit of one EHLO keyword line */
static unsigned cap_keyword(const char *s, size_t n)
{
	static const struct { const char *kw; unsigned bit; } caps[] = {
		{ "PIPELINING", SMTPC_CAP_PIPELINING },
		{ "STARTTLS", SMTPC_CAP_STARTTLS },
		{ "8BITMIME", SMTPC_CAP_8BITMIME },
		{ "SIZE", SMTPC_CAP_SIZE },
		{ "ENHANCEDSTATUSCODES", SMTPC_CAP_ENHANCED },
	};
	size_t i, kl = 0;

	while (kl < n && s[kl] != ' ' && s[kl] != '=')
		kl++;
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (strlen(caps[i].kw) == kl && strncasecmp(s, caps[i].kw, kl) == 0)
			return caps[i].bit;
	return 0;
}

/* smtpc_ehlo_caps - scan the lines after the first (the greeting line) */
unsigned smtpc_ehlo_caps(const struct smtpc_reply *r)
{
	const char *p = r->text, *nl;
	unsigned caps = 0;
	int first = 1;

	for (;;) {
		nl = strchr(p, '\n');
		if (!first)
			caps |= cap_keyword(p, nl ? (size_t)(nl - p) : strlen(p));
		first = 0;
		if (!nl)
			break;
		p = nl + 1;
	}
	return caps;
}

/* smtpc_dot_stuff - SMTP DATA payload (RFC 5321 4.5.2) ending in ".\r\n" */
char *smtpc_dot_stuff(const uint8_t *body, size_t len, size_t *outlen)
{
	size_t i, o = 0, cap = len + len / 16 + 8;
	int bol = 1;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		/* worst case per input byte: "." + "\r\n", plus the trailer */
		if (o + 8 > cap) {
			char *n = realloc(out, cap *= 2);
			if (!n) {
				free(out);
				return NULL;
			}
			out = n;
		}
		if (bol && body[i] == '.')
			out[o++] = '.';
		if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r'))
			out[o++] = '\r';
		out[o++] = (char)body[i];
		bol = body[i] == '\n';
	}
	if (o + 6 > cap) {
		char *n = realloc(out, cap + 8);
		if (!n) {
			free(out);
			return NULL;
		}
		out = n;
	}
	if (!bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	*outlen = o + 3;
	return out;
}
