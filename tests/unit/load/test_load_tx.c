/*
 * test_load_tx - one message's transaction as event sequences: the
 * commands written after each reply, the verdict, RSET or not, and the
 * replies no server may give (table-driven, with and without PIPELINING).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <event2/buffer.h>
#include "load_tx.h"

#define PAYLOAD "From: a\r\n\r\nbody\r\n.\r\n"

struct fixture {
	struct load_opts o;
	struct load_msg m;
	struct evbuffer *out;
	struct load_tx tx;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *argv[] = { "ph-load", "--from", "s@src.test", "--to", "r%d@dst.test", NULL };
	char err[128];

	if (!f || !(f->out = evbuffer_new()) ||
	    load_opts_parse(5, argv, &f->o, err, sizeof(err)) != LOAD_OPTS_RUN)
		return -1;
	/* a --file message: the payload alone, no generated headers */
	f->m.opts = &f->o;
	f->m.payload = PAYLOAD;
	f->m.payload_len = strlen(PAYLOAD);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	evbuffer_free(f->out);
	free(f);
	return 0;
}

/* out_take - what was written since the last call */
static char *out_take(struct fixture *f)
{
	static char text[1024];
	size_t n = evbuffer_get_length(f->out);

	assert_true(n < sizeof(text));
	evbuffer_remove(f->out, text, n);
	text[n] = '\0';
	return text;
}

/* step - one reply of a sequence and what must follow it */
struct step {
	int code;
	enum load_tx_result want;
	const char *writes;		/* commands written in answer */
};

/* run_steps - start message 0 with K recipients, check its first write,
 * then every step; returns the tx for the verdict checks */
static struct load_tx *run_steps(struct fixture *f, unsigned k, bool pipelined,
    const char *first, const struct step *steps, size_t n)
{
	size_t i;

	f->o.recipients = k;
	assert_int_equal(load_tx_start(&f->tx, &f->m, 0, pipelined, f->out), 0);
	assert_string_equal(out_take(f), first);
	for (i = 0; i < n; i++) {
		enum load_tx_result got = load_tx_on_reply(&f->tx, &f->m, steps[i].code,
		    1000 * (i + 1), f->out);
		const char *w = out_take(f);

		if (got != steps[i].want)
			fail_msg("step %zu (%d): got result %d, want %d", i,
			    steps[i].code, got, steps[i].want);
		if (strcmp(w, steps[i].writes) != 0)
			fail_msg("step %zu (%d): wrote \"%s\", want \"%s\"", i,
			    steps[i].code, w, steps[i].writes);
	}
	return &f->tx;
}

#define RUN(f, k, p, first, steps) \
	run_steps(f, k, p, first, steps, sizeof(steps) / sizeof(steps[0]))

static void test_plain_delivered(void **state)
{
	static const struct step steps[] = {
		{ 250, LOAD_TX_MORE, "RCPT TO:<r0@dst.test>\r\n" },
		{ 250, LOAD_TX_MORE, "RCPT TO:<r1@dst.test>\r\n" },
		{ 251, LOAD_TX_MORE, "DATA\r\n" },
		{ 354, LOAD_TX_MORE, PAYLOAD },
		{ 250, LOAD_TX_DONE, "" },
	};
	struct load_tx *tx = RUN(*state, 2, false, "MAIL FROM:<s@src.test>\r\n", steps);

	assert_int_equal(tx->code, 250);
	assert_int_equal(tx->accepted, 2);
	assert_int_equal(tx->dot_us, 4000);	/* the payload went out at the 354 */
	assert_int_equal(tx->reply_us, 5000);
}

static void test_pipelined_delivered(void **state)
{
	static const struct step steps[] = {
		{ 250, LOAD_TX_MORE, "" }, { 250, LOAD_TX_MORE, "" },
		{ 354, LOAD_TX_MORE, PAYLOAD }, { 250, LOAD_TX_DONE, "" },
	};
	struct load_tx *tx = RUN(*state, 1, true,
	    "MAIL FROM:<s@src.test>\r\nRCPT TO:<r0@dst.test>\r\nDATA\r\n", steps);

	assert_int_equal(tx->code, 250);
	assert_int_equal(tx->reply_us, 4000);
}

