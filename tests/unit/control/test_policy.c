/*
 * test_policy - lookups of a static replica (policy_new_static): tenants by id
 * and name, exact and @domain senders, the compartment restriction of a user,
 * suppressions, credentials and route wildcards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy.h"

#define T1 "ocid1.tenancy.oc1..t1"
#define T2 "ocid1.tenancy.oc1..t2"
#define CA "ocid1.compartment.oc1..a"
#define CB "ocid1.compartment.oc1..b"

static Ph__Tenant tenants[2] = { PH__TENANT__INIT, PH__TENANT__INIT };
static Ph__User users[2] = { PH__USER__INIT, PH__USER__INIT };
static Ph__Credential cred = PH__CREDENTIAL__INIT;
static Ph__Sender senders[4] = { PH__SENDER__INIT, PH__SENDER__INIT,
    PH__SENDER__INIT, PH__SENDER__INIT };
static Ph__Suppression supp = PH__SUPPRESSION__INIT;
static Ph__Route routes[3] = { PH__ROUTE__INIT, PH__ROUTE__INIT, PH__ROUTE__INIT };
static Ph__PolicyObject objs[16];
static Ph__PolicyObject *objp[16];
static char *ucomp_a[] = { CA };
static char *ucomp_b[] = { CB };

/* add - append one object to the snapshot */
static void add(size_t *n, Ph__PolicyObject__ObjCase c, void *msg)
{
	ph__policy_object__init(&objs[*n]);
	objs[*n].obj_case = c;
	objs[*n].tenant = msg;	/* the oneof members share storage */
	objp[*n] = &objs[*n];
	(*n)++;
}

static void sender(int i, const char *id, const char *tenant, const char *comp,
    const char *addr)
{
	senders[i].id = (char *)id;
	senders[i].tenant_id = (char *)tenant;
	senders[i].compartment_id = (char *)comp;
	senders[i].address = (char *)addr;
}

static void route(int i, const char *domain, const char *host)
{
	routes[i].id = (char *)domain;
	routes[i].domain = (char *)domain;
	routes[i].host = (char *)host;
	routes[i].port = 25;
}

static int setup(void **state)
{
	Ph__PolicySnapshot snap = PH__POLICY_SNAPSHOT__INIT;
	size_t n = 0;

	tenants[0].id = T1; tenants[0].name = "acme";
	tenants[1].id = T2; tenants[1].name = "other";
	users[0].id = "u-a"; users[0].tenant_id = T1;
	users[0].n_compartment_ids = 1; users[0].compartment_ids = ucomp_a;
	users[1].id = "u-b"; users[1].tenant_id = T1;
	users[1].n_compartment_ids = 1; users[1].compartment_ids = ucomp_b;
	cred.id = "k1"; cred.user_id = "u-a"; cred.tenant_id = T1; cred.username = "u-a@" T1;
	sender(0, "s0", T1, CA, "alice@example.com");
	sender(1, "s1", T1, CB, "@example.org");
	sender(2, "s2", T1, CA, "alice@example.com.evil");
	sender(3, "s3", T1, CB, "alice@example.com");
	supp.id = "x1"; supp.tenant_id = T1; supp.address = "gone@example.net";
	route(0, "exact.test", "h-exact");
	route(1, "*.test", "h-wild");
	route(2, "*.b.test", "h-b");
	add(&n, PH__POLICY_OBJECT__OBJ_TENANT, &tenants[0]);
	add(&n, PH__POLICY_OBJECT__OBJ_TENANT, &tenants[1]);
	add(&n, PH__POLICY_OBJECT__OBJ_USER, &users[0]);
	add(&n, PH__POLICY_OBJECT__OBJ_USER, &users[1]);
	add(&n, PH__POLICY_OBJECT__OBJ_CREDENTIAL, &cred);
	for (int i = 0; i < 4; i++)
		add(&n, PH__POLICY_OBJECT__OBJ_SENDER, &senders[i]);
	add(&n, PH__POLICY_OBJECT__OBJ_SUPPRESSION, &supp);
	for (int i = 0; i < 3; i++)
		add(&n, PH__POLICY_OBJECT__OBJ_ROUTE, &routes[i]);
	snap.version = 42;
	snap.n_objects = n;
	snap.objects = objp;
	*state = policy_new_static(&snap);
	return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	policy_free(*state);
	return 0;
}

