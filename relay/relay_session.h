/*
 * relay_session - one outbound SMTP connection (client side): connect, greeting,
 * EHLO (HELO fallback), opportunistic STARTTLS, then any number of
 * transactions MAIL / RCPT... / DATA with PIPELINING when offered, RSET only
 * after a failed transaction, QUIT after [relay] idle_timeout.
 */
#ifndef PH_RELAY_SESSION_H
#define PH_RELAY_SESSION_H

#include <stdbool.h>
#include "relay.h"
#include "relay_dns.h"

struct relay_dest;
struct relay_session;

/* relay_session_new - connect to the addresses AS (a reference is taken) in
 * order; reports to D through relay_dest_session_up / _gone */
struct relay_session *relay_session_new(struct relay *r, struct relay_dest *d,
    struct relay_addrs *as);
/* relay_session_idle - established and without a task */
bool relay_session_idle(const struct relay_session *s);
bool relay_session_established(const struct relay_session *s);
/* relay_session_retire_unless_in - unless S's address is in AS (a newer
 * DNS answer), S takes no further task and QUITs when idle */
void relay_session_retire_unless_in(struct relay_session *s,
    const struct relay_addrs *as);
/* relay_session_deliver - hand task T to idle session S */
void relay_session_deliver(struct relay_session *s, struct relay_task *t);
/* relay_session_free - close at once, drop its task unreported (shutdown);
 * the dest is not told */
void relay_session_free(struct relay_session *s);

#endif
