/*
 * bounce_class - reply classification as data: bounce_rules[] is walked in
 * order and the first row that matches decides.
 *
 * A row matches when each of its set conditions holds:
 *   status  - the reply's enhanced code equals it or starts with it at a
 *             component boundary ("5.1" matches "5.1.10", "5.1.1" does not);
 *   rclass  - the first digit of the reply class ('5' or '4');
 *   text    - a case-insensitive substring of the reply.
 *
 * DIAGNOSTICS: none; an unparsable reply is an "other" failure.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "bounce_class.h"

struct bounce_rule {
	const char *status;
	char rclass;
	const char *text;
	enum bounce_category category;
	enum bounce_kind kind;
};

static const struct bounce_rule bounce_rules[] = {
	/* enhanced codes (RFC 3463, RFC 7505) */
	{ "5.1.10", 0, NULL, BOUNCE_CAT_BAD_DOMAIN, BOUNCE_HARD },	/* null MX */
	{ "5.1.1", 0, NULL, BOUNCE_CAT_BAD_MAILBOX, BOUNCE_HARD },
	{ "5.1.2", 0, NULL, BOUNCE_CAT_BAD_DOMAIN, BOUNCE_HARD },
	{ "5.1.3", 0, NULL, BOUNCE_CAT_BAD_MAILBOX, BOUNCE_HARD },
	{ "5.1.6", 0, NULL, BOUNCE_CAT_BAD_MAILBOX, BOUNCE_HARD },
	{ "5.4.4", 0, NULL, BOUNCE_CAT_BAD_DOMAIN, BOUNCE_HARD },
	{ "5.2.2", 0, NULL, BOUNCE_CAT_MAILBOX_FULL, BOUNCE_SOFT },
	{ "5.2.3", 0, NULL, BOUNCE_CAT_MESSAGE_TOO_LARGE, BOUNCE_SOFT },
	{ "5.3.4", 0, NULL, BOUNCE_CAT_MESSAGE_TOO_LARGE, BOUNCE_SOFT },
	{ "4.4.7", 0, NULL, BOUNCE_CAT_EXPIRED, BOUNCE_SOFT },
	{ "5.7", 0, "spam", BOUNCE_CAT_SPAM, BOUNCE_SOFT },
	{ "5.7", 0, "blocklist", BOUNCE_CAT_SPAM, BOUNCE_SOFT },
	{ "5.7", 0, "blacklist", BOUNCE_CAT_SPAM, BOUNCE_SOFT },
	{ "5.7", 0, NULL, BOUNCE_CAT_POLICY, BOUNCE_SOFT },
	{ "4", 0, NULL, BOUNCE_CAT_TRANSIENT, BOUNCE_SOFT },
	/* replies without a telling enhanced code: the text decides */
	{ NULL, '5', "user unknown", BOUNCE_CAT_BAD_MAILBOX, BOUNCE_HARD },
	{ NULL, '5', "unknown user", BOUNCE_CAT_BAD_MAILBOX, BOUNCE_HARD },
	{ NULL, '5', "no such user", BOUNCE_CAT_BAD_MAILBOX, BOUNCE_HARD },
	{ NULL, '5', "mailbox not found", BOUNCE_CAT_BAD_MAILBOX, BOUNCE_HARD },
	{ NULL, '5', "does not exist", BOUNCE_CAT_BAD_MAILBOX, BOUNCE_HARD },
	{ NULL, '5', "nxdomain", BOUNCE_CAT_BAD_DOMAIN, BOUNCE_HARD },
	{ NULL, '5', "null mx", BOUNCE_CAT_BAD_DOMAIN, BOUNCE_HARD },
	{ NULL, '5', "domain not found", BOUNCE_CAT_BAD_DOMAIN, BOUNCE_HARD },
	{ NULL, 0, "mailbox full", BOUNCE_CAT_MAILBOX_FULL, BOUNCE_SOFT },
	{ NULL, 0, "quota", BOUNCE_CAT_MAILBOX_FULL, BOUNCE_SOFT },
	{ NULL, 0, "too large", BOUNCE_CAT_MESSAGE_TOO_LARGE, BOUNCE_SOFT },
	{ NULL, 0, "size limit", BOUNCE_CAT_MESSAGE_TOO_LARGE, BOUNCE_SOFT },
	{ NULL, 0, "spam", BOUNCE_CAT_SPAM, BOUNCE_SOFT },
	{ NULL, 0, "policy", BOUNCE_CAT_POLICY, BOUNCE_SOFT },
	{ NULL, '4', NULL, BOUNCE_CAT_TRANSIENT, BOUNCE_SOFT },
};

