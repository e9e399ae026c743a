/*
 * submit_log - "accepted" event records (see submit_log.h).
 *
 * DIAGNOSTICS: none; a record that cannot be built (out of memory) is
 * dropped, as eventlog_write drops what it cannot write.
 */
#include <stdio.h>
#include <jansson.h>

#include "addr.h"
#include "log.h"
#include "submit.h"
#include "submit_log.h"

/* set_opt - KEY: VALUE unless VALUE is NULL or "" */
static void
set_opt(json_t *d, const char *key, const char *value)
{
	if (value != NULL && *value != '\0')
		json_object_set_new(d, key, json_string(value));
}

/* submit_log_record - one JSON record into the "accepted" log */
void
submit_log_record(const struct submit_record *r)
{
	json_t *d = json_object();

	if (d == NULL)
		return;
	set_opt(d, "recipient", r->recipient);
	json_object_set_new(d, "sender", json_string(r->sender ? r->sender : ""));
	json_object_set_new(d, "action", json_string("accept"));
	set_opt(d, "errorType", r->error_type);
	json_object_set_new(d, "smtpStatus", json_string(r->status));
	set_opt(d, "messageId", r->message_id);
	json_object_set_new(d, "sourceAddress", json_string(r->client_ip));
	set_opt(d, "senderCompartmentId", r->compartment_id);
	eventlog_write("accepted", r->tenant_id, d);
}

/* submit_rcpt_status - 254 for a suppressed recipient, else 250 2.1.5 */
void
submit_rcpt_status(const struct submit_rcpt *r, const struct submit_ident *who,
    char *buf, size_t len)
{
	if (r->state == SUBMIT_RCPT_SUPPRESSED)
		snprintf(buf, len, "254 4.7.1 Suppression for user %s to %s",
		    who->user_id[0] ? who->user_id : who->tenant_id, r->addr);
	else
		snprintf(buf, len, "250 2.1.5 %s and options Ok", r->addr);
}

/* submit_log_rcpts - a record for each recipient */
void
submit_log_rcpts(const struct submit_record *base, const struct submit_rcpt *rcpts,
    size_t n, const struct submit_ident *who)
{
	struct submit_record r = *base;
	char status[ADDR_MAX + 256];

	for (size_t i = 0; i < n; i++) {
		r.recipient = rcpts[i].addr;
		r.status = base->status;
		r.error_type = base->error_type;
		if (rcpts[i].state == SUBMIT_RCPT_SUPPRESSED || base->error_type == NULL) {
			submit_rcpt_status(&rcpts[i], who, status, sizeof(status));
			r.status = status;
			if (rcpts[i].state == SUBMIT_RCPT_SUPPRESSED)
				r.error_type = "Recipient suppressed";
		}
		submit_log_record(&r);
	}
}
