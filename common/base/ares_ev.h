/*
 * ares_ev - a c-ares channel driven by a libevent loop: c-ares reports the
 * sockets it wants watched (ARES_OPT_SOCK_STATE_CB), each gets a persistent
 * event calling ares_process_fd, and one timer follows ares_timeout() for
 * retransmits and timeouts. Nothing blocks. Callers issue queries on
 * ares_ev_channel() and call ares_ev_arm() after each batch of queries.
 */
#ifndef PH_ARES_EV_H
#define PH_ARES_EV_H

#include <ares.h>
#include "config.h"

struct event_base;
struct ares_ev;

/* ares_ev_new - SERVERS: "ip:port" entries, empty = resolv.conf. NULL and
 * *ERR (malloc'd) on failure */
struct ares_ev *ares_ev_new(struct event_base *base, const struct strvec *servers,
    long long timeout_ms, char **err);
/* ares_ev_free - pending queries end with ARES_EDESTRUCTION */
void ares_ev_free(struct ares_ev *ev);
ares_channel ares_ev_channel(struct ares_ev *ev);
/* ares_ev_arm - (re)arm the timer after queries were issued */
void ares_ev_arm(struct ares_ev *ev);
/* ares_ev_destroying - true inside ares_ev_free (callbacks must not query) */
int ares_ev_destroying(const struct ares_ev *ev);

#endif
