/*
 * test_replica - a policy replica (policy_new) against the real control
 * request handler and publisher on ipc:// sockets in a temp dir: the first
 * snapshot arrives, and a PolicyPut sent over rpc reaches the replica through
 * the PolicyChanged notice.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include <cmocka.h>

#include "control.h"
#include "control_store.h"
#include "policy.h"
#include "zsock.h"

#define BOOT_TENANT "ocid1.tenancy.oc1..default"

struct ctx {
	struct event_base *base;
	struct policy *pol;
	int changes;
	int put_ok;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

/* on_change - count snapshots; stop the loop once the sender is visible */
static void on_change(void *arg)
{
	struct ctx *c = arg;

	c->changes++;
	if (c->changes == 1 || policy_sender(c->pol, BOOT_TENANT, NULL, "new@example.com"))
		event_base_loopbreak(c->base);
}

static void on_put_reply(void *arg, Ph__Envelope *rep)
{
	struct ctx *c = arg;

	c->put_ok = rep != NULL && rep->body_case == PH__ENVELOPE__BODY_POLICY_REPLY &&
	    rep->policy_reply->status->ok;
}

/* send_put - a sender PolicyPut over an rpc_client */
static void send_put(struct rpc_client *cl, struct ctx *c)
{
	Ph__Envelope env;
	Ph__PolicyPut put = PH__POLICY_PUT__INIT;
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;
	Ph__Sender s = PH__SENDER__INIT;

	s.tenant_id = BOOT_TENANT;
	s.address = "new@example.com";
	o.obj_case = PH__POLICY_OBJECT__OBJ_SENDER;
	o.sender = &s;
	put.object = &o;
	msg_init(&env);
	env.body_case = PH__ENVELOPE__BODY_POLICY_PUT;
	env.policy_put = &put;
	assert_int_equal(rpc_call(cl, &env, 5000, on_put_reply, c), 0);
}

/* run_for - the loop, at most MS */
static void run_for(struct event_base *base, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void test_replica_follows(void **state)
{
	char dir[] = "/tmp/test_replica.XXXXXX", ep[128], pub[128], db[128];
	uint8_t key[CRYPTO_KEY_LEN] = { 1 };
	struct control ctl = { 0 };
	struct ctx c = { 0 };
	struct control_err e;
	struct rpc_client *cl;
	char *err = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(ep, sizeof(ep), "ipc://%s/control.sock", dir);
	snprintf(pub, sizeof(pub), "ipc://%s/control-pub.sock", dir);
	snprintf(db, sizeof(db), "%s/db", dir);
	c.base = event_base_new();
	ctl.store = control_store_open(db, key, &err);
	assert_non_null(ctl.store);
	assert_int_equal(control_bootstrap(ctl.store, &e), 0);
	ctl.srv = rpc_server_new(c.base, ep, control_on_request, &ctl);
	ctl.pub = rpc_pub_new(pub);
	assert_non_null(ctl.srv);
	assert_non_null(ctl.pub);

	c.pol = policy_new(c.base, ep, pub);
	policy_on_change(c.pol, on_change, &c);
	run_for(c.base, 5000);
	assert_true(policy_ready(c.pol));
	assert_int_equal(policy_version(c.pol), 2);	/* tenant with root, user */
	assert_non_null(policy_tenant(c.pol, "default"));
	assert_null(policy_sender(c.pol, BOOT_TENANT, NULL, "new@example.com"));

	cl = rpc_client_new(c.base, ep, NULL);
	run_for(c.base, 200);	/* let the SUB and DEALER connect */
	send_put(cl, &c);
	run_for(c.base, 5000);
	assert_true(c.put_ok);
	assert_non_null(policy_sender(c.pol, BOOT_TENANT, NULL, "NEW@example.com"));
	assert_int_equal(policy_version(c.pol), 3);

	rpc_client_free(cl);
	policy_free(c.pol);
	rpc_server_free(ctl.srv);
	zsock_close(ctl.pub);
	control_store_close(ctl.store);
	event_base_free(c.base);
	zsock_ctx_term();
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replica_follows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
