/*
 * queue_hlog - header log records: build, update, search.
 *
 * A record is updated whole: unpack, append the attempt, pack. Messages
 * rarely see many attempts, and the writer thread batches the puts. The
 * appended parts are malloc'd like protobuf-c's own (default allocator), so
 * the one free_unpacked releases everything.
 *
 * DIAGNOSTICS: nothing is logged here; failures are returned.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mailhdr.h"
#include "queue_hlog.h"
#include "queue_msg.h"
#include "queue_store.h"

#define FIELD_MAX 4096

struct hdr_fields {
	char to[FIELD_MAX], cc[FIELD_MAX], date[256];
	char msgid[1024], from[1024], subject[FIELD_MAX];
};

struct query_ctx {
	const Ph__HeaderLogQuery *q;
	Ph__HeaderLogReply *rep;
	size_t cap;
};

/* pick - the frontend's value when set, else the one parsed from the body */
static char *
pick(const char *given, char *parsed)
{
	return given != NULL && given[0] != '\0' ? (char *)given : parsed;
}

/* hdr_parse - the fields of REQ's body header */
static void
hdr_parse(const Ph__EnqueueRequest *req, struct hdr_fields *h)
{
	const char *b = (const char *)req->body.data;
	size_t n = req->body.len;

	mailhdr_get(b, n, "To", h->to, sizeof(h->to));
	mailhdr_get(b, n, "Cc", h->cc, sizeof(h->cc));
	mailhdr_get(b, n, "Date", h->date, sizeof(h->date));
	mailhdr_get(b, n, "Message-ID", h->msgid, sizeof(h->msgid));
	mailhdr_get(b, n, "From", h->from, sizeof(h->from));
	mailhdr_get(b, n, "Subject", h->subject, sizeof(h->subject));
}

/* pack - REC packed into a malloc'd *BUF */
static int
pack(const Ph__HeaderRecord *rec, uint8_t **buf, size_t *len)
{
	*len = ph__header_record__get_packed_size(rec);
	*buf = malloc(*len ? *len : 1);
	if (*buf == NULL)
		return -1;
	ph__header_record__pack(rec, *buf);
	return 0;
}

/* qhlog_build - a record with every recipient pending */
int
qhlog_build(const char *qid, const Ph__EnqueueRequest *req, const char *shard,
    uint8_t **buf, size_t *len)
{
	Ph__HeaderRecord rec = PH__HEADER_RECORD__INIT;
	Ph__HeaderRecipient *rr = calloc(req->n_rcpts + 1, sizeof(*rr));
	Ph__HeaderRecipient **rp = calloc(req->n_rcpts + 1, sizeof(*rp));
	struct hdr_fields *h = calloc(1, sizeof(*h));
	int rc = -1;

	if (rr == NULL || rp == NULL || h == NULL)
		goto error;
	hdr_parse(req, h);
	for (size_t i = 0; i < req->n_rcpts; i++) {
		ph__header_recipient__init(&rr[i]);
		rr[i].address = req->rcpts[i];
		rr[i].outcome = "pending";
		rp[i] = &rr[i];
	}
	rec.queue_id = (char *)qid;
	rec.message_id = pick(req->message_id, h->msgid);
	rec.header_from = pick(req->header_from, h->from);
	rec.to = h->to;
	rec.cc = h->cc;
	rec.subject = pick(req->subject, h->subject);
	rec.date = h->date;
	rec.mail_from = req->mail_from;
	rec.n_rcpts = req->n_rcpts;
	rec.rcpts = rp;
	rec.size = req->body.len;
	rec.dkim_selector = req->dkim_selector;
	rec.received_ms = req->received_ms;
	rec.tenant_id = req->tenant_id;
	rec.shard = (char *)shard;
	rec.source = req->source;
	rc = pack(&rec, buf, len);
error:
	free(rr);
	free(rp);
	free(h);
	return rc;
}

