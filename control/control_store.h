/*
 * control_store - the policy objects in RocksDB, sealed with AES-256-GCM, and
 * their in-memory copy (every object is loaded at open; reads never touch the
 * disk). Keys are "o/<kind>/<id>" (ids are OCIDs, never addresses or user
 * names) and "m/version"; every value, the version included, is sealed with
 * its key as AAD.
 *
 * Changes go through a batch that is written atomically with the bumped
 * version in one synced write, and only then applied to memory.
 */
#ifndef PH_CONTROL_STORE_H
#define PH_CONTROL_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "control.pb-c.h"
#include "crypto.h"

struct control_store;
struct control_batch;

/* control_store_open - open or create the database in DIR; NULL with *err */
struct control_store *control_store_open(const char *dir,
    const uint8_t key[CRYPTO_KEY_LEN], char **err);
void control_store_close(struct control_store *s);

uint64_t control_store_version(const struct control_store *s);
size_t control_store_count(const struct control_store *s, Ph__PolicyObject__ObjCase kind);
const Ph__PolicyObject *control_store_get(const struct control_store *s,
    Ph__PolicyObject__ObjCase kind, const char *id);
/* control_store_uniq_owner - the id of the object holding uniqueness key UNIQ */
const char *control_store_uniq_owner(const struct control_store *s, const char *uniq);
/* control_store_each - FN for every object of KIND (NOT_SET: every kind) */
void control_store_each(const struct control_store *s, Ph__PolicyObject__ObjCase kind,
    void (*fn)(void *arg, const Ph__PolicyObject *obj), void *arg);

struct control_batch *control_batch_new(struct control_store *s);
/* control_batch_put - OBJ (a control_obj_copy) is owned by the batch from now on */
void control_batch_put(struct control_batch *b, Ph__PolicyObject *obj);
void control_batch_del(struct control_batch *b, Ph__PolicyObject__ObjCase kind,
    const char *id);
/* control_batch_commit - write and apply; the batch is freed either way. 0 or -1 */
int control_batch_commit(struct control_batch *b, char **err);
void control_batch_free(struct control_batch *b);

#endif
