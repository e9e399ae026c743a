/*
 * smtp_auth_pool - scrypt password checks off the event loop: a few worker
 * threads take jobs from a queue, and each result comes back to the loop
 * through a pipe, where the job's callback runs. A check costs ~50 ms of CPU;
 * the loop never waits for one.
 */
#ifndef SMTP_AUTH_POOL_H
#define SMTP_AUTH_POOL_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct smtp_auth_pool;

/* smtp_auth_cb - OK 1 when the password matched the hash, 0 otherwise */
typedef void (*smtp_auth_cb)(void *arg, int ok);

struct smtp_auth_pool *smtp_auth_pool_new(struct event_base *base, int nthreads);
/* smtp_auth_pool_free - stop the workers; pending callbacks never run */
void smtp_auth_pool_free(struct smtp_auth_pool *p);
/* smtp_auth_pool_check - verify PASSWORD against SALT/HASH (all copied; the
 * copy of the password is wiped after use). CB runs later from the loop
 * unless cancelled. 0, or -1 when out of memory. */
int smtp_auth_pool_check(struct smtp_auth_pool *p, const char *password,
    const uint8_t *salt, size_t saltlen, const uint8_t *hash, size_t hashlen,
    smtp_auth_cb cb, void *arg);
/* smtp_auth_pool_cancel - the callbacks of jobs queued with ARG never run */
void smtp_auth_pool_cancel(struct smtp_auth_pool *p, void *arg);

#endif
