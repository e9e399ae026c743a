/*
 * rl_store - the ratelimiter's counters on disk, in RocksDB: one record per
 * bucket of each key (layout in rl_store.c). Written in batches by
 * rl_store_flush (changed buckets only), loaded back at start.
 */
#ifndef PH_RL_STORE_H
#define PH_RL_STORE_H

#include <stdbool.h>
#include "rl_table.h"

struct rl_store;

/* rl_store_open - open or create the database in DIR (created 0700 if
 * missing, with its parents); SYNC: a syncer thread fsyncs the WAL after
 * every commit, off the caller's thread.
 * NULL with *err (malloc'd) on failure. */
struct rl_store *rl_store_open(const char *dir, bool sync, char **err);
void rl_store_close(struct rl_store *s);
/* rl_store_load - restore every stored window into T; malformed records are
 * skipped with a warning. Returns the number loaded, -1 on a read error. */
long rl_store_load(struct rl_store *s, struct rl_table *t);
/* rl_store_flush - write T's dirty windows and deletions in one batch. 0 or -1 */
int rl_store_flush(struct rl_store *s, struct rl_table *t);

#endif