static void test_ready_version(void **state)
{
	assert_true(policy_ready(*state));
	assert_int_equal(policy_version(*state), 42);
}

static void test_tenant(void **state)
{
	assert_string_equal(policy_tenant(*state, T1)->name, "acme");
	assert_string_equal(policy_tenant(*state, "other")->id, T2);
	assert_null(policy_tenant(*state, "nobody"));
	assert_non_null(policy_user(*state, "u-a"));
	assert_null(policy_user(*state, "u-z"));
}

static void test_credential(void **state)
{
	assert_string_equal(policy_credential(*state, "u-a@" T1)->id, "k1");
	assert_null(policy_credential(*state, "u-a@" T2));
}

/* test_sender_exact - exact address, case-insensitive, per tenant */
static void test_sender_exact(void **state)
{
	const Ph__Sender *s = policy_sender(*state, T1, NULL, "Alice@Example.COM");

	assert_non_null(s);
	assert_string_equal(s->address, "alice@example.com");
	assert_null(policy_sender(*state, T2, NULL, "alice@example.com"));
	assert_null(policy_sender(*state, T1, NULL, "bob@example.com"));
	assert_null(policy_sender(*state, T1, NULL, ""));
}

/* test_sender_domain - "@domain" covers every local part of that domain only */
static void test_sender_domain(void **state)
{
	assert_string_equal(policy_sender(*state, T1, NULL, "anyone@EXAMPLE.org")->id, "s1");
	assert_null(policy_sender(*state, T1, NULL, "anyone@sub.example.org"));
	assert_null(policy_sender(*state, T1, NULL, "anyone@example.org.evil"));
}

/* test_sender_compartment - a user sees only entries of its compartments */
static void test_sender_compartment(void **state)
{
	const Ph__User *ua = policy_user(*state, "u-a"), *ub = policy_user(*state, "u-b");

	assert_string_equal(policy_sender(*state, T1, ua, "alice@example.com")->id, "s0");
	assert_string_equal(policy_sender(*state, T1, ub, "alice@example.com")->id, "s3");
	assert_null(policy_sender(*state, T1, ua, "x@example.org"));
	assert_string_equal(policy_sender(*state, T1, ub, "x@example.org")->id, "s1");
}

static void test_suppression(void **state)
{
	assert_string_equal(policy_suppression(*state, T1, "GONE@example.net")->id, "x1");
	assert_null(policy_suppression(*state, T2, "gone@example.net"));
	assert_null(policy_suppression(*state, T1, "here@example.net"));
}

/* test_route - exact, nearest wildcard parent, then none */
static void test_route(void **state)
{
	static const struct { const char *domain, *host; } cases[] = {
		{ "exact.test", "h-exact" },
		{ "EXACT.test", "h-exact" },
		{ "other.test", "h-wild" },
		{ "a.b.test", "h-b" },
		{ "x.a.b.test", "h-b" },
		{ "b.test", "h-wild" },
		{ "test", NULL },
		{ "example.com", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const Ph__Route *r = policy_route(*state, cases[i].domain);
		if (cases[i].host == NULL) {
			if (r != NULL)
				fail_msg("%s: got %s, want none", cases[i].domain, r->host);
			continue;
		}
		if (r == NULL || strcmp(r->host, cases[i].host) != 0)
			fail_msg("%s: got %s, want %s", cases[i].domain,
			    r ? r->host : "none", cases[i].host);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ready_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credential, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sender_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sender_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sender_compartment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suppression, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
