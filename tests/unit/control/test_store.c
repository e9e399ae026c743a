/*
 * test_store - the policy store on a temp dir: bootstrap, put with checks,
 * list, delete with cascade, reopen, credentials, root compartments (a new
 * tenant usable at once; a store from before them upgraded), and a byte grep
 * of every file RocksDB wrote for the clear-text address, username and
 * password.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "control.h"
#include "control_obj.h"
#include "control_store.h"
#include "crypto.h"

#define BOOT_TENANT "ocid1.tenancy.oc1..default"

struct fixture {
	char dir[64];
	uint8_t key[CRYPTO_KEY_LEN];
	struct control_store *s;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *err = NULL;

	strcpy(f->dir, "/tmp/test_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL || crypto_random(f->key, sizeof(f->key)) == -1)
		return -1;
	f->s = control_store_open(f->dir, f->key, &err);
	if (f->s == NULL)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	control_store_close(f->s);
	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* reopen - close and open the store again (from disk) */
static void reopen(struct fixture *f)
{
	char *err = NULL;

	control_store_close(f->s);
	f->s = control_store_open(f->dir, f->key, &err);
	assert_non_null(f->s);
}

/* put_sender - a sender in TENANT; returns the refusal code or ERR_NONE */
static Ph__ErrorCode put_sender(struct control_store *s, const char *tenant,
    const char *comp, const char *addr, const Ph__PolicyObject **out)
{
	Ph__Sender a = PH__SENDER__INIT;
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;
	struct control_err e = { 0 };

	a.tenant_id = (char *)tenant;
	a.compartment_id = (char *)comp;
	a.address = (char *)addr;
	o.obj_case = PH__POLICY_OBJECT__OBJ_SENDER;
	o.sender = &a;
	return control_op_put(s, &o, out, &e) == 0 ? PH__ERROR_CODE__ERR_NONE : e.code;
}

/* test_bootstrap - default tenant with its root compartment, and a user
 * who may use it; only once */
static void test_bootstrap(void **state)
{
	struct fixture *f = *state;
	struct control_err e;
	const Ph__PolicyObject *u, *root;

	assert_int_equal(control_bootstrap(f->s, &e), 0);
	assert_int_equal(control_store_version(f->s), 2);
	assert_non_null(control_store_get(f->s, PH__POLICY_OBJECT__OBJ_TENANT, BOOT_TENANT));
	root = control_store_get(f->s, PH__POLICY_OBJECT__OBJ_COMPARTMENT, BOOT_TENANT);
	assert_non_null(root);
	assert_string_equal(root->compartment->tenant_id, BOOT_TENANT);
	assert_string_equal(root->compartment->name, "default");
	assert_int_equal(control_store_count(f->s, PH__POLICY_OBJECT__OBJ_COMPARTMENT), 1);
	u = control_store_get(f->s, PH__POLICY_OBJECT__OBJ_USER, "ocid1.user.oc1..default");
	assert_non_null(u);
	assert_int_equal(u->user->n_compartment_ids, 1);
	assert_string_equal(u->user->compartment_ids[0], BOOT_TENANT);
	reopen(f);
	assert_int_equal(control_bootstrap(f->s, &e), 0);
	assert_int_equal(control_store_version(f->s), 2);
}

