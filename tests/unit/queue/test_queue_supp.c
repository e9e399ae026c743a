/*
 * test_queue_supp - pending HARDBOUNCE suppressions on the memory store with
 * the clock moved through clock_set_offset_s: stored before the first offer,
 * forgotten on ok or ERR_EXISTS, dropped on a permanent refusal, retried
 * with a doubling back-off capped at 5 minutes, offered again after a
 * restart from the stored records.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clock.h"
#include "msg.h"
#include "queue_store.h"
#include "queue_supp.h"

#define MAXSENT 64

struct fx {
	struct queue_store *st;
	struct qsupp *s;
	struct qsupp_item *sent[MAXSENT];	/* items offered, in order */
	char addr[MAXSENT][64];
	size_t nsent;
	int send_fail;
};

static int64_t offset_s;

/* advance - move the test clock by SECONDS */
static void
advance(int64_t seconds)
{
	offset_s += seconds;
	clock_set_offset_s(offset_s);
}

/* fake_save - write the p/ record to the memory store */
static void
fake_save(void *arg, const char *id, const void *data, size_t len)
{
	struct fx *f = arg;
	struct queue_batch *b = queue_store_batch(f->st);

	queue_store_put_pending(f->st, b, id, data, len);
	assert_int_equal(queue_store_commit(f->st, b, 0), 0);
	queue_store_batch_free(f->st, b);
}

/* fake_forget - delete the p/ record */
static void
fake_forget(void *arg, const char *id)
{
	struct fx *f = arg;
	struct queue_batch *b = queue_store_batch(f->st);

	queue_store_del_pending(f->st, b, id);
	assert_int_equal(queue_store_commit(f->st, b, 0), 0);
	queue_store_batch_free(f->st, b);
}

/* fake_send - record the offer (or fail it) */
static int
fake_send(void *arg, struct qsupp_item *it, const Ph__Suppression *x)
{
	struct fx *f = arg;

	assert_true(f->nsent < MAXSENT);
	assert_string_equal(x->reason, "HARDBOUNCE");
	snprintf(f->addr[f->nsent], sizeof(f->addr[0]), "%s", x->address);
	f->sent[f->nsent++] = it;
	return f->send_fail ? -1 : 0;
}

