/*
 * addr - email address syntax: RFC 5321 paths ("<local@domain>") and
 * mailboxes, and RFC 5322 address lists in header fields.
 *
 * Accepted mailboxes: a dot-atom or quoted-string local part (at most 64
 * octets), "@", and a domain of LDH labels (each 1-63 octets, no leading or
 * trailing hyphen, at most 255 octets) or an address literal [1.2.3.4] /
 * [IPv6:...]. 8-bit octets are refused (no SMTPUTF8).
 *
 * DIAGNOSTICS: none; every function reports bad syntax by its return value.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"

#define ADDR_LOCAL_MAX 64
#define ADDR_DOMAIN_MAX 255

/* addr_atext - RFC 5322 atext */
static bool
addr_atext(unsigned char c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* addr_local_len - length of a valid local part at S (ends at '@'), -1 if bad */
static int
addr_local_len(const char *s)
{
	const char *p = s;

	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\\')
				p++;
			if ((unsigned char)*p < 32 || (unsigned char)*p > 126)
				return -1;
		}
		p++;
	} else {
		for (;;) {
			const char *atom = p;

			while (addr_atext((unsigned char)*p))
				p++;
			if (p == atom)
				return -1;
			if (*p != '.')
				break;
			p++;
		}
	}
	if (*p != '@' || p - s > ADDR_LOCAL_MAX)
		return -1;
	return (int)(p - s);
}

