/*
 * addr - email address syntax (RFC 5321 paths and mailboxes, RFC 5322 address
 * lists in header fields). Used by the frontends, the relay and phctl.
 */
#ifndef PH_ADDR_H
#define PH_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#define ADDR_MAX 320	/* 64 local-part + @ + 255 domain */

/* addr_parse_path - parse an SMTP path "<local@domain>" (RFC 5321 4.1.2,
 * source routes "@a,@b:" skipped) at the start of S. "<>" yields "" (the null
 * sender) and is allowed only when ALLOW_NULL. On success copies the mailbox
 * into OUT, sets *REST to what follows the closing '>' (ESMTP parameters) and
 * returns 0; -1 for bad syntax. */
int addr_parse_path(const char *s, bool allow_null, char out[ADDR_MAX + 1],
    const char **rest);
/* addr_valid - a dot-atom or quoted-string local part, "@", a domain of
 * LDH labels or an address literal [1.2.3.4] */
bool addr_valid(const char *mailbox);
/* addr_domain - pointer to the domain part (after the last '@'), "" if none */
const char *addr_domain(const char *mailbox);
/* addr_lower - lowercase in place (ASCII) */
void addr_lower(char *s);
/* addr_list_parse - extract the addr-spec of each mailbox of a header field
 * value such as From: "A" <a@x>, b@y (group syntax and comments handled).
 * Calls FN for each; returns the count, -1 for an unparseable value. */
int addr_list_parse(const char *value, size_t len,
    void (*fn)(void *arg, const char *mailbox), void *arg);

/* hostport_parse - "host", "host:port", "[v6]:port", "[v6]" into
 * HOST/PORT (DEFAULT_PORT when none); -1 when malformed */
int hostport_parse(const char *s, char *host, size_t hostlen,
    unsigned *port, unsigned default_port);

#endif
