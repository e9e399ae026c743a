/*
 * relay_dns_ttl - TTLs from raw DNS messages (RFC 1035 4.1), for the cache
 * of relay_dns: c-ares 1.18 parses MX answers without their TTLs and gives
 * no SOA of a negative answer, so the few fields needed are read here.
 * Pure functions over the bytes c-ares hands to an ares_query callback.
 *
 * DIAGNOSTICS: none; a truncated or malformed message is -1.
 */
#include <string.h>
#include "relay_dns.h"

#define DNS_HEADER 12
#define DNS_T_SOA 6
#define DNS_SOA_MIN_OFF 4	/* the minimum field: last 4 bytes of SOA rdata */

/* dns_rr - the fixed part of one resource record */
struct dns_rr {
	unsigned type;
	uint32_t ttl;
	size_t rdata;		/* offset of the rdata */
	size_t rdlen;
};

/* get16 / get32 - network order */
static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* dns_skip_name - offset after the (possibly compressed) name at OFF; 0
 * when it runs past LEN */
static size_t dns_skip_name(const unsigned char *m, size_t len, size_t off)
{
	while (off < len) {
		if ((m[off] & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : 0;
		if (m[off] == 0)
			return off + 1;
		off += 1 + (size_t)m[off];
	}
	return 0;
}

/* dns_read_rr - the record at *OFF into RR, *OFF moved past it; -1 when
 * malformed */
static int dns_read_rr(const unsigned char *m, size_t len, size_t *off,
    struct dns_rr *rr)
{
	size_t p = dns_skip_name(m, len, *off);

	if (p == 0 || p + 10 > len)
		return -1;
	rr->type = get16(m + p);
	rr->ttl = get32(m + p + 4) & 0x7fffffffu;	/* RFC 2181 8 */
	rr->rdlen = get16(m + p + 8);
	rr->rdata = p + 10;
	if (rr->rdata + rr->rdlen > len)
		return -1;
	*off = rr->rdata + rr->rdlen;
	return 0;
}

/* dns_sections - offset of the first answer record and the answer and
 * authority counts; -1 when malformed */
static int dns_sections(const unsigned char *m, size_t len, size_t *off,
    unsigned *nan, unsigned *nns)
{
	unsigned i, nq;

	if (len < DNS_HEADER)
		return -1;
	nq = get16(m + 4);
	*nan = get16(m + 6);
	*nns = get16(m + 8);
	*off = DNS_HEADER;
	for (i = 0; i < nq; i++) {
		if (!(*off = dns_skip_name(m, len, *off)) || *off + 4 > len)
			return -1;
		*off += 4;
	}
	return 0;
}

/* relay_dns_answer_ttl - smallest TTL of the answers of TYPE */
int relay_dns_answer_ttl(const unsigned char *abuf, size_t alen, unsigned type,
    uint32_t *ttl)
{
	unsigned i, nan, nns;
	struct dns_rr rr;
	size_t off;
	int found = -1;

	if (dns_sections(abuf, alen, &off, &nan, &nns) < 0)
		return -1;
	for (i = 0; i < nan; i++) {
		if (dns_read_rr(abuf, alen, &off, &rr) < 0)
			return -1;
		if (rr.type != type || (found == 0 && rr.ttl >= *ttl))
			continue;
		*ttl = rr.ttl;
		found = 0;
	}
	return found;
}

/* relay_dns_negative_ttl - min(SOA TTL, SOA minimum) of the authority */
int relay_dns_negative_ttl(const unsigned char *abuf, size_t alen,
    uint32_t *ttl)
{
	unsigned i, nan, nns;
	struct dns_rr rr;
	uint32_t min;
	size_t off;

	if (dns_sections(abuf, alen, &off, &nan, &nns) < 0)
		return -1;
	for (i = 0; i < nan + nns; i++) {
		if (dns_read_rr(abuf, alen, &off, &rr) < 0)
			return -1;
		if (i < nan || rr.type != DNS_T_SOA || rr.rdlen < 22)
			continue;
		min = get32(abuf + rr.rdata + rr.rdlen - DNS_SOA_MIN_OFF);
		*ttl = rr.ttl < min ? rr.ttl : min;
		return 0;
	}
	return -1;
}
