/*
 * test_http_page - frontend/http/http_page.c (sortBy / sortOrder, limit and
 * page of list replies) and the work-request store of http_workreq.c
 * (bounded, expiring, per tenant, SUCCEEDED / FAILED).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "http_page.h"
#include "http_workreq.h"

static const struct http_sort sorts[] = {
	{ "TIMECREATED", "timeCreated", 1 },
	{ "EMAILADDRESS", "emailAddress", 0 },
	{ NULL, NULL, 0 },
};

/* items - three senders (ids out of order, two created at the same time) */
static json_t *items(void)
{
	return json_pack("[{s:s,s:s,s:s}, {s:s,s:s,s:s}, {s:s,s:s,s:s}]",
	    "id", "c", "emailAddress", "b@x", "timeCreated", "2025-01-01T00:00:02.000Z",
	    "id", "a", "emailAddress", "c@x", "timeCreated", "2025-01-01T00:00:01.000Z",
	    "id", "b", "emailAddress", "a@x", "timeCreated", "2025-01-01T00:00:01.000Z");
}

/* ids - the ids of PAGE joined, e.g. "cab" */
static void ids(json_t *page, char *out)
{
	size_t i;
	json_t *v;

	json_array_foreach(page, i, v)
		out[i] = json_string_value(json_object_get(v, "id"))[0];
	out[json_array_size(page)] = '\0';
}

struct page_case {
	struct http_page_req req;
	int rc;
	const char *want;	/* ids, or the bad parameter */
	const char *next;
};

static const struct page_case page_cases[] = {
	{ { NULL, NULL, NULL, NULL }, 0, "cab", "" },		/* timeCreated desc, ties by id */
	{ { "TIMECREATED", "ASC", NULL, NULL }, 0, "abc", "" },
	{ { "timecreated", "asc", NULL, NULL }, 0, "abc", "" },
	{ { "EMAILADDRESS", NULL, NULL, NULL }, 0, "bca", "" },	/* ascending by default */
	{ { "EMAILADDRESS", "DESC", NULL, NULL }, 0, "acb", "" },
	{ { NULL, NULL, "2", NULL }, 0, "ca", "2" },
	{ { NULL, NULL, "2", "2" }, 0, "b", "" },
	{ { NULL, NULL, "1", "1" }, 0, "a", "2" },
	{ { NULL, NULL, NULL, "5" }, 0, "", "" },
	{ { "NAME", NULL, NULL, NULL }, -1, "sortBy", "" },
	{ { NULL, "UP", NULL, NULL }, -1, "sortOrder", "" },
	{ { NULL, NULL, "0", NULL }, -1, "limit", "" },
	{ { NULL, NULL, "1001", NULL }, -1, "limit", "" },
	{ { NULL, NULL, "x", NULL }, -1, "limit", "" },
	{ { NULL, NULL, NULL, "-1" }, -1, "page", "" },
};

static void test_page_select(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(page_cases) / sizeof(page_cases[0]); i++) {
		const struct page_case *pc = &page_cases[i];
		json_t *page;
		const char *bad;
		char next[32], got[8];
		int rc = http_page_select(items(), sorts, &pc->req, &page, next, sizeof(next), &bad);

		if (rc != pc->rc)
			fail_msg("case %zu: got rc %d, want %d", i, rc, pc->rc);
		if (rc == -1) {
			assert_string_equal(bad, pc->want);
			continue;
		}
		ids(page, got);
		if (strcmp(got, pc->want) != 0 || strcmp(next, pc->next) != 0)
			fail_msg("case %zu: got \"%s\" next \"%s\", want \"%s\" next \"%s\"", i, got,
			    next, pc->want, pc->next);
		json_decref(page);
	}
}

static const struct http_wr_spec spec = {
	"t1", "c1", "CREATE_DKIM", "dkim", "CREATED", "/20170907/dkims", "",
};

