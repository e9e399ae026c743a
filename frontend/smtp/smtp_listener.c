/*
 * smtp_listener - evconnlistener per [smtpd] listen, submission_listen and
 * tls_listen entry ("host:port", "[v6]:port"), opened with SO_REUSEADDR and
 * SO_REUSEPORT so that several ph-smtpd instances share a port and the
 * kernel spreads connections. Each listener knows its port kind
 * (smtp_session.h); a tls_listen connection gets an OpenSSL bufferevent that
 * accepts the handshake before the banner goes out. Only relay-port clients
 * in trusted_networks are trusted.
 *
 * Admission: over [smtpd] max_connections in this process, or
 * max_connections_per_ip from one client address, a connection gets
 * "421 Too many connections, try again later" and is closed once that was
 * written.
 *
 * DIAGNOSTICS: an address that cannot be parsed or bound is fatal for the
 * caller (returned -1 after a log line); accept errors are warnings.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/ssl.h>

#include "log.h"
#include "smtp_acl.h"
#include "smtp_listener.h"
#include "smtp_session.h"
#include "smtpd.h"
#include "strmap.h"

struct smtp_listener {
	struct evconnlistener *lev;
	struct smtpd *sd;
	enum smtp_port port;
	struct smtp_listener *next;
};

/* smtp_listener_ip - the numeric address of SA (IPv4-mapped shown as IPv4) */
static void
smtp_listener_ip(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)len);
	else if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)len);
	else
		snprintf(buf, len, "unknown");
}

/* smtp_reject_done - the 421 went out (or the client left): close */
static void
smtp_reject_done(struct bufferevent *bev, void *arg)
{
	bufferevent_free(bev);
}

/* smtp_reject_event - error or EOF on a rejected connection */
static void
smtp_reject_event(struct bufferevent *bev, short events, void *arg)
{
	bufferevent_free(bev);
}

/* smtp_listener_reject - 421 and close, without a session */
static void
smtp_listener_reject(struct smtpd *sd, evutil_socket_t fd)
{
	struct bufferevent *bev = bufferevent_socket_new(sd->base, fd, BEV_OPT_CLOSE_ON_FREE);
	struct timeval tv = { 10, 0 };

	if (bev == NULL) {
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, NULL, smtp_reject_done, smtp_reject_event, NULL);
	bufferevent_set_timeouts(bev, NULL, &tv);
	bufferevent_enable(bev, EV_WRITE);
	bufferevent_write(bev, "421 Too many connections, try again later\r\n", 43);
}

/* smtp_listener_admit - within the connection limits? counts IP when yes */
static bool
smtp_listener_admit(struct smtpd *sd, const char *ip)
{
	uintptr_t n = (uintptr_t)strmap_get(sd->per_ip, ip);

	if (sd->nsessions >= (size_t)sd->conf.max_connections ||
	    n >= (uintptr_t)sd->conf.max_connections_per_ip)
		return false;
	strmap_put(sd->per_ip, ip, (void *)(n + 1));
	return true;
}

/* smtp_listener_bev - plain, or TLS from the first byte on a tls_listen port */
static struct bufferevent *
smtp_listener_bev(struct smtp_listener *l, evutil_socket_t fd)
{
	SSL *ssl;

	if (l->port != PORT_TLS)
		return bufferevent_socket_new(l->sd->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if ((ssl = SSL_new(l->sd->tls)) == NULL)
		return NULL;
	return bufferevent_openssl_socket_new(l->sd->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

/* smtp_listener_accept - a new connection */
static void
smtp_listener_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct smtp_listener *l = arg;
	struct smtpd *sd = l->sd;
	struct smtp_session *s;
	struct bufferevent *bev;
	char ip[INET6_ADDRSTRLEN];
	int one = 1;

	smtp_listener_ip(sa, ip, sizeof(ip));
	if (sd->stopping || !smtp_listener_admit(sd, ip)) {
		smtp_listener_reject(sd, fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bev = smtp_listener_bev(l, fd);
	s = bev ? smtp_session_new(sd, bev, ip,
	    l->port == PORT_RELAY && smtp_acl_match(sd->trusted, sa)) : NULL;
	if (s == NULL) {
		log_warnx("smtp: cannot set up a session for %s", ip);
		if (bev)
			bufferevent_free(bev);
		else
			evutil_closesocket(fd);
		smtpd_session_gone(sd, ip);
		return;
	}
	smtp_session_set_tls(s, l->port, l->port == PORT_TLS);
}

/* smtp_listener_error - accept() failed (e.g. out of fds) */
static void
smtp_listener_error(struct evconnlistener *lev, void *arg)
{
	log_warn("smtp: accept");
}

/* smtp_listener_one - listen on ADDR for PORT */
static int
smtp_listener_one(struct smtpd *sd, const char *addr, enum smtp_port port)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	struct smtp_listener *l;

	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &sslen) < 0) {
		log_warnx("smtp: bad listen address \"%s\"", addr);
		return -1;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -1;
	l->sd = sd;
	l->port = port;
	l->lev = evconnlistener_new_bind(sd->base, smtp_listener_accept, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT |
	    LEV_OPT_CLOSE_ON_EXEC, 1024, (struct sockaddr *)&ss, sslen);
	if (l->lev == NULL) {
		log_warn("smtp: cannot listen on %s", addr);
		free(l);
		return -1;
	}
	evconnlistener_set_error_cb(l->lev, smtp_listener_error);
	l->next = sd->listeners;
	sd->listeners = l;
	log_info("smtp: listening on %s (%s)", addr, smtp_port_name(port));
	return 0;
}

/* smtp_listener_open - every configured address */
int
smtp_listener_open(struct smtpd *sd)
{
	const struct strvec *lists[PORT_COUNT] = {
		[PORT_RELAY] = &sd->conf.listen,
		[PORT_SUBMISSION] = &sd->conf.submission_listen,
		[PORT_TLS] = &sd->conf.tls_listen,
	};
	size_t i;
	int port;

	for (port = 0; port < PORT_COUNT; port++)
		for (i = 0; i < lists[port]->n; i++)
			if (smtp_listener_one(sd, lists[port]->v[i], (enum smtp_port)port) < 0)
				return -1;
	return 0;
}

/* smtp_listener_close - free every listener */
void
smtp_listener_close(struct smtpd *sd)
{
	struct smtp_listener *l, *next;

	for (l = sd->listeners; l; l = next) {
		next = l->next;
		evconnlistener_free(l->lev);
		free(l);
	}
	sd->listeners = NULL;
}
