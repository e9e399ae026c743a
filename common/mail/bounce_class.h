/*
 * bounce_class - what a failed delivery's reply means: hard (the address
 * will never work: suppress it) or soft (it may work later, or the failure
 * was about this message), a category, and the enhanced status code.
 *
 * The knowledge lives in a table (bounce_class.c, bounce_rules[]) of
 * {enhanced-code pattern, reply class, text, category, kind}; the code that
 * walks it knows nothing about mail. A reply matches nothing: 5xx is an
 * "other" soft failure (never suppress on a guess), 4xx "transient".
 */
#ifndef PH_BOUNCE_CLASS_H
#define PH_BOUNCE_CLASS_H

enum bounce_kind { BOUNCE_SOFT, BOUNCE_HARD };

enum bounce_category {
	BOUNCE_CAT_OTHER,
	BOUNCE_CAT_TRANSIENT,		/* 4xx, timeouts, connection trouble */
	BOUNCE_CAT_BAD_MAILBOX,		/* unknown user, bad syntax, moved */
	BOUNCE_CAT_BAD_DOMAIN,		/* NXDOMAIN, null MX, unroutable */
	BOUNCE_CAT_MAILBOX_FULL,
	BOUNCE_CAT_MESSAGE_TOO_LARGE,
	BOUNCE_CAT_POLICY,
	BOUNCE_CAT_SPAM,
	BOUNCE_CAT_EXPIRED,		/* no final answer before max_age */
};

struct bounce_result {
	enum bounce_kind kind;
	enum bounce_category category;
	int code;			/* basic reply code (550), 0 if none */
	char status[16];		/* enhanced code "5.1.1"; derived
					 * ("5.0.0", "4.0.0") when the reply
					 * has none */
};

/* bounce_classify - classify REPLY ("550 5.1.1 ...", or a relay's local
 * "5.4.4 ..." reason); never fails */
void bounce_classify(const char *reply, struct bounce_result *out);

const char *bounce_kind_name(enum bounce_kind k);
const char *bounce_category_name(enum bounce_category c);

#endif