/* test_sender_put - lowercased, default compartment, duplicates refused */
static void test_sender_put(void **state)
{
	struct fixture *f = *state;
	struct control_err e;
	const Ph__PolicyObject *o;

	control_bootstrap(f->s, &e);
	assert_int_equal(put_sender(f->s, BOOT_TENANT, "", "Alice@Example.COM", &o),
	    PH__ERROR_CODE__ERR_NONE);
	assert_string_equal(o->sender->address, "alice@example.com");
	assert_string_equal(o->sender->compartment_id, BOOT_TENANT);
	assert_memory_equal(o->sender->id, "ocid1.emailsender.oc1..", 23);
	assert_int_equal(put_sender(f->s, BOOT_TENANT, "", "alice@example.com", NULL),
	    PH__ERROR_CODE__ERR_EXISTS);
	assert_int_equal(put_sender(f->s, "ocid1.tenancy.oc1..nope", "", "b@example.com", NULL),
	    PH__ERROR_CODE__ERR_NOT_FOUND);
	assert_int_equal(put_sender(f->s, BOOT_TENANT, "ocid1.compartment.oc1..nope",
	    "b@example.com", NULL), PH__ERROR_CODE__ERR_NOT_FOUND);
	assert_int_equal(put_sender(f->s, BOOT_TENANT, "", "not an address", NULL),
	    PH__ERROR_CODE__ERR_BAD_REQUEST);
	assert_int_equal(put_sender(f->s, BOOT_TENANT, "", "@example.org", NULL),
	    PH__ERROR_CODE__ERR_NONE);
	assert_int_equal(control_store_count(f->s, PH__POLICY_OBJECT__OBJ_SENDER), 2);
}

/* test_replace_and_delete - put with an id replaces; delete removes; reopen agrees */
static void test_replace_and_delete(void **state)
{
	struct fixture *f = *state;
	struct control_err e;
	const Ph__PolicyObject *o;
	Ph__PolicyObject *copy;
	char id[128];

	control_bootstrap(f->s, &e);
	put_sender(f->s, BOOT_TENANT, "", "a@example.com", &o);
	snprintf(id, sizeof(id), "%s", o->sender->id);
	copy = control_obj_copy(o);
	control_str_set(&copy->sender->address, "b@example.com");
	assert_int_equal(control_op_put(f->s, copy, &o, &e), 0);
	control_obj_free(copy);
	assert_string_equal(o->sender->id, id);
	assert_int_equal(control_store_count(f->s, PH__POLICY_OBJECT__OBJ_SENDER), 1);
	/* the old address is free again, the new one taken */
	assert_int_equal(put_sender(f->s, BOOT_TENANT, "", "b@example.com", NULL),
	    PH__ERROR_CODE__ERR_EXISTS);
	reopen(f);
	o = control_store_get(f->s, PH__POLICY_OBJECT__OBJ_SENDER, id);
	assert_non_null(o);
	assert_string_equal(o->sender->address, "b@example.com");
	assert_int_equal(control_op_delete(f->s, "sender", id, &e), 0);
	assert_int_equal(control_op_delete(f->s, "sender", id, &e), -1);
	assert_int_equal(e.code, PH__ERROR_CODE__ERR_NOT_FOUND);
	reopen(f);
	assert_null(control_store_get(f->s, PH__POLICY_OBJECT__OBJ_SENDER, id));
	assert_int_equal(put_sender(f->s, BOOT_TENANT, "", "b@example.com", NULL),
	    PH__ERROR_CODE__ERR_NONE);
}

/* test_tenant_cascade - deleting a tenant deletes what belongs to it */
static void test_tenant_cascade(void **state)
{
	struct fixture *f = *state;
	struct control_err e;
	char pw[33];
	const Ph__PolicyObject *k;

	control_bootstrap(f->s, &e);
	put_sender(f->s, BOOT_TENANT, "", "a@example.com", NULL);
	assert_int_equal(control_op_credential(f->s, "ocid1.user.oc1..default", pw,
	    sizeof(pw), &k, &e), 0);
	assert_int_equal(control_op_delete(f->s, "compartment", BOOT_TENANT, &e), -1);
	assert_int_equal(e.code, PH__ERROR_CODE__ERR_BAD_REQUEST);
	assert_int_equal(control_op_delete(f->s, "tenant", BOOT_TENANT, &e), 0);
	for (int k2 = 1; k2 <= 7; k2++)
		assert_int_equal(control_store_count(f->s, (Ph__PolicyObject__ObjCase)k2), 0);
	reopen(f);
	for (int k2 = 1; k2 <= 7; k2++)
		assert_int_equal(control_store_count(f->s, (Ph__PolicyObject__ObjCase)k2), 0);
}