/* parse_status - an enhanced code "c.s.d" at P into OUT; its length or 0 */
static size_t
parse_status(const char *p, char out[16])
{
	size_t i = 0, part = 0, digits = 0;

	if (p[0] != '2' && p[0] != '4' && p[0] != '5')
		return 0;
	for (; p[i] != '\0' && i < 15; i++) {
		if (isdigit((unsigned char)p[i]) && ++digits <= 3)
			continue;
		if (p[i] != '.' || digits == 0 || part == 2)
			break;
		part++;
		digits = 0;
	}
	if (part != 2 || digits == 0 || digits > 3 ||
	    (p[i] != '\0' && !isspace((unsigned char)p[i])))
		return 0;
	memcpy(out, p, i);
	out[i] = '\0';
	return i;
}

/* parse_reply - basic code and enhanced code of REPLY into OUT */
static void
parse_reply(const char *reply, struct bounce_result *out)
{
	const char *p = reply;

	out->code = 0;
	out->status[0] = '\0';
	if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && (p[3] == ' ' || p[3] == '-' ||
	    p[3] == '\0')) {
		out->code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		p += p[3] != '\0' ? 4 : 3;
	}
	while (*p == ' ')
		p++;
	parse_status(p, out->status);
}

/* status_matches - PAT equals STATUS or is a prefix ending at a '.' */
static int
status_matches(const char *pat, const char *status)
{
	size_t n = strlen(pat);

	return strncmp(pat, status, n) == 0 &&
	    (status[n] == '\0' || status[n] == '.' || pat[n - 1] == '.');
}

/* has_text - case-insensitive substring */
static int
has_text(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

/* rule_matches - every condition of R holds for REPLY */
static int
rule_matches(const struct bounce_rule *r, const char *reply, char rclass,
    const char *status)
{
	if (r->status != NULL && !status_matches(r->status, status))
		return 0;
	if (r->rclass != 0 && r->rclass != rclass)
		return 0;
	return r->text == NULL || has_text(reply, r->text);
}

/* bounce_classify - the first matching rule, or the class default */
void
bounce_classify(const char *reply, struct bounce_result *out)
{
	char rclass;

	if (reply == NULL)
		reply = "";
	parse_reply(reply, out);
	rclass = out->code ? (char)('0' + out->code / 100) : out->status[0];
	if (out->status[0] == '\0')
		snprintf(out->status, sizeof(out->status), "%c.0.0",
		    rclass == '4' ? '4' : '5');
	out->kind = BOUNCE_SOFT;
	out->category = BOUNCE_CAT_OTHER;
	for (size_t i = 0; i < sizeof(bounce_rules) / sizeof(bounce_rules[0]);
	    i++) {
		if (rule_matches(&bounce_rules[i], reply, rclass, out->status)) {
			out->kind = bounce_rules[i].kind;
			out->category = bounce_rules[i].category;
			return;
		}
	}
}

/* bounce_kind_name - "hard" or "soft" */
const char *
bounce_kind_name(enum bounce_kind k)
{
	return k == BOUNCE_HARD ? "hard" : "soft";
}

/* bounce_category_name - the category as logged */
const char *
bounce_category_name(enum bounce_category c)
{
	static const char *const names[] = {
		[BOUNCE_CAT_OTHER] = "other",
		[BOUNCE_CAT_TRANSIENT] = "transient",
		[BOUNCE_CAT_BAD_MAILBOX] = "bad-mailbox",
		[BOUNCE_CAT_BAD_DOMAIN] = "bad-domain",
		[BOUNCE_CAT_MAILBOX_FULL] = "mailbox-full",
		[BOUNCE_CAT_MESSAGE_TOO_LARGE] = "message-too-large",
		[BOUNCE_CAT_POLICY] = "policy-related",
		[BOUNCE_CAT_SPAM] = "spam-related",
		[BOUNCE_CAT_EXPIRED] = "expired",
	};

	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}
