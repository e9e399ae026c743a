/*
 * smtp_dkim - sign once, before the message is persisted: the key comes
 * from the policy replica (policy_dkim_for_domain), the signature from
 * common/dkim_sign with one process-wide signer (keys cached by DKIM key
 * id, shared by the worker threads).
 *
 * Signing costs ~1 ms of CPU with RSA-2048, so it runs on smtp_work's
 * threads while the session waits (STATE_WAIT, not reading). The job owns
 * what the worker reads: the session's body buffer moves into the job and
 * back, and the key's fields are copied (the replica may replace the key
 * object meanwhile). A session freed or timed out meanwhile cancels the
 * job; its done function then only frees the job.
 *
 * The signed body replaces the session's body buffer: one allocation holding
 * the DKIM-Signature header, the message and, after its end, the selector
 * string that tx->req.dkim_selector points to. That buffer lives until the
 * next message of the session, i.e. as long as the queue client may re-send
 * the request to another shard.
 *
 * Test seam: PH_FAULTS=dkim_sign (common/fault.h) makes every signing fail.
 *
 * DIAGNOSTICS: a signing failure is a warning (session id, key id, reason).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "dkim_sign.h"
#include "fault.h"
#include "log.h"
#include "policy.h"
#include "smtp_dkim.h"
#include "smtp_session.h"
#include "smtp_tx.h"
#include "smtp_work.h"
#include "smtpd.h"

/* dkim_job - one message to sign, owned by its smtp_work job */
struct dkim_job {
	struct smtp_session *s;
	smtp_dkim_done_fn done;
	struct smtp_buf body;	/* the session's, while the job runs */
	char *key_id, *domain, *selector, *pem;
	char err[256];
	int rc;
};

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

/* dkim_job_free - the job, its copies of the key and the body it holds */
static void dkim_job_free(struct dkim_job *j)
{
	smtp_buf_free(&j->body);
	free(j->key_id);
	free(j->domain);
	free(j->selector);
	if (j->pem != NULL)
		OPENSSL_clear_free(j->pem, strlen(j->pem));
	free(j);
}

/* dkim_job_new - copies of K's fields; the body stays the caller's */
static struct dkim_job *dkim_job_new(struct smtp_session *s, const Ph__DkimKey *k,
    smtp_dkim_done_fn done)
{
	struct dkim_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->s = s;
	j->done = done;
	if ((j->key_id = strdup(k->id)) == NULL || (j->domain = strdup(k->domain)) == NULL ||
	    (j->selector = strdup(k->selector)) == NULL ||
	    (j->pem = strdup(k->private_key_pem)) == NULL) {
		dkim_job_free(j);
		return NULL;
	}
	return j;
}

/* dkim_job_run - on a worker: sign the body, prepend the header */
static void dkim_job_run(void *arg)
{
	struct dkim_job *j = arg;
	char *hdr = NULL;

	j->rc = -1;
	if (fault_hit("dkim_sign")) {
		snprintf(j->err, sizeof(j->err), "fault injected (PH_FAULTS)");
		return;
	}
	if (dkim_sign_message(signer, j->key_id, j->domain, j->selector, j->pem,
	    (const uint8_t *)j->body.p, j->body.len, &hdr, j->err, sizeof(j->err)) == -1)
		return;
	if (body_prepend(&j->body, hdr, j->selector) == -1)
		snprintf(j->err, sizeof(j->err), "out of memory");
	else
		j->rc = 0;
	free(hdr);
}

/* dkim_job_done - on the loop: the body back to the session, then DONE */
static void dkim_job_done(void *arg, bool cancelled)
{
	struct dkim_job *j = arg;
	struct smtp_session *s = j->s;

	if (!cancelled) {
		s->body = j->body;
		memset(&j->body, 0, sizeof(j->body));
		if (j->rc == 0) {
			s->tx->req.body.data = (uint8_t *)s->body.p;
			s->tx->req.body.len = s->body.len;
			s->tx->req.dkim_selector = s->body.p + s->body.len;
		} else {
			log_warnx("session %016llx: DKIM signing with %s failed: %s",
			    (unsigned long long)s->id, j->key_id, j->err);
		}
		j->done(s, j->rc);
	}
	dkim_job_free(j);
}

/* smtp_dkim_sign - look up the key, hand body and key to a worker */
void smtp_dkim_sign(struct smtp_session *s, smtp_dkim_done_fn done)
{
	const char *at = strrchr(s->tx->header_from, '@');
	const Ph__DkimKey *k;
	struct dkim_job *j;

	if (at == NULL || s->sd->policy == NULL ||
	    (k = policy_dkim_for_domain(s->sd->policy, s->ident.tenant_id, at + 1)) == NULL) {
		done(s, 0);
		return;
	}
	if ((signer == NULL && (signer = dkim_signer_new()) == NULL) ||
	    (j = dkim_job_new(s, k, done)) == NULL) {
		log_warnx("session %016llx: cannot start DKIM signing: out of memory",
		    (unsigned long long)s->id);
		done(s, -1);
		return;
	}
	j->body = s->body;
	memset(&s->body, 0, sizeof(s->body));
	if (smtp_work_submit(s->sd->work, s, dkim_job_run, dkim_job_done, j) < 0) {
		s->body = j->body;
		memset(&j->body, 0, sizeof(j->body));
		dkim_job_free(j);
		log_warnx("session %016llx: cannot queue DKIM signing: out of memory",
		    (unsigned long long)s->id);
		done(s, -1);
	}
}

/* smtp_dkim_cancel - the job (if any) ends without calling back */
void smtp_dkim_cancel(struct smtp_session *s)
{
	smtp_work_cancel(s->sd->work, s);
}
