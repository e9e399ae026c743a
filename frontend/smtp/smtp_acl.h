/*
 * smtp_acl - a list of networks (CIDR) and the question "is this client
 * address in it?". IPv4-mapped IPv6 clients (::ffff:a.b.c.d) match IPv4 entries.
 */
#ifndef SMTP_ACL_H
#define SMTP_ACL_H

#include <stdbool.h>
#include <sys/socket.h>

#include "config.h"

struct smtp_acl;

/* smtp_acl_new - from entries like "127.0.0.0/8", "::1/128", "10.1.2.3";
 * NULL with *bad set to the first unparseable entry */
struct smtp_acl *smtp_acl_new(const struct strvec *nets, const char **bad);
void smtp_acl_free(struct smtp_acl *acl);
bool smtp_acl_match(const struct smtp_acl *acl, const struct sockaddr *sa);
/* smtp_acl_match_str - the same for a textual address (tests) */
bool smtp_acl_match_str(const struct smtp_acl *acl, const char *ip);

#endif