/* supp_new - a list over F's store */
static struct qsupp *
supp_new(struct fx *f)
{
	struct qsupp_io io = { fake_save, fake_forget, fake_send, f };

	return qsupp_new(&io);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	offset_s = 0;
	clock_set_offset_s(0);
	f->st = queue_store_mem_new();
	f->s = supp_new(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	qsupp_free(f->s);
	queue_store_close(f->st);
	free(f);
	clock_set_offset_s(0);
	return 0;
}

/* add - a suppression of ADDR for tenant t1 */
static void
add(struct fx *f, const char *addr)
{
	Ph__Suppression x = PH__SUPPRESSION__INIT;

	x.tenant_id = "t1";
	x.address = (char *)addr;
	x.reason = "HARDBOUNCE";
	x.error_detail = "550 5.1.1 user unknown";
	x.message_id = "<m1@source.test>";
	assert_int_equal(qsupp_add(f->s, &x), 0);
}

/* answer - the answer CODE (ERR_NONE: ok) to the Nth offer */
static void
answer(struct fx *f, size_t n, Ph__ErrorCode code)
{
	Ph__Status st;

	if (code == PH__ERROR_CODE__ERR_NONE)
		msg_status_ok(&st);
	else
		msg_status_err(&st, code, "refused");
	qsupp_answer(f->sent[n], &st);
}

/* count_one - counts stored p/ records */
static int
count_one(void *arg, const char *id, const void *val, size_t len)
{
	(*(int *)arg)++;
	return 0;
}

static int
stored(struct fx *f)
{
	int n = 0;

	assert_int_equal(queue_store_scan_pending(f->st, count_one, &n), 0);
	return n;
}

static void
test_ok_forgets(void **state)
{
	struct fx *f = *state;

	add(f, "a@a.test");
	assert_int_equal(f->nsent, 1);
	assert_string_equal(f->addr[0], "a@a.test");
	assert_int_equal(stored(f), 1);
	assert_int_equal(qsupp_pending(f->s), 1);
	answer(f, 0, PH__ERROR_CODE__ERR_NONE);
	assert_int_equal(stored(f), 0);
	assert_int_equal(qsupp_pending(f->s), 0);
	advance(600);
	qsupp_tick(f->s);
	assert_int_equal(f->nsent, 1);
}

static void
test_exists_and_permanent_errors_forget(void **state)
{
	struct fx *f = *state;

	add(f, "a@a.test");
	add(f, "b@b.test");
	add(f, "c@c.test");
	answer(f, 0, PH__ERROR_CODE__ERR_EXISTS);
	answer(f, 1, PH__ERROR_CODE__ERR_NOT_FOUND);
	assert_int_equal(stored(f), 1);
	answer(f, 2, PH__ERROR_CODE__ERR_BAD_REQUEST);
	assert_int_equal(stored(f), 0);
	assert_int_equal(qsupp_pending(f->s), 0);
}

/* offers_after - tick after SECONDS; the number of new offers */
static size_t
offers_after(struct fx *f, int64_t seconds)
{
	size_t before = f->nsent;

	advance(seconds);
	qsupp_tick(f->s);
	return f->nsent - before;
}

static void
test_backoff_doubles_to_cap(void **state)
{
	struct fx *f = *state;
	int64_t delay = 1;

	add(f, "a@a.test");
	qsupp_answer(f->sent[0], NULL);		/* timed out */
	/* 1, 2, 4 ... 256 s: nothing a second early, one offer on time */
	while (delay < 300) {
		assert_int_equal(offers_after(f, delay - 1), 0);
		assert_int_equal(offers_after(f, 1), 1);
		qsupp_answer(f->sent[f->nsent - 1], NULL);
		delay *= 2;
	}
	/* capped at 300 s from now on */
	assert_int_equal(offers_after(f, 299), 0);
	assert_int_equal(offers_after(f, 1), 1);
	answer(f, f->nsent - 1, PH__ERROR_CODE__ERR_UNAVAILABLE);
	assert_int_equal(offers_after(f, 299), 0);
	assert_int_equal(offers_after(f, 1), 1);
	assert_int_equal(stored(f), 1);
	answer(f, f->nsent - 1, PH__ERROR_CODE__ERR_NONE);
	assert_int_equal(stored(f), 0);
}

static void
test_inflight_not_resent(void **state)
{
	struct fx *f = *state;

	add(f, "a@a.test");
	assert_int_equal(offers_after(f, 60), 0);	/* its answer is awaited */
	qsupp_answer(f->sent[0], NULL);
	assert_int_equal(offers_after(f, 1), 1);
}

static void
test_send_failure_retried(void **state)
{
	struct fx *f = *state;

	f->send_fail = 1;
	add(f, "a@a.test");
	assert_int_equal(f->nsent, 1);
	assert_int_equal(offers_after(f, 0), 0);
	f->send_fail = 0;
	assert_int_equal(offers_after(f, 1), 1);
	answer(f, 1, PH__ERROR_CODE__ERR_NONE);
	assert_int_equal(stored(f), 0);
}

/* restore_one - a stored record into the new list */
static int
restore_one(void *arg, const char *id, const void *val, size_t len)
{
	return qsupp_restore(arg, id, val, len);
}

static void
test_restart_offers_stored(void **state)
{
	struct fx *f = *state;

	add(f, "a@a.test");
	add(f, "b@b.test");
	answer(f, 1, PH__ERROR_CODE__ERR_NONE);
	/* "restart" while a@a.test is still unanswered */
	qsupp_free(f->s);
	f->s = supp_new(f);
	f->nsent = 0;
	assert_int_equal(queue_store_scan_pending(f->st, restore_one, f->s), 0);
	assert_int_equal(qsupp_pending(f->s), 1);
	assert_int_equal(f->nsent, 0);
	qsupp_tick(f->s);
	assert_int_equal(f->nsent, 1);
	assert_string_equal(f->addr[0], "a@a.test");
	answer(f, 0, PH__ERROR_CODE__ERR_EXISTS);
	assert_int_equal(stored(f), 0);
}

static void
test_malformed_record_skipped(void **state)
{
	struct fx *f = *state;

	assert_int_equal(qsupp_restore(f->s, "bad", "\xff\xff\xff", 3), -1);
	assert_int_equal(qsupp_pending(f->s), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok_forgets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exists_and_permanent_errors_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backoff_doubles_to_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inflight_not_resent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_failure_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_offers_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_record_skipped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