/* test_credential - username format, 32-char password, scrypt hash verifies */
static void test_credential(void **state)
{
	struct fixture *f = *state;
	struct control_err e;
	char pw[33], pw2[33], pw3[33];
	const Ph__PolicyObject *k;
	const Ph__Credential *c;

	control_bootstrap(f->s, &e);
	assert_int_equal(control_op_credential(f->s, "ocid1.user.oc1..default", pw,
	    sizeof(pw), &k, &e), 0);
	c = k->credential;
	assert_int_equal(strlen(pw), 32);
	assert_string_equal(c->username, "ocid1.user.oc1..default@" BOOT_TENANT);
	assert_string_equal(c->tenant_id, BOOT_TENANT);
	assert_int_equal(crypto_scrypt_verify(pw, c->salt.data, c->salt.len,
	    c->scrypt_hash.data, c->scrypt_hash.len), 1);
	assert_int_equal(crypto_scrypt_verify("wrong", c->salt.data, c->salt.len,
	    c->scrypt_hash.data, c->scrypt_hash.len), 0);
	assert_int_equal(control_op_credential(f->s, "ocid1.user.oc1..default", pw2,
	    sizeof(pw2), &k, &e), 0);
	assert_string_not_equal(k->credential->username, c->username);
	assert_int_equal(control_op_credential(f->s, "ocid1.user.oc1..default", pw3,
	    sizeof(pw3), &k, &e), -1);
	assert_int_equal(e.code, PH__ERROR_CODE__ERR_EXISTS);
	assert_int_equal(control_op_credential(f->s, "ocid1.user.oc1..nope", pw3,
	    sizeof(pw3), &k, &e), -1);
	assert_int_equal(e.code, PH__ERROR_CODE__ERR_NOT_FOUND);
}

/* put_named - a new object of KIND (TENANT, COMPARTMENT, USER) from BODY;
 * the stored object, or NULL with E filled */
static const Ph__PolicyObject *put_named(struct control_store *s,
    Ph__PolicyObject__ObjCase kind, void *body, struct control_err *e)
{
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;
	const Ph__PolicyObject *out = NULL;

	o.obj_case = kind;
	o.tenant = body;	/* every member of the oneof shares its storage */
	return control_op_put(s, &o, &out, e) == 0 ? out : NULL;
}

/* put_tenant - a new tenant NAME; its id into ID */
static void put_tenant(struct control_store *s, const char *name, char id[128])
{
	Ph__Tenant t = PH__TENANT__INIT;
	struct control_err e;
	const Ph__PolicyObject *o;

	t.name = (char *)name;
	o = put_named(s, PH__POLICY_OBJECT__OBJ_TENANT, &t, &e);
	assert_non_null(o);
	snprintf(id, 128, "%s", o->tenant->id);
}

/* test_new_tenant_root - a new tenant is its own root compartment: a sender
 * and a user given no compartment land there, the tenancy OCID names it,
 * and it goes only with the tenant */
