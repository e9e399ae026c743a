/*
 * smtp_dkim - sign once, before the message is persisted: the key comes
 * from the policy replica (policy_dkim_for_domain), the signature from
 * common/dkim_sign with a per-process signer (keys cached by DKIM key id).
 *
 * The signed body replaces the session's body buffer: one allocation holding
 * the DKIM-Signature header, the message and, after its end, the selector
 * string that tx->req.dkim_selector points to. That buffer lives until the
 * next message of the session, i.e. as long as the queue client may re-send
 * the request to another shard.
 *
 * DIAGNOSTICS: a signing failure is a warning (session id, key id, reason).
 */
#include <stdlib.h>
#include <string.h>

#include "dkim_sign.h"
#include "log.h"
#include "policy.h"
#include "smtp_dkim.h"
#include "smtp_session.h"
#include "smtp_tx.h"
#include "smtpd.h"

static struct dkim_signer *signer;	/* per process, created on first use */

/* body_prepend - BODY becomes HDR + BODY, with SELECTOR stored after its end */
static int body_prepend(struct smtp_buf *body, const char *hdr, const char *selector)
{
	size_t hl = strlen(hdr), sl = strlen(selector) + 1;
	char *p = malloc(hl + body->len + sl);

	if (p == NULL)
		return -1;
	memcpy(p, hdr, hl);
	memcpy(p + hl, body->p, body->len);
	memcpy(p + hl + body->len, selector, sl);
	free(body->p);
	body->p = p;
	body->len += hl;
	body->cap = body->len + sl;
	return 0;
}

/* smtp_dkim_sign - look up the key, sign, prepend */
int smtp_dkim_sign(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	const char *at = strrchr(tx->header_from, '@');
	const Ph__DkimKey *k;
	char err[256], *hdr = NULL;

	if (at == NULL || s->sd->policy == NULL ||
	    (k = policy_dkim_for_domain(s->sd->policy, s->ident.tenant_id, at + 1)) == NULL)
		return 0;
	if (signer == NULL && (signer = dkim_signer_new()) == NULL) {
		log_warnx("session %016llx: cannot start the DKIM signer",
		    (unsigned long long)s->id);
		return -1;
	}
	if (dkim_sign_message(signer, k->id, k->domain, k->selector, k->private_key_pem,
	    (const uint8_t *)s->body.p, s->body.len, &hdr, err, sizeof(err)) == -1 ||
	    body_prepend(&s->body, hdr, k->selector) == -1) {
		log_warnx("session %016llx: DKIM signing with %s failed: %s",
		    (unsigned long long)s->id, k->id, hdr == NULL ? err : "out of memory");
		free(hdr);
		return -1;
	}
	free(hdr);
	tx->req.body.data = (uint8_t *)s->body.p;
	tx->req.body.len = s->body.len;
	tx->req.dkim_selector = s->body.p + s->body.len;
	return 0;
}