static void test_mail_refused(void **state)
{
	/* posthaste's 535 for a sender that is not approved: no transaction,
	 * so no RSET */
	static const struct step steps[] = { { 535, LOAD_TX_DONE, "" } };
	struct load_tx *tx = RUN(*state, 1, false, "MAIL FROM:<s@src.test>\r\n", steps);

	assert_int_equal(tx->code, 535);
	assert_int_equal(tx->reply_us, 0);
}

static void test_pipelined_mail_refused(void **state)
{
	/* the RCPT and DATA replies that follow are read and ignored */
	static const struct step steps[] = {
		{ 535, LOAD_TX_MORE, "" }, { 503, LOAD_TX_MORE, "" },
		{ 503, LOAD_TX_MORE, "" }, { 503, LOAD_TX_DONE, "" },
	};
	struct load_tx *tx = RUN(*state, 2, true, "MAIL FROM:<s@src.test>\r\n"
	    "RCPT TO:<r0@dst.test>\r\nRCPT TO:<r1@dst.test>\r\nDATA\r\n", steps);

	assert_int_equal(tx->code, 535);
}

static void test_some_recipients_refused(void **state)
{
	static const struct step steps[] = {
		{ 250, LOAD_TX_MORE, "RCPT TO:<r0@dst.test>\r\n" },
		{ 550, LOAD_TX_MORE, "RCPT TO:<r1@dst.test>\r\n" },
		{ 250, LOAD_TX_MORE, "DATA\r\n" },
		{ 354, LOAD_TX_MORE, PAYLOAD },
		{ 250, LOAD_TX_DONE, "" },
	};
	struct load_tx *tx = RUN(*state, 2, false, "MAIL FROM:<s@src.test>\r\n", steps);

	/* the dot's reply decides the message; the refusal is a recipient's */
	assert_int_equal(tx->code, 250);
	assert_int_equal(tx->nrcpt - tx->accepted, 1);
}

static void test_every_recipient_refused(void **state)
{
	/* the first refusal decides; the transaction MAIL opened needs RSET */
	static const struct step steps[] = {
		{ 250, LOAD_TX_MORE, "RCPT TO:<r0@dst.test>\r\n" },
		{ 550, LOAD_TX_MORE, "RCPT TO:<r1@dst.test>\r\n" },
		{ 451, LOAD_TX_DONE_RSET, "" },
	};
	struct load_tx *tx = RUN(*state, 2, false, "MAIL FROM:<s@src.test>\r\n", steps);

	assert_int_equal(tx->code, 550);
	assert_int_equal(tx->accepted, 0);
}

static void test_254_counts_as_accepted(void **state)
{
	/* posthaste's "254 4.7.1 Suppression ..." is a 2xx reply to RCPT */
	static const struct step steps[] = {
		{ 250, LOAD_TX_MORE, "RCPT TO:<r0@dst.test>\r\n" },
		{ 254, LOAD_TX_MORE, "DATA\r\n" },
		{ 354, LOAD_TX_MORE, PAYLOAD },
		{ 250, LOAD_TX_DONE, "" },
	};
	struct load_tx *tx = RUN(*state, 1, false, "MAIL FROM:<s@src.test>\r\n", steps);

	assert_int_equal(tx->code, 250);
}

static void test_all_refused_then_rset(void **state)
{
	static const struct step steps[] = {
		{ 250, LOAD_TX_MORE, "RCPT TO:<r0@dst.test>\r\n" },
		{ 550, LOAD_TX_DONE_RSET, "" },
	};
	struct load_tx *tx = RUN(*state, 1, false, "MAIL FROM:<s@src.test>\r\n", steps);

	assert_int_equal(tx->code, 550);
}