static void test_new_tenant_root(void **state)
{
	struct fixture *f = *state;
	struct control_err e;
	Ph__Compartment c = PH__COMPARTMENT__INIT;
	Ph__User u = PH__USER__INIT;
	const Ph__PolicyObject *o;
	char t2[128];

	put_tenant(f->s, "t2", t2);
	o = control_store_get(f->s, PH__POLICY_OBJECT__OBJ_COMPARTMENT, t2);
	assert_non_null(o);
	assert_string_equal(o->compartment->tenant_id, t2);
	assert_string_equal(o->compartment->name, "t2");
	assert_int_equal(control_store_version(f->s), 1);	/* one write, both objects */
	assert_int_equal(put_sender(f->s, t2, "", "a@b.example", &o), PH__ERROR_CODE__ERR_NONE);
	assert_string_equal(o->sender->compartment_id, t2);
	assert_int_equal(put_sender(f->s, t2, t2, "c@b.example", NULL), PH__ERROR_CODE__ERR_NONE);
	u.tenant_id = t2;
	u.name = "u2";
	o = put_named(f->s, PH__POLICY_OBJECT__OBJ_USER, &u, &e);
	assert_non_null(o);
	assert_int_equal(o->user->n_compartment_ids, 1);
	assert_string_equal(o->user->compartment_ids[0], t2);
	/* the root's name is taken; a root is made only with its tenant */
	c.tenant_id = t2;
	c.name = "t2";
	assert_null(put_named(f->s, PH__POLICY_OBJECT__OBJ_COMPARTMENT, &c, &e));
	assert_int_equal(e.code, PH__ERROR_CODE__ERR_EXISTS);
	c.id = t2;
	c.name = "other";
	assert_null(put_named(f->s, PH__POLICY_OBJECT__OBJ_COMPARTMENT, &c, &e));
	assert_int_equal(e.code, PH__ERROR_CODE__ERR_BAD_REQUEST);
	assert_int_equal(control_op_delete(f->s, "compartment", t2, &e), -1);
	assert_int_equal(e.code, PH__ERROR_CODE__ERR_BAD_REQUEST);
	assert_int_equal(control_op_delete(f->s, "tenant", t2, &e), 0);
	assert_null(control_store_get(f->s, PH__POLICY_OBJECT__OBJ_COMPARTMENT, t2));
	assert_int_equal(control_store_count(f->s, PH__POLICY_OBJECT__OBJ_SENDER), 0);
}

/* old_put - write BODY of KIND as a store from before root compartments
 * held it: straight into a batch, no checks and no root */
static void old_put(struct control_store *s, Ph__PolicyObject__ObjCase kind, void *body)
{
	Ph__PolicyObject o = PH__POLICY_OBJECT__INIT;
	struct control_batch *b = control_batch_new(s);

	o.obj_case = kind;
	o.tenant = body;
	control_batch_put(b, control_obj_copy(&o));
	assert_int_equal(control_batch_commit(b, NULL), 0);
}

/* test_old_store_roots - a store from before root compartments: the old
 * bootstrap (tenant, compartment and user "default") and a tenant with no
 * compartment. At start each tenant gets its root (the name "default" being
 * taken, "default (root)"), once; the old default compartment stays where
 * senders without --compartment go, so its user keeps sending. */
static void test_old_store_roots(void **state)
{
	struct fixture *f = *state;
	struct control_err e;
	Ph__Tenant t = PH__TENANT__INIT, t3 = PH__TENANT__INIT;
	Ph__Compartment c = PH__COMPARTMENT__INIT;
	Ph__User u = PH__USER__INIT;
	char *cids[] = { "ocid1.compartment.oc1..default" };
	const Ph__PolicyObject *o;
	size_t added;

	t.id = BOOT_TENANT;
	t.name = "default";
	c.id = cids[0];
	c.tenant_id = BOOT_TENANT;
	c.name = "default";
	u.id = "ocid1.user.oc1..default";
	u.tenant_id = BOOT_TENANT;
	u.name = "default";
	u.n_compartment_ids = 1;
	u.compartment_ids = cids;
	t3.id = "ocid1.tenancy.oc1..old3";
	t3.name = "old3";
	old_put(f->s, PH__POLICY_OBJECT__OBJ_TENANT, &t);
	old_put(f->s, PH__POLICY_OBJECT__OBJ_COMPARTMENT, &c);
	old_put(f->s, PH__POLICY_OBJECT__OBJ_USER, &u);
	old_put(f->s, PH__POLICY_OBJECT__OBJ_TENANT, &t3);
	reopen(f);
	assert_int_equal(control_bootstrap(f->s, &e), 0);
	assert_int_equal(control_roots_ensure(f->s, &added, &e), 0);
	assert_int_equal(added, 2);
	o = control_store_get(f->s, PH__POLICY_OBJECT__OBJ_COMPARTMENT, BOOT_TENANT);
	assert_non_null(o);
	assert_string_equal(o->compartment->name, "default (root)");
	o = control_store_get(f->s, PH__POLICY_OBJECT__OBJ_COMPARTMENT, t3.id);
	assert_non_null(o);
	assert_string_equal(o->compartment->name, "old3");
	assert_int_equal(put_sender(f->s, BOOT_TENANT, "", "a@example.com", &o),
	    PH__ERROR_CODE__ERR_NONE);
	assert_string_equal(o->sender->compartment_id, cids[0]);
	assert_int_equal(put_sender(f->s, BOOT_TENANT, BOOT_TENANT, "b@example.com", NULL),
	    PH__ERROR_CODE__ERR_NONE);
	assert_int_equal(put_sender(f->s, t3.id, "", "a@example.com", &o),
	    PH__ERROR_CODE__ERR_NONE);
	assert_string_equal(o->sender->compartment_id, t3.id);
	reopen(f);
	assert_int_equal(control_roots_ensure(f->s, &added, &e), 0);
	assert_int_equal(added, 0);
	assert_int_equal(control_store_count(f->s, PH__POLICY_OBJECT__OBJ_COMPARTMENT), 3);
}

