/*
 * submit_log - the "accepted" event records (common/base/log.h eventlog,
 * research notes 7.3 field names): one per recipient of every submission,
 * whatever the channel, written by the pipeline when a submission ends, and
 * by the SMTP frontend for what ends before one (an invalid recipient, a
 * refused MAIL FROM, RSET, a lost connection).
 *
 * Fields: recipient, sender (first mailbox of the header From, else the
 * envelope sender), action "accept", errorType (absent on success),
 * smtpStatus (the SMTP form of the outcome for that recipient, over HTTPS
 * too: the records of one message are the same on both channels),
 * messageId (without angle brackets), sourceAddress (the client),
 * senderCompartmentId (the approved sender's compartment, when known).
 */
#ifndef SUBMIT_LOG_H
#define SUBMIT_LOG_H

#include <stddef.h>

struct submit_ident;
struct submit_rcpt;

/* submit_record - one record; NULL or "" leaves an optional field out */
struct submit_record {
	const char *tenant_id;		/* the record's source */
	const char *recipient;		/* optional */
	const char *sender;
	const char *error_type;		/* optional: absent when accepted */
	const char *status;		/* smtpStatus */
	const char *message_id;		/* optional */
	const char *client_ip;		/* sourceAddress */
	const char *compartment_id;	/* senderCompartmentId, optional */
};

/* submit_log_record - write R */
void submit_log_record(const struct submit_record *r);
/* submit_rcpt_status - the status of recipient R sent by WHO: "254 4.7.1
 * Suppression for user <user, else tenant> to <addr>" when suppressed, else
 * "250 2.1.5 <addr> and options Ok" (SMTP's RCPT reply, and the record of
 * an accepted recipient) */
void submit_rcpt_status(const struct submit_rcpt *r, const struct submit_ident *who,
    char *buf, size_t len);
/* submit_log_rcpts - one record per recipient of RCPTS[0..n): suppressed
 * ones with their 254 and errorType "Recipient suppressed", the others with
 * BASE's status and error type, or their 250 2.1.5 when BASE->error_type is
 * NULL. BASE's recipient is ignored. */
void submit_log_rcpts(const struct submit_record *base, const struct submit_rcpt *rcpts,
    size_t n, const struct submit_ident *who);

#endif
