/*
 * submit - the one submission pipeline of ph-smtpd and ph-httpd: an
 * identity, an envelope and an RFC 5322 message in; the same ordered steps
 * for every channel; one completion callback with a typed outcome that each
 * frontend maps to its own replies (SMTP lines, HTTPS JSON).
 *
 * The steps, in order (the first that refuses ends the submission):
 *   1. the message as stored: out of memory while reading it (NOMEM), more
 *      than max_message_size bytes (TOO_BIG; the size check comes first
 *      because a frontend stops storing at the limit, so the stored header
 *      of such a message may be cut);
 *   2. the header scan (submit_header): PARSE_ERROR; a message without
 *      Message-ID gets "Message-ID: <id@hostname>" after the frontend's
 *      Received: line;
 *   3. approved senders: the envelope sender, then every mailbox of the
 *      header From (NOT_AUTHORIZED with the first refused address);
 *   4. suppression of each recipient not checked yet (SMTP checks at RCPT
 *      with submit_rcpt_check, HTTPS here); nothing left to deliver ends the
 *      submission as ALL_SUPPRESSED (accepted, nothing enqueued);
 *   5. the tenant's sending limits in ph-ratelimiter: cost recipients to
 *      deliver * started 2 MB (ratelimit_cost); RATE_LIMITED, or
 *      RL_UNAVAILABLE when no shard answered in time (fails closed);
 *   6. DKIM: when the header From's domain has an ACTIVE key in the tenant,
 *      signing on a worker thread (submit_dkim); SIGN_FAILED;
 *   7. the enqueue with fail-over over the queue shards (queue_client):
 *      ACCEPTED with the shard's queue id, or STORAGE_FAILED when no shard
 *      stored the message; ph-queue writes the header log from the request
 *      (message_id: the Message-ID field as in the message, header_from: the
 *      first mailbox of From, subject: the Subject field, source: the
 *      channel), so a message leaves the same record on every channel;
 *   8. the accepted-log records (submit_log), one per recipient, the same
 *      on every channel;
 *   9. DONE, once.
 */
#ifndef SUBMIT_H
#define SUBMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rl_client.h"

struct event_base;
struct policy;
struct queue_client;
struct submit_buf;
struct submit_service;
struct submit_work;

enum submit_channel { SUBMIT_SMTP, SUBMIT_HTTPS };
/* submit_channel_name - "smtp" / "https" (the EnqueueRequest's source) */
const char *submit_channel_name(enum submit_channel c);

/* submit_ident - who submits */
struct submit_ident {
	const char *tenant_id;		/* "": nobody (every sender is refused) */
	const char *user_id;		/* "": a trusted client of the tenant (any
					 * compartment) */
	const char *compartment_id;	/* "": any compartment the user may use
					 * (SMTP); HTTPS: the request's, which the
					 * user must be allowed to use */
};

enum submit_rcpt_state {
	SUBMIT_RCPT_NEW,		/* not checked yet: the pipeline checks */
	SUBMIT_RCPT_DELIVER,
	SUBMIT_RCPT_SUPPRESSED
};

struct submit_rcpt {
	char *addr;
	enum submit_rcpt_state state;
};

enum submit_outcome {
	SUBMIT_ACCEPTED,		/* queue_id: the id the shard gave it */
	SUBMIT_ALL_SUPPRESSED,		/* nothing to deliver; queue_id: the submission id */
	SUBMIT_NOT_AUTHORIZED,		/* address: the sender refused */
	SUBMIT_TOO_BIG,
	SUBMIT_PARSE_ERROR,
	SUBMIT_RATE_LIMITED,		/* rate: which limit, its value */
	SUBMIT_RL_UNAVAILABLE,		/* no ratelimiter shard answered in time */
	SUBMIT_SIGN_FAILED,
	SUBMIT_STORAGE_FAILED,		/* no queue shard stored the message */
	SUBMIT_NOMEM,
	SUBMIT_OUTCOME_COUNT
};
/* submit_outcome_name - for logs */
const char *submit_outcome_name(enum submit_outcome o);

/* submit_result - what DONE gets; valid during the call only */
struct submit_result {
	enum submit_outcome outcome;
	const char *queue_id;		/* ACCEPTED, ALL_SUPPRESSED; else "" */
	const char *message_id;		/* without angle brackets; "" before the scan */
	const char *address;		/* NOT_AUTHORIZED; else "" */
	struct rl_result rate;		/* RATE_LIMITED */
};

