/*
 * queue_msg - in-memory messages of a shard and their stored records.
 *
 * The m/ record is the EnqueueRequest packed without its body (immutable).
 * The s/ record holds each recipient's state, attempts and next attempt time:
 *   "QS" version(1) count(u32) then count x { state(u8) attempts(u32) next(u64) }
 * all little endian. It is rewritten whole after every result (one message
 * rarely has many recipients; batching keeps the cost down).
 *
 * DIAGNOSTICS: malformed records make qmsg_restore return NULL (the caller
 * warns and keeps the record for inspection).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "queue_msg.h"

#define STATE_MAGIC0 'Q'
#define STATE_MAGIC1 'S'
#define STATE_VERSION 1
#define STATE_HEAD 7
#define STATE_REC 13

/* domain_of - lowercased domain of ADDR (all of it when it has no '@') */
static char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');
	char *d = strdup(at != NULL ? at + 1 : addr);

	for (char *p = d; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/* qmsg_new - a message with every recipient pending (envelope copied) */
struct qmsg *
qmsg_new(const char *qid, const Ph__EnqueueRequest *req)
{
	struct qmsg *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	strncpy(m->qid, qid, sizeof(m->qid) - 1);
	m->tenant_id = strdup(req->tenant_id ? req->tenant_id : "");
	m->mail_from = strdup(req->mail_from ? req->mail_from : "");
	m->dkim_selector = strdup(req->dkim_selector ? req->dkim_selector : "");
	m->received_ms = req->received_ms;
	m->nrcpt = m->pending = req->n_rcpts;
	m->rcpts = calloc(req->n_rcpts ? req->n_rcpts : 1, sizeof(*m->rcpts));
	if (m->tenant_id == NULL || m->mail_from == NULL ||
	    m->dkim_selector == NULL || m->rcpts == NULL)
		goto error;
	for (size_t i = 0; i < req->n_rcpts; i++) {
		m->rcpts[i].addr = strdup(req->rcpts[i]);
		m->rcpts[i].domain = domain_of(req->rcpts[i]);
		if (m->rcpts[i].addr == NULL || m->rcpts[i].domain == NULL)
			goto error;
	}
	return m;
error:
	qmsg_free(m);
	return NULL;
}

/* get_u32 / get_u64 / put_u32 / put_u64 - little endian */
static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)v);
	put_u32(p + 4, (uint32_t)(v >> 32));
}

/* state_apply - load the s/ record into M; 0 or -1 when malformed */
static int
state_apply(struct qmsg *m, const uint8_t *s, size_t len)
{
	if (len < STATE_HEAD || s[0] != STATE_MAGIC0 || s[1] != STATE_MAGIC1 ||
	    s[2] != STATE_VERSION || get_u32(s + 3) != m->nrcpt ||
	    len != STATE_HEAD + m->nrcpt * STATE_REC)
		return -1;
	m->pending = 0;
	for (size_t i = 0; i < m->nrcpt; i++) {
		const uint8_t *r = s + STATE_HEAD + i * STATE_REC;
		if (r[0] > QRCPT_FAILED)
			return -1;
		m->rcpts[i].state = r[0];
		m->rcpts[i].attempts = get_u32(r + 1);
		m->rcpts[i].next_ms = get_u64(r + 5);
		if (r[0] == QRCPT_PENDING)
			m->pending++;
	}
	return 0;
}

/* qmsg_restore - a message read back from the store at start-up */
struct qmsg *
qmsg_restore(const char *qid, const void *meta, size_t mlen,
    const void *state, size_t slen)
{
	Ph__EnqueueRequest *req;
	struct qmsg *m;

	req = ph__enqueue_request__unpack(NULL, mlen, meta);
	if (req == NULL)
		return NULL;
	m = qmsg_new(qid, req);
	ph__enqueue_request__free_unpacked(req, NULL);
	if (m != NULL && state != NULL && state_apply(m, state, slen) < 0) {
		qmsg_free(m);
		return NULL;
	}
	return m;
}

/* qmsg_free - free M and its recipients */
void
qmsg_free(struct qmsg *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; m->rcpts != NULL && i < m->nrcpt; i++) {
		free(m->rcpts[i].addr);
		free(m->rcpts[i].domain);
	}
	free(m->rcpts);
	free(m->hrec);
	free(m->tenant_id);
	free(m->mail_from);
	free(m->dkim_selector);
	free(m);
}

/* qmsg_state_encode - the s/ record of M */
int
qmsg_state_encode(const struct qmsg *m, uint8_t **buf, size_t *len)
{
	uint8_t *s;

	*len = STATE_HEAD + m->nrcpt * STATE_REC;
	s = malloc(*len);
	if (s == NULL)
		return -1;
	s[0] = STATE_MAGIC0;
	s[1] = STATE_MAGIC1;
	s[2] = STATE_VERSION;
	put_u32(s + 3, (uint32_t)m->nrcpt);
	for (size_t i = 0; i < m->nrcpt; i++) {
		uint8_t *r = s + STATE_HEAD + i * STATE_REC;
		r[0] = m->rcpts[i].state;
		put_u32(r + 1, m->rcpts[i].attempts);
		put_u64(r + 5, m->rcpts[i].next_ms);
	}
	*buf = s;
	return 0;
}

/* qmsg_pack_meta - REQ packed with an empty body (the body is stored apart) */
int
qmsg_pack_meta(const Ph__EnqueueRequest *req, uint8_t **buf, size_t *len)
{
	Ph__EnqueueRequest copy = *req;

	copy.body.data = NULL;
	copy.body.len = 0;
	*len = ph__enqueue_request__get_packed_size(&copy);
	*buf = malloc(*len ? *len : 1);
	if (*buf == NULL)
		return -1;
	ph__enqueue_request__pack(&copy, *buf);
	return 0;
}