static const char *needles[4];
static int found_in;

/* grep_file - nftw callback: does any needle occur in this file? */
static int grep_file(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	FILE *fp;
	char *buf;
	size_t n;

	if (flag != FTW_F || (fp = fopen(path, "rb")) == NULL)
		return 0;
	buf = malloc((size_t)st->st_size + 1);
	n = fread(buf, 1, (size_t)st->st_size, fp);
	fclose(fp);
	for (int i = 0; needles[i] != NULL; i++)
		if (memmem(buf, n, needles[i], strlen(needles[i])) != NULL) {
			print_error("clear text \"%s\" in %s\n", needles[i], path);
			found_in++;
		}
	free(buf);
	return 0;
}

/* test_nothing_in_clear - neither WAL, SST, MANIFEST nor LOG show secrets */
static void test_nothing_in_clear(void **state)
{
	struct fixture *f = *state;
	struct control_err e;
	char pw[33], username[256];
	const Ph__PolicyObject *k;

	control_bootstrap(f->s, &e);
	assert_int_equal(put_sender(f->s, BOOT_TENANT, "", "secret.sender@example.net", NULL),
	    PH__ERROR_CODE__ERR_NONE);
	control_op_credential(f->s, "ocid1.user.oc1..default", pw, sizeof(pw), &k, &e);
	snprintf(username, sizeof(username), "%s", k->credential->username);
	reopen(f);	/* flushes the WAL into an SST on close/open */
	needles[0] = "secret.sender";
	needles[1] = "example.net";
	needles[2] = pw;
	needles[3] = NULL;
	found_in = 0;
	nftw(f->dir, grep_file, 8, FTW_PHYS);
	assert_int_equal(found_in, 0);
	/* the username is made of ids, which are in keys: it must not appear whole */
	needles[0] = username;
	needles[1] = NULL;
	nftw(f->dir, grep_file, 8, FTW_PHYS);
	assert_int_equal(found_in, 0);
}

/* test_wrong_key - a store opened with another key refuses to load */
static void test_wrong_key(void **state)
{
	struct fixture *f = *state;
	struct control_err e;
	char *err = NULL;

	control_bootstrap(f->s, &e);
	control_store_close(f->s);
	f->key[0] ^= 1;
	f->s = control_store_open(f->dir, f->key, &err);
	assert_null(f->s);
	assert_non_null(err);
	free(err);
	f->key[0] ^= 1;
	f->s = control_store_open(f->dir, f->key, &err);
	assert_non_null(f->s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bootstrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sender_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenant_cascade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credential, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_tenant_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_store_roots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_in_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
