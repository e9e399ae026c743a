/*
 * smtp_acl - CIDR network lists ([smtpd] trusted_networks).
 *
 * DIAGNOSTICS: a bad entry makes smtp_acl_new fail (the caller's fatal).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_acl.h"

struct smtp_net {
	int family;
	unsigned char addr[16];
	int bits;
};

struct smtp_acl {
	struct smtp_net *nets;
	size_t n;
};

/* smtp_acl_parse - one "addr[/bits]" entry; 0 or -1 */
static int
smtp_acl_parse(const char *text, struct smtp_net *net)
{
	char buf[64], *slash, *end;
	int max;

	snprintf(buf, sizeof(buf), "%s", text);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	net->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	max = net->family == AF_INET6 ? 128 : 32;
	if (inet_pton(net->family, buf, net->addr) != 1)
		return -1;
	net->bits = max;
	if (slash) {
		net->bits = (int)strtol(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || net->bits < 0 || net->bits > max)
			return -1;
	}
	return 0;
}

/* smtp_acl_new - parse every entry */
struct smtp_acl *
smtp_acl_new(const struct strvec *nets, const char **bad)
{
	struct smtp_acl *acl = calloc(1, sizeof(*acl));
	size_t i;

	if (acl == NULL || (nets->n && (acl->nets = calloc(nets->n, sizeof(*acl->nets))) == NULL))
		goto error;
	for (i = 0; i < nets->n; i++) {
		if (smtp_acl_parse(nets->v[i], &acl->nets[i]) < 0) {
			*bad = nets->v[i];
			goto error;
		}
	}
	acl->n = nets->n;
	return acl;
error:
	smtp_acl_free(acl);
	return NULL;
}

/* smtp_acl_free - release */
void
smtp_acl_free(struct smtp_acl *acl)
{
	if (acl == NULL)
		return;
	free(acl->nets);
	free(acl);
}

/* smtp_net_match - ADDR (FAMILY) inside NET */
static bool
smtp_net_match(const struct smtp_net *net, int family, const unsigned char *addr)
{
	int full = net->bits / 8, rest = net->bits % 8;
	unsigned char mask;

	if (net->family != family || memcmp(net->addr, addr, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (addr[full] & mask);
}

/* smtp_acl_match_raw - FAMILY/ADDR against every entry */
static bool
smtp_acl_match_raw(const struct smtp_acl *acl, int family, const unsigned char *addr)
{
	static const unsigned char mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
	size_t i;

	if (family == AF_INET6 && memcmp(addr, mapped, 12) == 0) {
		family = AF_INET;
		addr += 12;
	}
	for (i = 0; i < acl->n; i++)
		if (smtp_net_match(&acl->nets[i], family, addr))
			return true;
	return false;
}

/* smtp_acl_match - is the peer SA in the list */
bool
smtp_acl_match(const struct smtp_acl *acl, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return smtp_acl_match_raw(acl, AF_INET,
		    (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return smtp_acl_match_raw(acl, AF_INET6,
		    (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

/* smtp_acl_match_str - textual address */
bool
smtp_acl_match_str(const struct smtp_acl *acl, const char *ip)
{
	unsigned char addr[16];
	int family = strchr(ip, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(family, ip, addr) != 1)
		return false;
	return smtp_acl_match_raw(acl, family, addr);
}