/* attempt_new - a malloc'd attempt from R (or the bare REPLY) */
static Ph__HeaderAttempt *
attempt_new(const Ph__RecipientResult *r, const char *reply, uint64_t now)
{
	Ph__HeaderAttempt *a = malloc(sizeof(*a));

	if (a == NULL)
		return NULL;
	ph__header_attempt__init(a);
	a->time_ms = now;
	a->outcome = r != NULL ? r->outcome : PH__OUTCOME__OUTCOME_DEFERRED;
	a->reply = strdup(r != NULL ? r->reply : reply);
	a->remote_host = strdup(r != NULL ? r->remote_host : "");
	a->tls_version = strdup(r != NULL ? r->tls_version : "");
	a->tls_cipher = strdup(r != NULL ? r->tls_cipher : "");
	if (a->reply && a->remote_host && a->tls_version && a->tls_cipher)
		return a;
	ph__header_attempt__free_unpacked(a, NULL);
	return NULL;
}

/* rcpt_append - add attempt A to RR (the last one is replaced when full) */
static int
rcpt_append(Ph__HeaderRecipient *rr, Ph__HeaderAttempt *a)
{
	Ph__HeaderAttempt **v;

	if (rr->n_attempts >= QHLOG_ATTEMPTS_MAX) {
		ph__header_attempt__free_unpacked(rr->attempts[rr->n_attempts - 1],
		    NULL);
		rr->attempts[rr->n_attempts - 1] = a;
		return 0;
	}
	v = realloc(rr->attempts, (rr->n_attempts + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	v[rr->n_attempts++] = a;
	rr->attempts = v;
	return 0;
}

/* str_free - a string of an unpacked message (absent ones are static) */
static void
str_free(char *s)
{
	if (s != protobuf_c_empty_string)
		free(s);
}

/* rcpt_state - outcome text and final fields of RR after STATE */
static int
rcpt_state(Ph__HeaderRecipient *rr, int state, const char *reply,
    uint64_t now)
{
	const char *name = state == QRCPT_DELIVERED ? "delivered" :
	    state == QRCPT_FAILED ? "failed" : "pending";
	char *o = strdup(name), *f = strdup(state != QRCPT_PENDING ? reply : "");

	if (o == NULL || f == NULL) {
		free(o);
		free(f);
		return -1;
	}
	str_free(rr->outcome);
	str_free(rr->final_reply);
	rr->outcome = o;
	rr->final_reply = f;
	rr->final_ms = state != QRCPT_PENDING ? now : 0;
	return 0;
}

/* qhlog_outcome - one attempt into M's record */
int
qhlog_outcome(struct qmsg *m, uint32_t i, const Ph__RecipientResult *r,
    const char *reply, uint64_t now)
{
	Ph__HeaderRecord *rec;
	Ph__HeaderAttempt *a;
	uint8_t *buf;
	size_t len;
	int rc = -1;

	rec = ph__header_record__unpack(NULL, m->hlen, m->hrec);
	if (rec == NULL)
		return -1;
	if (i >= rec->n_rcpts || (a = attempt_new(r, reply, now)) == NULL)
		goto done;
	if (rcpt_append(rec->rcpts[i], a) < 0) {
		ph__header_attempt__free_unpacked(a, NULL);
		goto done;
	}
	if (rcpt_state(rec->rcpts[i], m->rcpts[i].state, reply, now) < 0 ||
	    pack(rec, &buf, &len) < 0)
		goto done;
	free(m->hrec);
	m->hrec = buf;
	m->hlen = len;
	rc = 0;
done:
	ph__header_record__free_unpacked(rec, NULL);
	return rc;
}

/* qhlog_last - the last attempt of recipient I */
const Ph__HeaderAttempt *
qhlog_last(const Ph__HeaderRecord *rec, uint32_t i)
{
	const Ph__HeaderRecipient *rr;

	if (i >= rec->n_rcpts)
		return NULL;
	rr = rec->rcpts[i];
	return rr->n_attempts > 0 ? rr->attempts[rr->n_attempts - 1] : NULL;
}

/* msgid_eq - Message-IDs equal, angle brackets and blanks ignored */
static int
msgid_eq(const char *a, const char *b)
{
	size_t la, lb;

	a += strspn(a, " \t<");
	b += strspn(b, " \t<");
	la = strcspn(a, "> \t");
	lb = strcspn(b, "> \t");
	return la == lb && la > 0 && strncmp(a, b, la) == 0;
}

/* sender_match - ADDR is the envelope sender or in the header From */
static int
sender_match(const Ph__HeaderRecord *rec, const char *addr)
{
	return strcasecmp(rec->mail_from, addr) == 0 ||
	    (addr[0] != '\0' && strcasestr(rec->header_from, addr) != NULL);
}

/* rcpt_match - ADDR is one of the envelope recipients */
static int
rcpt_match(const Ph__HeaderRecord *rec, const char *addr)
{
	for (size_t i = 0; i < rec->n_rcpts; i++)
		if (strcasecmp(rec->rcpts[i]->address, addr) == 0)
			return 1;
	return 0;
}

/* qhlog_match - every filter of Q */
int
qhlog_match(const Ph__HeaderRecord *rec, const Ph__HeaderLogQuery *q)
{
	if (q->queue_id[0] != '\0' && strcmp(rec->queue_id, q->queue_id) != 0)
		return 0;
	if (q->message_id[0] != '\0' && !msgid_eq(rec->message_id, q->message_id))
		return 0;
	if (q->sender[0] != '\0' && !sender_match(rec, q->sender))
		return 0;
	return q->recipient[0] == '\0' || rcpt_match(rec, q->recipient);
}

/* query_add - keep REC when it matches (takes it) */
static int
query_add(struct query_ctx *c, Ph__HeaderRecord *rec)
{
	Ph__HeaderRecord **v;

	if (!qhlog_match(rec, c->q)) {
		ph__header_record__free_unpacked(rec, NULL);
		return 0;
	}
	if (c->rep->n_records == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		v = realloc(c->rep->records, c->cap * sizeof(*v));
		if (v == NULL) {
			ph__header_record__free_unpacked(rec, NULL);
			return -1;
		}
		c->rep->records = v;
	}
	c->rep->records[c->rep->n_records++] = rec;
	return 0;
}

/* query_one - a scanned record */
static int
query_one(void *arg, const char *qid, const void *val, size_t len)
{
	Ph__HeaderRecord *rec = ph__header_record__unpack(NULL, len, val);

	return rec != NULL ? query_add(arg, rec) : 0;
}

/* newest_first - qsort order on received_ms, descending */
static int
newest_first(const void *a, const void *b)
{
	const Ph__HeaderRecord *x = *(Ph__HeaderRecord *const *)a;
	const Ph__HeaderRecord *y = *(Ph__HeaderRecord *const *)b;

	return x->received_ms < y->received_ms ? 1 :
	    x->received_ms > y->received_ms ? -1 : strcmp(x->queue_id, y->queue_id);
}

/* query_trim - sort newest first and keep LIMIT */
static void
query_trim(Ph__HeaderLogReply *rep, size_t limit)
{
	if (rep->n_records > 1)
		qsort(rep->records, rep->n_records, sizeof(*rep->records),
		    newest_first);
	while (rep->n_records > limit)
		ph__header_record__free_unpacked(rep->records[--rep->n_records],
		    NULL);
}

/* query_point - the record of one queue id */
static int
query_point(struct query_ctx *c, struct queue_store *st, uint64_t retention)
{
	void *val = NULL;
	size_t len = 0;
	int rc = queue_store_get_hlog(st, c->q->queue_id, retention, &val, &len);

	if (rc == 0)
		rc = query_one(c, c->q->queue_id, val, len);
	free(val);
	return rc < 0 ? -1 : 0;
}

/* qhlog_query - point lookup or scan, then newest first */
int
qhlog_query(struct queue_store *st, uint64_t retention_ms,
    const Ph__HeaderLogQuery *q, Ph__HeaderLogReply *rep)
{
	struct query_ctx c = { q, rep, 0 };
	int rc;

	if (q->queue_id[0] != '\0')
		rc = query_point(&c, st, retention_ms);
	else
		rc = queue_store_scan_hlog(st, retention_ms, query_one, &c);
	query_trim(rep, q->limit ? q->limit : QHLOG_LIMIT_DEFAULT);
	return rc;
}

/* qhlog_reply_clear - free the records of REP */
void
qhlog_reply_clear(Ph__HeaderLogReply *rep)
{
	for (size_t i = 0; i < rep->n_records; i++)
		ph__header_record__free_unpacked(rep->records[i], NULL);
	free(rep->records);
	rep->records = NULL;
	rep->n_records = 0;
}
