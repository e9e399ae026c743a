/*
 * submit_dkim - sign once, before the message is persisted: the key comes
 * from the policy replica (policy_dkim_for_domain, looked up by the
 * pipeline), the signature from dkim_sign with one process-wide signer
 * (keys cached by DKIM key id, shared by the worker threads).
 *
 * Signing costs ~1 ms of CPU with RSA-2048, so it runs on submit_work's
 * threads while the submission waits. The job owns what the worker reads:
 * the message's buffer moves into the job and back, and the key's fields are
 * copied (the replica may replace the key object meanwhile). A submission
 * cancelled meanwhile cancels the job; its done function then only frees
 * the job and the message it holds.
 *
 * The signed message replaces the buffer's memory: one allocation holding
 * the DKIM-Signature header, the message and, after its end, the selector
 * string handed to DONE. That memory lives as long as the frontend keeps the
 * buffer, i.e. as long as the queue client may re-send the request to
 * another shard.
 *
 * Test seam: PH_FAULTS=dkim_sign (common/base/fault.h) makes every signing
 * fail.
 *
 * DIAGNOSTICS: a signing failure is a warning (submission id, key id,
 * reason).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "dkim_sign.h"
#include "fault.h"
#include "log.h"
#include "submit_buf.h"
#include "submit_dkim.h"
#include "submit_work.h"

/* dkim_job - one message to sign, owned by its submit_work job */
struct dkim_job {
	void *owner;
	submit_dkim_done_fn done;
	struct submit_buf *home;	/* where the message goes back */
	struct submit_buf msg;		/* the owner's, while the job runs */
	char *key_id, *domain, *selector, *pem;
	char log_id[40];
	char err[256];
	int rc;
};

static struct dkim_signer *signer;	/* per process, created on first use */

/* msg_prepend - MSG becomes HDR + MSG, with SELECTOR stored after its end */
static int
msg_prepend(struct submit_buf *msg, const char *hdr, const char *selector)
{
	size_t hl = strlen(hdr), sl = strlen(selector) + 1;
	char *p = malloc(hl + msg->len + sl);

	if (p == NULL)
		return -1;
	memcpy(p, hdr, hl);
	memcpy(p + hl, msg->p, msg->len);
	memcpy(p + hl + msg->len, selector, sl);
	free(msg->p);
	msg->p = p;
	msg->len += hl;
	msg->cap = msg->len + sl;
	return 0;
}

/* dkim_job_free - the job, its copies of the key and the message it holds */
static void
dkim_job_free(struct dkim_job *j)
{
	submit_buf_free(&j->msg);
	free(j->key_id);
	free(j->domain);
	free(j->selector);
	if (j->pem != NULL)
		OPENSSL_clear_free(j->pem, strlen(j->pem));
	free(j);
}

/* dkim_job_new - copies of K's fields; the message stays the caller's */
static struct dkim_job *
dkim_job_new(const Ph__DkimKey *k)
{
	struct dkim_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	if ((j->key_id = strdup(k->id)) == NULL || (j->domain = strdup(k->domain)) == NULL ||
	    (j->selector = strdup(k->selector)) == NULL ||
	    (j->pem = strdup(k->private_key_pem)) == NULL) {
		dkim_job_free(j);
		return NULL;
	}
	return j;
}

/* dkim_job_run - on a worker: sign the message, prepend the header */
static void
dkim_job_run(void *arg)
{
	struct dkim_job *j = arg;
	char *hdr = NULL;

	j->rc = -1;
	if (fault_hit("dkim_sign")) {
		snprintf(j->err, sizeof(j->err), "fault injected (PH_FAULTS)");
		return;
	}
	if (dkim_sign_message(signer, j->key_id, j->domain, j->selector, j->pem,
	    (const uint8_t *)j->msg.p, j->msg.len, &hdr, j->err, sizeof(j->err)) == -1)
		return;
	if (msg_prepend(&j->msg, hdr, j->selector) == -1)
		snprintf(j->err, sizeof(j->err), "out of memory");
	else
		j->rc = 0;
	free(hdr);
}

/* dkim_job_done - on the loop: the message back to its owner, then DONE */
static void
dkim_job_done(void *arg, bool cancelled)
{
	struct dkim_job *j = arg;

	if (!cancelled) {
		*j->home = j->msg;
		memset(&j->msg, 0, sizeof(j->msg));
		if (j->rc < 0)
			log_warnx("submit %s: DKIM signing with %s failed: %s", j->log_id,
			    j->key_id, j->err);
		j->done(j->owner, j->rc, j->rc == 0 ? j->home->p + j->home->len : NULL);
	}
	dkim_job_free(j);
}

/* submit_dkim_sign - hand the message and a copy of the key to a worker */
int
submit_dkim_sign(struct submit_work *w, void *owner, const Ph__DkimKey *key,
    struct submit_buf *msg, const char *log_id, submit_dkim_done_fn done)
{
	struct dkim_job *j;

	if ((signer == NULL && (signer = dkim_signer_new()) == NULL) ||
	    (j = dkim_job_new(key)) == NULL) {
		log_warnx("submit %s: cannot start DKIM signing: out of memory", log_id);
		return -1;
	}
	j->owner = owner;
	j->done = done;
	j->home = msg;
	snprintf(j->log_id, sizeof(j->log_id), "%s", log_id);
	j->msg = *msg;
	if (submit_work_submit(w, owner, dkim_job_run, dkim_job_done, j) < 0) {
		memset(&j->msg, 0, sizeof(j->msg));
		dkim_job_free(j);
		log_warnx("submit %s: cannot queue DKIM signing: out of memory", log_id);
		return -1;
	}
	memset(msg, 0, sizeof(*msg));
	return 0;
}

/* submit_dkim_cancel - the job (if any) ends without calling back */
void
submit_dkim_cancel(struct submit_work *w, void *owner)
{
	submit_work_cancel(w, owner);
}