/* submit_req - one submission; the pointers are borrowed and must stay
 * valid until DONE ran or the submission was cancelled */
struct submit_req {
	enum submit_channel channel;
	const char *id;			/* 32 hex: the submission id (Received: id,
					 * generated Message-ID, ALL_SUPPRESSED's queue id) */
	struct submit_ident who;
	const char *mail_from;		/* the envelope sender */
	struct submit_rcpt *rcpts;	/* their state is set by step 4 */
	size_t nrcpt;
	struct submit_buf *msg;		/* the frontend's Received: line, then the
					 * message, CRLF line ends; edited in place */
	size_t msg_start;		/* where the client's message begins in msg */
	size_t msg_size;		/* bytes received, Received: line included
					 * (more than msg->len when the frontend
					 * stopped storing at the limit) */
	bool msg_nomem;			/* the frontend could not store the message */
	const char *client_ip;
	const char *helo;		/* "" over HTTPS */
	uint64_t received_ms;
};

/* submit_done_fn - the end of a submission (R valid during the call only) */
typedef void (*submit_done_fn)(void *arg, const struct submit_result *r);

/* submit_conf - what a frontend gives its pipeline: its clients (they stay
 * the frontend's; the service only uses them) and its [smtpd] / [httpd]
 * values */
struct submit_conf {
	struct policy *policy;		/* NULL: not available (every sender refused) */
	struct rl_client *rl;
	struct queue_client *queue;
	const char *hostname;		/* Received: lines, generated Message-IDs */
	size_t max_message_size;
	uint64_t default_per_minute, default_per_day;
	int worker_threads;		/* the pool's threads; 0: none (unit tests:
					 * signing then fails) */
};

/* submit_service_xnew - the pipeline of a frontend with its worker pool on
 * BASE (CONF is copied, the hostname too); fatal when either cannot be had
 * (process setup) */
struct submit_service *submit_service_xnew(struct event_base *base,
    const struct submit_conf *conf);
/* submit_service_free - every pending submission is cancelled, then the
 * worker pool ends (every job left ends cancelled) */
void submit_service_free(struct submit_service *svc);
/* submit_service_work - the worker pool (also for SMTP AUTH's scrypt);
 * NULL without threads */
struct submit_work *submit_service_work(const struct submit_service *svc);

/* submit_start - run the steps of REQ (copied; see submit_req) for ARG.
 * DONE(ARG, result) runs exactly once: at once when a step that needs no
 * peer ends the submission, else later from the loop; never after
 * submit_cancel(svc, ARG). One submission per ARG at a time. */
void submit_start(struct submit_service *svc, const struct submit_req *req,
    submit_done_fn done, void *arg);
/* submit_cancel - ARG's submission (if any) ends without DONE and without
 * records; its pending calls are forgotten */
void submit_cancel(struct submit_service *svc, void *arg);

/* submit_sender_check - step 3 for one address: 0 when ADDRESS is an
 * approved sender WHO may send as, -1 when not; the approved sender's
 * compartment into COMPARTMENT (LEN bytes) when not NULL */
int submit_sender_check(const struct submit_service *svc, const struct submit_ident *who,
    const char *address, char *compartment, size_t len);
/* submit_rcpt_check - step 4 for one recipient: its state */
enum submit_rcpt_state submit_rcpt_check(const struct submit_service *svc,
    const struct submit_ident *who, const char *address);

/* submit_status - the SMTP form of R's outcome for the recipients to
 * deliver (the accepted log's smtpStatus, and ph-smtpd's reply to DATA
 * unless accepted): "552 Exceeds byte limit", "455 Maximum messages ...";
 * "" for ACCEPTED and ALL_SUPPRESSED (each recipient has its own) */
void submit_status(const struct submit_result *r, char *buf, size_t len);
/* submit_error_type - the accepted log's errorType of R; NULL when accepted */
const char *submit_error_type(const struct submit_result *r);

/* submit_received - start MSG with the frontend's Received: line for a
 * message from CLIENT_IP (HELO "" over HTTPS) received over PROTOCOL
 * ("ESMTP", "SMTP", "HTTPS") at MS; 0 or -1 (out of memory). The line's
 * length is the submission's msg_start. */
int submit_received(const struct submit_service *svc, struct submit_buf *msg,
    const char *protocol, const char *helo, const char *client_ip, const char *id,
    uint64_t ms);

#endif
