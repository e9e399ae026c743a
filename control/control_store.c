/*
 * control_store - sealed policy objects in RocksDB plus their in-memory copy.
 *
 * Layout (every value sealed with crypto_seal, AAD = the key):
 *   o/<kind>/<id>   a packed ph.PolicyObject
 *   m/version       the policy version, 8 bytes big endian
 * Keys hold only kind names and OCIDs, so nothing about an address or a user
 * name can be read from RocksDB's SST, WAL or LOG files.
 *
 * DIAGNOSTICS: open fails (with *err) when the database cannot be opened or a
 * value does not verify under the key (wrong key file, tampering); commit
 * fails when the synced write fails, and memory is then left unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "control_obj.h"
#include "control_store.h"
#include "strmap.h"

#define KIND_MAX 11	/* obj cases are 1..10 */
#define KEY_MAX 256
#define VERSION_KEY "m/version"

struct control_store {
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_writeoptions_t *wopts;
	rocksdb_readoptions_t *ropts;
	uint8_t key[CRYPTO_KEY_LEN];
	uint64_t version;
	struct strmap *objs[KIND_MAX];	/* id -> Ph__PolicyObject * */
	struct strmap *uniq;		/* uniqueness key -> id (malloc'd) */
};

struct batch_del {
	Ph__PolicyObject__ObjCase kind;
	char *id;
};

struct control_batch {
	struct control_store *s;
	Ph__PolicyObject **puts;
	size_t nput;
	struct batch_del *dels;
	size_t ndel;
	int broken;	/* an allocation failed: commit refuses */
};

/* fail - set *ERR to a malloc'd message built from WHAT and DETAIL */
static void fail(char **err, const char *what, const char *detail)
{
	if (err != NULL && asprintf(err, "%s%s%s", what, detail ? ": " : "",
	    detail ? detail : "") == -1)
		*err = NULL;
}

/* obj_key - "o/<kind>/<id>" */
static int obj_key(char out[KEY_MAX], Ph__PolicyObject__ObjCase kind, const char *id)
{
	const char *name = control_kind_name(kind);
	int n;

	if (name == NULL)
		return -1;
	n = snprintf(out, KEY_MAX, "o/%s/%s", name, id);
	return n > 0 && n < KEY_MAX ? 0 : -1;
}

/* index_add - remember OBJ in memory (replacing nothing: caller removed the old) */
static void index_add(struct control_store *s, Ph__PolicyObject *obj)
{
	char u[CONTROL_UNIQ_MAX];

	strmap_put(s->objs[obj->obj_case], control_obj_id(obj), obj);
	control_obj_uniq(obj, u);
	if (u[0] != '\0')
		free(strmap_put(s->uniq, u, strdup(control_obj_id(obj))));
}

/* index_remove - forget the object KIND/ID; it is freed */
static void index_remove(struct control_store *s, Ph__PolicyObject__ObjCase kind,
    const char *id)
{
	Ph__PolicyObject *obj = strmap_del(s->objs[kind], id);
	char u[CONTROL_UNIQ_MAX];
	const char *owner;

	if (obj == NULL)
		return;
	control_obj_uniq(obj, u);
	owner = u[0] != '\0' ? strmap_get(s->uniq, u) : NULL;
	if (owner != NULL && strcmp(owner, id) == 0)
		free(strmap_del(s->uniq, u));
	control_obj_free(obj);
}

/* load_one - open and index one stored object */
static int load_one(struct control_store *s, const char *k, size_t klen,
    const char *v, size_t vlen)
{
	uint8_t *pt;
	size_t ptlen;
	Ph__PolicyObject *obj;
	char want[KEY_MAX];

	if (crypto_open(s->key, v, vlen, k, klen, &pt, &ptlen) == -1)
		return -1;
	obj = ph__policy_object__unpack(NULL, ptlen, pt);
	free(pt);
	if (obj == NULL || obj_key(want, obj->obj_case, control_obj_id(obj)) == -1 ||
	    strlen(want) != klen || memcmp(want, k, klen) != 0) {
		control_obj_free(obj);
		return -1;
	}
	index_add(s, obj);
	return 0;
}

/* load_objects - read every "o/" key into memory */
static int load_objects(struct control_store *s, char **err)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, s->ropts);
	int rc = 0;

	for (rocksdb_iter_seek(it, "o/", 2); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *v = rocksdb_iter_value(it, &vlen);
		if (klen < 2 || memcmp(k, "o/", 2) != 0)
			break;
		if (load_one(s, k, klen, v, vlen) == -1) {
			fail(err, "a stored object does not verify under the key file", NULL);
			rc = -1;
			break;
		}
	}
	rocksdb_iter_destroy(it);
	return rc;
}

