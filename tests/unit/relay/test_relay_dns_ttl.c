/*
 * test_relay_dns_ttl - TTLs read from raw DNS messages for the relay's DNS
 * cache: the smallest answer TTL of a type (names compressed or not), the
 * RFC 2308 negative TTL from an authority SOA, malformed input refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "relay_dns.h"

#define T_A 1
#define T_MX 15

/* msg - a DNS message being built */
struct msg {
	unsigned char b[512];
	size_t n;
};

static void put(struct msg *m, const void *p, size_t len)
{
	memcpy(m->b + m->n, p, len);
	m->n += len;
}

static void put16(struct msg *m, unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	put(m, b, 2);
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

/* header - id, flags (RCODE), counts */
static void header(struct msg *m, unsigned rcode, unsigned an, unsigned ns,
    unsigned ar)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, 0x8180 | rcode);
	put16(m, 1);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
	put(m, "\7example\3com\0", 13);	/* question name at offset 12 */
	put16(m, T_MX);
	put16(m, 1);
}

/* rr - a record owned by the question name (pointer 0xc00c) */
static void rr(struct msg *m, unsigned type, uint32_t ttl, const void *rdata,
    size_t rdlen)
{
	put16(m, 0xc00c);
	put16(m, type);
	put16(m, 1);
	put32(m, ttl);
	put16(m, (unsigned)rdlen);
	put(m, rdata, rdlen);
}

/* mx_answer - two MX (TTL 300 and 60) and an additional A (TTL 5) */
static void mx_answer(struct msg *m)
{
	header(m, 0, 2, 0, 1);
	rr(m, T_MX, 300, "\0\12\3mx1\300\14", 8);
	rr(m, T_MX, 60, "\0\24\3mx2\300\14", 8);
	put(m, "\3mx1\7example\3com\0", 17);	/* uncompressed owner */
	put16(m, T_A);
	put16(m, 1);
	put32(m, 5);
	put16(m, 4);
	put(m, "\177\0\0\2", 4);
}

/* soa_rdata - mname, rname (compressed), serial..minimum */
static size_t soa_rdata(unsigned char *out, uint32_t minimum)
{
	struct msg m = { .n = 0 };

	put(&m, "\2ns\300\14\4host\300\14", 12);
	put32(&m, 2024010101);
	put32(&m, 3600);
	put32(&m, 600);
	put32(&m, 86400);
	put32(&m, minimum);
	memcpy(out, m.b, m.n);
	return m.n;
}

static void test_smallest_answer_ttl(void **state)
{
	struct msg m;
	uint32_t ttl = 0;

	mx_answer(&m);
	assert_int_equal(relay_dns_answer_ttl(m.b, m.n, T_MX, &ttl), 0);
	assert_int_equal(ttl, 60);
	/* the A record is in the additional section, not an answer */
	assert_int_equal(relay_dns_answer_ttl(m.b, m.n, T_A, &ttl), -1);
	/* no SOA in a positive answer */
	assert_int_equal(relay_dns_negative_ttl(m.b, m.n, &ttl), -1);
}

static void test_negative_ttl_soa(void **state)
{
	static const struct { uint32_t ttl, minimum, want; } cases[] = {
		{ 900, 120, 120 }, { 30, 120, 30 }, { 0, 300, 0 },
	};
	unsigned char rd[64];
	struct msg m;
	uint32_t ttl;
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		header(&m, 3, 0, 1, 0);
		n = soa_rdata(rd, cases[i].minimum);
		rr(&m, 6, cases[i].ttl, rd, n);
		ttl = 12345;
		assert_int_equal(relay_dns_negative_ttl(m.b, m.n, &ttl), 0);
		if (ttl != cases[i].want)
			fail_msg("case %zu: got %u, want %u", i, ttl, cases[i].want);
	}
}

static void test_malformed(void **state)
{
	struct msg m;
	uint32_t ttl;
	size_t cut;

	mx_answer(&m);
	/* every truncation inside the answers is refused, none reads past */
	for (cut = 0; cut < 12 + 17 + 2 * 20; cut++)
		assert_int_equal(relay_dns_answer_ttl(m.b, cut, T_MX, &ttl), -1);
	/* a label running past the end */
	header(&m, 0, 1, 0, 0);
	m.b[12] = 63;
	assert_int_equal(relay_dns_answer_ttl(m.b, m.n, T_MX, &ttl), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smallest_answer_ttl),
		cmocka_unit_test(test_negative_ttl_soa),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
