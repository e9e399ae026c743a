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
	int code;			/* 0 ends the sequence */
	enum load_tx_result want;
	const char *writes;		/* commands written in answer */
};

#define MAIL "MAIL FROM:<s@src.test>\r\n"
#define RCPT0 "RCPT TO:<r0@dst.test>\r\n"
#define RCPT1 "RCPT TO:<r1@dst.test>\r\n"
#define DATA "DATA\r\n"

/* the sequences: message 0 with K recipients; reply i arrives at
 * (i + 1) ms, so dot_us and reply_us name the step of the 354 and of the
 * dot's reply */
static const struct tx_case {
	const char *name;
	unsigned k;
	bool pipelined;
	const char *first;		/* the first write */
	struct step steps[6];
	int code;			/* the verdict */
	unsigned refused;		/* recipients refused */
	uint64_t dot_us, reply_us;
} cases[] = {
	{ "delivered", 2, false, MAIL, {
		{ 250, LOAD_TX_MORE, RCPT0 }, { 250, LOAD_TX_MORE, RCPT1 },
		{ 251, LOAD_TX_MORE, DATA }, { 354, LOAD_TX_MORE, PAYLOAD },
		{ 250, LOAD_TX_DONE, "" } }, 250, 0, 4000, 5000 },
	{ "pipelined, delivered", 1, true, MAIL RCPT0 DATA, {
		{ 250, LOAD_TX_MORE, "" }, { 250, LOAD_TX_MORE, "" },
		{ 354, LOAD_TX_MORE, PAYLOAD }, { 250, LOAD_TX_DONE, "" } },
		250, 0, 3000, 4000 },
	/* posthaste's 535 for a sender not approved: no transaction, no RSET */
	{ "MAIL refused", 1, false, MAIL, {
		{ 535, LOAD_TX_DONE, "" } }, 535, 0, 0, 0 },
	/* the RCPT and DATA replies that follow are read and ignored */
	{ "pipelined, MAIL refused", 2, true, MAIL RCPT0 RCPT1 DATA, {
		{ 535, LOAD_TX_MORE, "" }, { 503, LOAD_TX_MORE, "" },
		{ 503, LOAD_TX_MORE, "" }, { 503, LOAD_TX_DONE, "" } }, 535, 2, 0, 0 },
	/* the dot's reply decides the message; the refusal is a recipient's */
	{ "one recipient refused", 2, false, MAIL, {
		{ 250, LOAD_TX_MORE, RCPT0 }, { 550, LOAD_TX_MORE, RCPT1 },
		{ 250, LOAD_TX_MORE, DATA }, { 354, LOAD_TX_MORE, PAYLOAD },
		{ 250, LOAD_TX_DONE, "" } }, 250, 1, 4000, 5000 },
	/* the first refusal decides; the transaction MAIL opened needs RSET */
	{ "every recipient refused", 2, false, MAIL, {
		{ 250, LOAD_TX_MORE, RCPT0 }, { 550, LOAD_TX_MORE, RCPT1 },
		{ 451, LOAD_TX_DONE_RSET, "" } }, 550, 2, 0, 0 },
	/* posthaste's "254 4.7.1 Suppression ..." is a 2xx reply to RCPT */
	{ "254 to RCPT", 1, false, MAIL, {
		{ 250, LOAD_TX_MORE, RCPT0 }, { 254, LOAD_TX_MORE, DATA },
		{ 354, LOAD_TX_MORE, PAYLOAD }, { 250, LOAD_TX_DONE, "" } },
		250, 0, 3000, 4000 },
	/* 354 although every RCPT failed: the dot alone, the refusal decides */
	{ "pipelined, 354 with nobody", 1, true, MAIL RCPT0 DATA, {
		{ 250, LOAD_TX_MORE, "" }, { 550, LOAD_TX_MORE, "" },
		{ 354, LOAD_TX_MORE, ".\r\n" }, { 554, LOAD_TX_DONE, "" } },
		550, 1, 3000, 0 },
	{ "DATA refused", 1, false, MAIL, {
		{ 250, LOAD_TX_MORE, RCPT0 }, { 250, LOAD_TX_MORE, DATA },
		{ 451, LOAD_TX_DONE_RSET, "" } }, 451, 0, 0, 0 },
	/* after the dot's reply the transaction is over: no RSET */
	{ "dot refused", 1, false, MAIL, {
		{ 250, LOAD_TX_MORE, RCPT0 }, { 250, LOAD_TX_MORE, DATA },
		{ 354, LOAD_TX_MORE, PAYLOAD }, { 455, LOAD_TX_DONE, "" } },
		455, 0, 3000, 4000 },
	/* the server closes after 421: nothing more will come */
	{ "421 in the envelope", 2, true, MAIL RCPT0 RCPT1 DATA, {
		{ 250, LOAD_TX_MORE, "" }, { 421, LOAD_TX_DONE_RSET, "" } },
		421, 0, 0, 0 },
};

/* run_case - start the message, then every step: results, writes, verdict */
static void run_case(struct fixture *f, const struct tx_case *c)
{
	const struct step *st;
	const char *w;
	size_t i;

	f->o.recipients = c->k;
	assert_int_equal(load_tx_start(&f->tx, &f->m, 0, c->pipelined, f->out), 0);
	assert_string_equal(out_take(f), c->first);
	for (i = 0, st = c->steps; st->code; i++, st++) {
		enum load_tx_result got = load_tx_on_reply(&f->tx, &f->m, st->code,
		    1000 * (i + 1), f->out);

		w = out_take(f);
		if (got != st->want || strcmp(w, st->writes) != 0)
			fail_msg("%s, step %zu (%d): got result %d writing \"%s\", want "
			    "%d writing \"%s\"", c->name, i, st->code, got, w, st->want,
			    st->writes);
	}
	if (f->tx.code != c->code || f->tx.refused != c->refused ||
	    f->tx.dot_us != c->dot_us || f->tx.reply_us != c->reply_us)
		fail_msg("%s: got code %d refused %u dot %llu reply %llu, want %d %u "
		    "%llu %llu", c->name, f->tx.code, f->tx.refused,
		    (unsigned long long)f->tx.dot_us, (unsigned long long)f->tx.reply_us,
		    c->code, c->refused, (unsigned long long)c->dot_us,
		    (unsigned long long)c->reply_us);
}

static void test_sequences(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(*state, &cases[i]);
}

static void test_impossible_replies(void **state)
{
	static const struct {
		int before[4];		/* replies that lead there, 0-terminated */
		int code;
	} impossible[] = {
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
	for (i = 0; i < sizeof(impossible) / sizeof(impossible[0]); i++) {
		assert_int_equal(load_tx_start(&f->tx, &f->m, 0, false, f->out), 0);
		for (j = 0; impossible[i].before[j]; j++)
			assert_int_equal(load_tx_on_reply(&f->tx, &f->m, impossible[i].before[j],
			    1, f->out), LOAD_TX_MORE);
		if (load_tx_on_reply(&f->tx, &f->m, impossible[i].code, 1, f->out) != LOAD_TX_BROKEN)
			fail_msg("case %zu: %d in %s accepted", i, impossible[i].code,
			    load_tx_phase_name(f->tx.phase));
		out_take(f);
	}
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_sequences), T(test_impossible_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