/* load_version - the stored version (0 when none) */
static int load_version(struct control_store *s, char **err)
{
	char *rerr = NULL;
	size_t vlen, ptlen;
	char *v = rocksdb_get(s->db, s->ropts, VERSION_KEY, strlen(VERSION_KEY), &vlen, &rerr);
	uint8_t *pt;

	if (rerr != NULL) {
		fail(err, "read version", rerr);
		free(rerr);
		return -1;
	}
	if (v == NULL)
		return 0;
	if (crypto_open(s->key, v, vlen, VERSION_KEY, strlen(VERSION_KEY), &pt, &ptlen) == -1 ||
	    ptlen != 8) {
		rocksdb_free(v);
		fail(err, "the stored version does not verify under the key file", NULL);
		return -1;
	}
	s->version = 0;
	for (int i = 0; i < 8; i++)
		s->version = s->version << 8 | pt[i];
	free(pt);
	rocksdb_free(v);
	return 0;
}

/* store_alloc - an empty store with RocksDB options set */
static struct control_store *store_alloc(const uint8_t key[CRYPTO_KEY_LEN])
{
	struct control_store *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	memcpy(s->key, key, CRYPTO_KEY_LEN);
	for (int i = 0; i < KIND_MAX; i++)
		s->objs[i] = strmap_new();
	s->uniq = strmap_new();
	s->opts = rocksdb_options_create();
	rocksdb_options_set_create_if_missing(s->opts, 1);
	rocksdb_options_set_keep_log_file_num(s->opts, 3);
	/* a small store: keep the memtable (and the preallocated WAL) small */
	rocksdb_options_set_write_buffer_size(s->opts, 4u << 20);
	s->wopts = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(s->wopts, 1);
	s->ropts = rocksdb_readoptions_create();
	return s;
}

/* control_store_open - open DIR and load everything */
struct control_store *control_store_open(const char *dir,
    const uint8_t key[CRYPTO_KEY_LEN], char **err)
{
	struct control_store *s = store_alloc(key);
	char *rerr = NULL;

	if (s == NULL) {
		fail(err, "out of memory", NULL);
		return NULL;
	}
	s->db = rocksdb_open(s->opts, dir, &rerr);
	if (rerr != NULL) {
		fail(err, "rocksdb open", rerr);
		free(rerr);
		goto error;
	}
	if (load_version(s, err) == -1 || load_objects(s, err) == -1)
		goto error;
	return s;
error:
	control_store_close(s);
	return NULL;
}

/* free_obj - strmap value destructor */
static void free_obj(void *v)
{
	control_obj_free(v);
}

/* control_store_close - close RocksDB and free the memory copy */
void control_store_close(struct control_store *s)
{
	if (s == NULL)
		return;
	if (s->db != NULL)
		rocksdb_close(s->db);
	rocksdb_options_destroy(s->opts);
	rocksdb_writeoptions_destroy(s->wopts);
	rocksdb_readoptions_destroy(s->ropts);
	for (int i = 0; i < KIND_MAX; i++)
		strmap_free(s->objs[i], free_obj);
	strmap_free(s->uniq, free);
	memset(s->key, 0, sizeof(s->key));
	free(s);
}

/* control_store_version - the version of the last committed change */
uint64_t control_store_version(const struct control_store *s)
{
	return s->version;
}

/* kind_ok - a valid object case */
static int kind_ok(Ph__PolicyObject__ObjCase kind)
{
	return kind > 0 && kind < KIND_MAX && control_kind_name(kind) != NULL;
}

/* control_store_count - objects of one kind */
size_t control_store_count(const struct control_store *s, Ph__PolicyObject__ObjCase kind)
{
	return kind_ok(kind) ? strmap_count(s->objs[kind]) : 0;
}

/* control_store_get - one object by kind and id, NULL if absent */
const Ph__PolicyObject *control_store_get(const struct control_store *s,
    Ph__PolicyObject__ObjCase kind, const char *id)
{
	return kind_ok(kind) ? strmap_get(s->objs[kind], id) : NULL;
}

/* control_store_uniq_owner - who holds a uniqueness key */
const char *control_store_uniq_owner(const struct control_store *s, const char *uniq)
{
	return strmap_get(s->uniq, uniq);
}

struct each_ctx {
	void (*fn)(void *arg, const Ph__PolicyObject *obj);
	void *arg;
};

/* each_one - strmap_each adapter */
static void each_one(void *arg, const char *key, void *val)
{
	struct each_ctx *c = arg;

	c->fn(c->arg, val);
}

/* control_store_each - kinds in declaration order (tenants before their
 * compartments, users before their credentials) */
void control_store_each(const struct control_store *s, Ph__PolicyObject__ObjCase kind,
    void (*fn)(void *arg, const Ph__PolicyObject *obj), void *arg)
{
	struct each_ctx c = { fn, arg };

	for (int k = 1; k < KIND_MAX; k++)
		if ((kind == PH__POLICY_OBJECT__OBJ__NOT_SET || (int)kind == k) &&
		    kind_ok((Ph__PolicyObject__ObjCase)k))
			strmap_each(s->objs[k], each_one, &c);
}