/* a work request is IN_PROGRESS, then SUCCEEDED about the new resource */
static void test_wr_lifecycle(void **state)
{
	struct http_wr_store *s = http_wr_store_new(10, 1000);
	char id[96];
	json_t *w;

	(void)state;
	assert_int_equal(http_wr_begin(s, &spec, 5000, id, sizeof(id)), 0);
	assert_int_equal(strncmp(id, "ocid1.emailworkrequest.oc1..", 28), 0);
	w = http_wr_json(s, "t1", id, 0, 5100);
	assert_string_equal(json_string_value(json_object_get(w, "status")), "IN_PROGRESS");
	assert_null(json_object_get(w, "timeFinished"));
	json_decref(w);
	http_wr_finish(s, id, "ocid1.emaildkim.k", NULL, 5200);
	w = http_wr_json(s, "t1", id, 0, 5300);
	assert_string_equal(json_string_value(json_object_get(w, "status")), "SUCCEEDED");
	assert_int_equal(json_integer_value(json_object_get(w, "percentComplete")), 100);
	assert_string_equal(json_string_value(json_object_get(w, "timeFinished")),
	    "1970-01-01T00:00:05.200Z");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(w, "resources"), 0), "entityUri")), "/20170907/dkims/ocid1.emaildkim.k");
	json_decref(w);
	assert_null(http_wr_json(s, "t2", id, 0, 5300));	/* another tenant's */
	w = http_wr_json(s, "t1", id, 1, 5300);
	assert_int_equal(json_array_size(w), 0);
	json_decref(w);
	assert_null(http_wr_json(s, "t1", id, 0, 6000));	/* expired after the TTL */
	http_wr_store_free(s);
}

/* a refused change: FAILED with one error */
static void test_wr_failed(void **state)
{
	struct http_wr_store *s = http_wr_store_new(10, 1000);
	char id[96];
	json_t *e;

	(void)state;
	assert_int_equal(http_wr_begin(s, &spec, 1, id, sizeof(id)), 0);
	http_wr_finish(s, id, NULL, "no such email domain", 2);
	e = http_wr_json(s, "t1", id, 1, 3);
	assert_int_equal(json_array_size(e), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(e, 0), "message")),
	    "no such email domain");
	json_decref(e);
	e = http_wr_list(s, "t1", "t1", "FAILED", NULL, 3);
	assert_int_equal(json_array_size(e), 1);
	json_decref(e);
	e = http_wr_list(s, "t1", "t1", "SUCCEEDED", NULL, 3);
	assert_int_equal(json_array_size(e), 0);
	json_decref(e);
	http_wr_store_free(s);
}

/* the store keeps the newest MAX; lists filter by compartment (the tenancy:
 * every one) */
static void test_wr_bounded(void **state)
{
	struct http_wr_store *s = http_wr_store_new(3, 1000000);
	struct http_wr_spec other = spec;
	char first[96], id[96];
	json_t *l;

	(void)state;
	other.compartment_id = "c2";
	assert_int_equal(http_wr_begin(s, &spec, 1, first, sizeof(first)), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(http_wr_begin(s, i == 2 ? &other : &spec, 2 + (uint64_t)i, id,
		    sizeof(id)), 0);
	assert_null(http_wr_json(s, "t1", first, 0, 10));
	l = http_wr_list(s, "t1", "t1", NULL, NULL, 10);
	assert_int_equal(json_array_size(l), 3);
	json_decref(l);
	l = http_wr_list(s, "t1", "c2", NULL, NULL, 10);
	assert_int_equal(json_array_size(l), 1);
	json_decref(l);
	l = http_wr_list(s, "t1", "c1", NULL, "DELETE_DKIM", 10);
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
	http_wr_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_select),
		cmocka_unit_test(test_wr_lifecycle),
		cmocka_unit_test(test_wr_failed),
		cmocka_unit_test(test_wr_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
