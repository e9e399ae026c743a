/*
 * ares_ev - c-ares inside the libevent loop (see ares_ev.h).
 *
 * DIAGNOSTICS: set-up failures are returned in *err; a socket that cannot
 * be watched is dropped silently (its query then times out).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "ares_ev.h"

struct ares_watch {
	ares_socket_t fd;
	struct event *ev;
	struct ares_watch *next;
};

struct ares_ev {
	struct event_base *base;
	ares_channel channel;
	struct event *timer;
	struct ares_watch *watches;
	int destroying;
};

/* on_io - a watched socket is ready */
static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct ares_ev *ev = arg;

	ares_process_fd(ev->channel, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	ares_ev_arm(ev);
}

/* on_timer - retransmits and timeouts */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ares_ev *ev = arg;

	ares_process_fd(ev->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	ares_ev_arm(ev);
}

/* ares_ev_arm - wake up when c-ares next needs to act */
void ares_ev_arm(struct ares_ev *ev)
{
	struct timeval tv, *t;

	if (ev->destroying)
		return;
	t = ares_timeout(ev->channel, NULL, &tv);
	if (t != NULL)
		evtimer_add(ev->timer, t);
	else
		evtimer_del(ev->timer);
}

/* watch_drop - stop watching FD */
static void watch_drop(struct ares_ev *ev, ares_socket_t fd)
{
	for (struct ares_watch **pp = &ev->watches, *w; (w = *pp) != NULL; pp = &w->next) {
		if (w->fd == fd) {
			*pp = w->next;
			event_free(w->ev);
			free(w);
			return;
		}
	}
}

/* sock_state - c-ares says which events it wants on FD */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct ares_ev *ev = data;
	struct ares_watch *w;
	short what = (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));

	watch_drop(ev, fd);
	if (what == 0 || ev->destroying || (w = calloc(1, sizeof(*w))) == NULL)
		return;
	w->fd = fd;
	w->ev = event_new(ev->base, fd, what | EV_PERSIST, on_io, ev);
	if (w->ev == NULL || event_add(w->ev, NULL) < 0) {
		if (w->ev != NULL)
			event_free(w->ev);
		free(w);
		return;
	}
	w->next = ev->watches;
	ev->watches = w;
}

/* set_servers - "ip:port" list as the channel's servers */
static int set_servers(struct ares_ev *ev, const struct strvec *servers, char **err)
{
	size_t len = 1;
	char *csv;
	int rc;

	for (size_t i = 0; i < servers->n; i++)
		len += strlen(servers->v[i]) + 1;
	if ((csv = calloc(1, len)) == NULL)
		return -1;
	for (size_t i = 0; i < servers->n; i++) {
		if (i > 0)
			strcat(csv, ",");
		strcat(csv, servers->v[i]);
	}
	rc = ares_set_servers_ports_csv(ev->channel, csv);
	free(csv);
	if (rc == ARES_SUCCESS)
		return 0;
	if (asprintf(err, "dns servers: %s", ares_strerror(rc)) < 0)
		*err = NULL;
	return -1;
}

/* ares_ev_new - a channel joined to BASE */
struct ares_ev *ares_ev_new(struct event_base *base, const struct strvec *servers,
    long long timeout_ms, char **err)
{
	struct ares_options opt;
	struct ares_ev *ev;
	int rc;

	*err = NULL;
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS ||
	    (ev = calloc(1, sizeof(*ev))) == NULL) {
		if (asprintf(err, "c-ares init: %s", ares_strerror(rc)) < 0)
			*err = NULL;
		return NULL;
	}
	ev->base = base;
	memset(&opt, 0, sizeof(opt));
	opt.sock_state_cb = sock_state;
	opt.sock_state_cb_data = ev;
	opt.timeout = (int)timeout_ms;
	opt.tries = 2;
	rc = ares_init_options(&ev->channel, &opt,
	    ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		if (asprintf(err, "c-ares init: %s", ares_strerror(rc)) < 0)
			*err = NULL;
		free(ev);
		ares_library_cleanup();
		return NULL;
	}
	ev->timer = evtimer_new(base, on_timer, ev);
	if (ev->timer == NULL || (servers->n > 0 && set_servers(ev, servers, err) < 0)) {
		ares_ev_free(ev);
		return NULL;
	}
	return ev;
}

/* ares_ev_free - cancel everything, then free */
void ares_ev_free(struct ares_ev *ev)
{
	if (ev == NULL)
		return;
	ev->destroying = 1;
	ares_destroy(ev->channel);
	while (ev->watches != NULL)
		watch_drop(ev, ev->watches->fd);
	if (ev->timer != NULL)
		event_free(ev->timer);
	free(ev);
	ares_library_cleanup();
}

/* ares_ev_channel - for ares_query and friends */
ares_channel ares_ev_channel(struct ares_ev *ev)
{
	return ev->channel;
}

/* ares_ev_destroying - inside ares_ev_free */
int ares_ev_destroying(const struct ares_ev *ev)
{
	return ev->destroying;
}