/* control_batch_new - an empty change set */
struct control_batch *control_batch_new(struct control_store *s)
{
	struct control_batch *b = calloc(1, sizeof(*b));

	if (b != NULL)
		b->s = s;
	return b;
}

/* control_batch_put - queue OBJ for writing; the batch owns it */
void control_batch_put(struct control_batch *b, Ph__PolicyObject *obj)
{
	Ph__PolicyObject **p = realloc(b->puts, (b->nput + 1) * sizeof(*p));

	if (p == NULL) {
		control_obj_free(obj);
		b->broken = 1;
		return;
	}
	b->puts = p;
	b->puts[b->nput++] = obj;
}

/* control_batch_del - queue the deletion of KIND/ID */
void control_batch_del(struct control_batch *b, Ph__PolicyObject__ObjCase kind,
    const char *id)
{
	struct batch_del *d = realloc(b->dels, (b->ndel + 1) * sizeof(*d));

	if (d == NULL) {
		b->broken = 1;
		return;
	}
	b->dels = d;
	d[b->ndel].kind = kind;
	d[b->ndel].id = strdup(id);
	if (d[b->ndel].id == NULL)
		b->broken = 1;
	else
		b->ndel++;
}

/* control_batch_free - drop an uncommitted change set */
void control_batch_free(struct control_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->nput; i++)
		control_obj_free(b->puts[i]);
	for (size_t i = 0; i < b->ndel; i++)
		free(b->dels[i].id);
	free(b->puts);
	free(b->dels);
	free(b);
}

/* wb_put_sealed - add KEY = seal(PT) to WB */
static int wb_put_sealed(struct control_store *s, rocksdb_writebatch_t *wb,
    const char *key, const void *pt, size_t len)
{
	uint8_t *sealed;
	size_t slen;

	if (crypto_seal(s->key, pt, len, key, strlen(key), &sealed, &slen) == -1)
		return -1;
	rocksdb_writebatch_put(wb, key, strlen(key), (const char *)sealed, slen);
	free(sealed);
	return 0;
}

/* wb_put_obj - the sealed, packed object */
static int wb_put_obj(struct control_store *s, rocksdb_writebatch_t *wb,
    const Ph__PolicyObject *obj)
{
	char key[KEY_MAX];
	size_t len = ph__policy_object__get_packed_size(obj);
	uint8_t *buf = malloc(len + 1);
	int rc;

	if (buf == NULL || obj_key(key, obj->obj_case, control_obj_id(obj)) == -1) {
		free(buf);
		return -1;
	}
	ph__policy_object__pack(obj, buf);
	rc = wb_put_sealed(s, wb, key, buf, len);
	free(buf);
	return rc;
}

/* wb_put_version - the version as 8 bytes big endian */
static int wb_put_version(struct control_store *s, rocksdb_writebatch_t *wb,
    uint64_t version)
{
	uint8_t be[8];

	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(version >> (56 - 8 * i));
	return wb_put_sealed(s, wb, VERSION_KEY, be, sizeof(be));
}

/* batch_fill - every put, delete and the next version into WB */
static int batch_fill(struct control_batch *b, rocksdb_writebatch_t *wb)
{
	char key[KEY_MAX];

	if (b->broken)
		return -1;
	for (size_t i = 0; i < b->ndel; i++) {
		if (obj_key(key, b->dels[i].kind, b->dels[i].id) == -1)
			return -1;
		rocksdb_writebatch_delete(wb, key, strlen(key));
	}
	for (size_t i = 0; i < b->nput; i++)
		if (wb_put_obj(b->s, wb, b->puts[i]) == -1)
			return -1;
	return wb_put_version(b->s, wb, b->s->version + 1);
}

/* batch_apply - mirror a written batch in memory; puts move to the index */
static void batch_apply(struct control_batch *b)
{
	struct control_store *s = b->s;

	for (size_t i = 0; i < b->ndel; i++)
		index_remove(s, b->dels[i].kind, b->dels[i].id);
	for (size_t i = 0; i < b->nput; i++) {
		index_remove(s, b->puts[i]->obj_case, control_obj_id(b->puts[i]));
		index_add(s, b->puts[i]);
	}
	b->nput = 0;
	s->version++;
}

/* control_batch_commit - one synced write, then memory */
int control_batch_commit(struct control_batch *b, char **err)
{
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	char *rerr = NULL;
	int rc = -1;

	if (batch_fill(b, wb) == -1) {
		fail(err, "cannot seal the change", NULL);
		goto done;
	}
	rocksdb_write(b->s->db, b->s->wopts, wb, &rerr);
	if (rerr != NULL) {
		fail(err, "rocksdb write", rerr);
		free(rerr);
		goto done;
	}
	batch_apply(b);
	rc = 0;
done:
	rocksdb_writebatch_destroy(wb);
	control_batch_free(b);
	return rc;
}