static void test_pipelined_354_with_nobody(void **state)
{
	/* a server that answers DATA with 354 although every RCPT failed gets
	 * the dot alone; the verdict stays the refusal */
	static const struct step steps[] = {
		{ 250, LOAD_TX_MORE, "" }, { 550, LOAD_TX_MORE, "" },
		{ 354, LOAD_TX_MORE, ".\r\n" }, { 554, LOAD_TX_DONE, "" },
	};
	struct load_tx *tx = RUN(*state, 1, true,
	    "MAIL FROM:<s@src.test>\r\nRCPT TO:<r0@dst.test>\r\nDATA\r\n", steps);

	assert_int_equal(tx->code, 550);
	assert_int_equal(tx->reply_us, 0);
}

static void test_data_refused(void **state)
{
	static const struct step steps[] = {
		{ 250, LOAD_TX_MORE, "RCPT TO:<r0@dst.test>\r\n" },
		{ 250, LOAD_TX_MORE, "DATA\r\n" },
		{ 451, LOAD_TX_DONE_RSET, "" },
	};
	struct load_tx *tx = RUN(*state, 1, false, "MAIL FROM:<s@src.test>\r\n", steps);

	assert_int_equal(tx->code, 451);
}

static void test_dot_refused(void **state)
{
	/* after the dot's reply the transaction is over: no RSET */
	static const struct step steps[] = {
		{ 250, LOAD_TX_MORE, "RCPT TO:<r0@dst.test>\r\n" },
		{ 250, LOAD_TX_MORE, "DATA\r\n" },
		{ 354, LOAD_TX_MORE, PAYLOAD },
		{ 455, LOAD_TX_DONE, "" },
	};
	struct load_tx *tx = RUN(*state, 1, false, "MAIL FROM:<s@src.test>\r\n", steps);

	assert_int_equal(tx->code, 455);
	assert_int_equal(tx->reply_us, 4000);
}

static void test_421_ends_at_once(void **state)
{
	static const struct step steps[] = {
		{ 250, LOAD_TX_MORE, "" }, { 421, LOAD_TX_DONE_RSET, "" },
	};
	struct load_tx *tx = RUN(*state, 2, true, "MAIL FROM:<s@src.test>\r\n"
	    "RCPT TO:<r0@dst.test>\r\nRCPT TO:<r1@dst.test>\r\nDATA\r\n", steps);

	assert_int_equal(tx->code, 421);
}

static void test_impossible_replies(void **state)
{
	static const struct {
		int before[4];		/* replies that lead there, 0-terminated */
		int code;
	} cases[] = {
		{ { 0 }, 354 },			/* 354 to MAIL */
		{ { 0 }, 334 },
		{ { 0 }, 199 },
		{ { 250, 0 }, 354 },		/* 354 to RCPT */
		{ { 250, 250, 0 }, 250 },	/* 250 to DATA */
		{ { 250, 250, 354, 0 }, 354 },	/* 354 to the dot */
	};
	struct fixture *f = *state;
	size_t i, j;

	f->o.recipients = 1;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(load_tx_start(&f->tx, &f->m, 0, false, f->out), 0);
		for (j = 0; cases[i].before[j]; j++)
			assert_int_equal(load_tx_on_reply(&f->tx, &f->m, cases[i].before[j],
			    1, f->out), LOAD_TX_MORE);
		if (load_tx_on_reply(&f->tx, &f->m, cases[i].code, 1, f->out) != LOAD_TX_BROKEN)
			fail_msg("case %zu: %d in %s accepted", i, cases[i].code,
			    load_tx_phase_name(f->tx.phase));
		out_take(f);
	}
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_plain_delivered), T(test_pipelined_delivered), T(test_mail_refused),
		T(test_pipelined_mail_refused), T(test_some_recipients_refused),
		T(test_every_recipient_refused), T(test_254_counts_as_accepted),
		T(test_all_refused_then_rset),
		T(test_pipelined_354_with_nobody), T(test_data_refused),
		T(test_dot_refused), T(test_421_ends_at_once), T(test_impossible_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