/* addr_literal_valid - "[1.2.3.4]" or "[IPv6:::1]" */
static bool
addr_literal_valid(const char *d)
{
	char buf[64];
	unsigned char bin[16];
	size_t len = strlen(d);

	if (len < 3 || d[len - 1] != ']' || len - 2 >= sizeof(buf))
		return false;
	memcpy(buf, d + 1, len - 2);
	buf[len - 2] = '\0';
	if (strncasecmp(buf, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, buf + 5, bin) == 1;
	return inet_pton(AF_INET, buf, bin) == 1;
}

/* addr_domain_valid - LDH labels separated by dots, or an address literal */
static bool
addr_domain_valid(const char *d)
{
	const char *p = d;

	if (*d == '[')
		return addr_literal_valid(d);
	if (strlen(d) > ADDR_DOMAIN_MAX)
		return false;
	for (;;) {
		const char *label = p;

		while (isalnum((unsigned char)*p) || *p == '-')
			p++;
		if (p == label || p - label > 63 || *label == '-' || p[-1] == '-')
			return false;
		if (*p == '\0')
			return true;
		if (*p != '.')
			return false;
		p++;
	}
}

/* addr_valid - a dot-atom or quoted-string local part, "@", a domain */
bool
addr_valid(const char *mailbox)
{
	int n;

	if (strlen(mailbox) > ADDR_MAX)
		return false;
	if ((n = addr_local_len(mailbox)) < 0)
		return false;
	return addr_domain_valid(mailbox + n + 1);
}

/* addr_domain - pointer to the domain part, "" if none */
const char *
addr_domain(const char *mailbox)
{
	const char *at = strrchr(mailbox, '@');

	return at ? at + 1 : "";
}

/* addr_lower - lowercase in place (ASCII) */
void
addr_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* addr_skip_route - skip an RFC 5321 source route "@a,@b:" */
static const char *
addr_skip_route(const char *p)
{
	const char *colon;

	if (*p != '@')
		return p;
	colon = strchr(p, ':');
	if (colon == NULL)
		return NULL;
	return colon + 1;
}

/* addr_path_end - the closing '>' of the path starting after '<' at P, quotes respected */
static const char *
addr_path_end(const char *p)
{
	bool quoted = false;

	for (; *p; p++) {
		if (quoted && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '>')
			return p;
	}
	return NULL;
}

/* addr_parse_path - "<local@domain>" or "<>" at S, see addr.h */
int
addr_parse_path(const char *s, bool allow_null, char out[ADDR_MAX + 1],
    const char **rest)
{
	const char *p = s, *end, *box;
	size_t len;

	while (*p == ' ')
		p++;
	if (*p++ != '<' || (end = addr_path_end(p)) == NULL)
		return -1;
	if ((box = addr_skip_route(p)) == NULL || box > end)
		return -1;
	len = (size_t)(end - box);
	if (len > ADDR_MAX || (len == 0 && (!allow_null || box != p)))
		return -1;
	memcpy(out, box, len);
	out[len] = '\0';
	if (len > 0 && !addr_valid(out))
		return -1;
	if (rest)
		*rest = end + 1;
	return 0;
}

/*
 * Address lists. A small scanner walks the value once at the top level,
 * keeping track of quoted strings, comments (nested) and angle brackets, and
 * cuts it into mailboxes at commas, group starts ':' and group ends ';'. Each
 * mailbox is the text inside <...> when it has one, otherwise the addr-spec
 * with comments and folding white space removed.
 */
struct addr_scan {
	char spec[ADDR_MAX + 1];	/* addr-spec collected outside <> */
	size_t spec_len;
	char angle[ADDR_MAX + 1];	/* content of <...> */
	size_t angle_len;
	bool has_angle, in_angle, overflow;
	int count;
	void (*fn)(void *arg, const char *mailbox);
	void *arg;
};

/* addr_scan_put - append C to the part being collected */
static void
addr_scan_put(struct addr_scan *sc, char c)
{
	char *buf = sc->in_angle ? sc->angle : sc->spec;
	size_t *len = sc->in_angle ? &sc->angle_len : &sc->spec_len;

	if (*len >= ADDR_MAX) {
		sc->overflow = true;
		return;
	}
	buf[(*len)++] = c;
}

/* addr_scan_emit - finish one mailbox; empty ones are skipped. 0 or -1 */
static int
addr_scan_emit(struct addr_scan *sc)
{
	const char *box;

	if (sc->overflow)
		return -1;
	sc->spec[sc->spec_len] = '\0';
	sc->angle[sc->angle_len] = '\0';
	box = sc->has_angle ? addr_skip_route(sc->angle) : sc->spec;
	sc->spec_len = sc->angle_len = 0;
	if (!sc->has_angle && *box == '\0')
		return 0;
	sc->has_angle = false;
	if (box == NULL || !addr_valid(box))
		return -1;
	sc->count++;
	sc->fn(sc->arg, box);
	return 0;
}

/* addr_scan_quoted - copy a quoted string at P (on '"'); returns the end or NULL */
static const char *
addr_scan_quoted(struct addr_scan *sc, const char *p, const char *end)
{
	addr_scan_put(sc, *p++);
	for (; p < end; p++) {
		if (*p == '\\' && p + 1 < end) {
			addr_scan_put(sc, *p++);
			addr_scan_put(sc, *p);
			continue;
		}
		if (*p == '\r' || *p == '\n')
			continue;
		addr_scan_put(sc, *p);
		if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* addr_scan_comment - skip a (nested) comment at P; returns the end or NULL */
static const char *
addr_scan_comment(const char *p, const char *end)
{
	int depth = 0;

	for (; p < end; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		else if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p + 1;
	}
	return NULL;
}

/* addr_scan_special - handle a top-level structural char; 1 if consumed, -1 bad */
static int
addr_scan_special(struct addr_scan *sc, char c)
{
	switch (c) {
	case '<':
		if (sc->in_angle || sc->has_angle)
			return -1;
		sc->in_angle = sc->has_angle = true;
		return 1;
	case '>':
		if (!sc->in_angle)
			return -1;
		sc->in_angle = false;
		sc->spec_len = 0;	/* what came before was a display name */
		return 1;
	case ':':
		if (sc->in_angle)
			return 0;	/* source route inside <...> */
		sc->spec_len = 0;	/* group display name */
		return 1;
	case ',':
	case ';':
		if (sc->in_angle)
			return 0;
		return addr_scan_emit(sc) < 0 ? -1 : 1;
	default:
		return 0;
	}
}

/* addr_list_parse - extract each mailbox's addr-spec; count or -1 */
int
addr_list_parse(const char *value, size_t len,
    void (*fn)(void *arg, const char *mailbox), void *arg)
{
	struct addr_scan sc = { .fn = fn, .arg = arg };
	const char *p = value, *end = value + len;
	int r;

	while (p != NULL && p < end) {
		if (*p == '"') {
			p = addr_scan_quoted(&sc, p, end);
			continue;
		}
		if (*p == '(') {
			p = addr_scan_comment(p, end);
			continue;
		}
		if ((r = addr_scan_special(&sc, *p)) < 0)
			return -1;
		if (r == 0 && !isspace((unsigned char)*p)) {
			if (*p == '\0' || (unsigned char)*p >= 0x80)
				return -1;
			addr_scan_put(&sc, *p);
		}
		p++;
	}
	if (p == NULL || sc.in_angle || addr_scan_emit(&sc) < 0)
		return -1;
	return sc.count;
}

/* hostport_parse - split a next hop into host and port */
int hostport_parse(const char *s, char *host, size_t hostlen,
    unsigned *port, unsigned default_port)
{
	const char *end, *colon;
	size_t n;
	char *ep;
	long p;

	if (*s == '[') {
		if (!(end = strchr(s, ']')))
			return -1;
		n = (size_t)(end - s - 1);
		s++;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && !colon)
			return -1;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			colon = NULL;	/* bare IPv6 literal without a port */
		n = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = default_port;
	if (!colon)
		return 0;
	p = strtol(colon + 1, &ep, 10);
	if (ep == colon + 1 || *ep != '\0' || p < 1 || p > 65535)
		return -1;
	*port = (unsigned)p;
	return 0;
}
