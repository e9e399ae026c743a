/*
 * test_health - common/base/health.c: the [health] listener of a process
 * kind and instance (a base port plus the kind's offset plus the instance,
 * or the port itself with port_per_process = no, or none with "off"), and
 * its answers, fetched with libevent's own HTTP client in the same loop:
 * /health/ready 503 with the reason, then 200 once the status says ready;
 * /health/live 200; another path 404; a POST 405.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "config.h"
#include "health.h"

struct fixture {
	struct event_base *base;
	struct ph_config *cfg;
	struct health *h;
	struct health_status st;	/* what the process says */
	int code;			/* the last answer's status */
	char body[512];
};

/* free_port - a port nothing listens on now, above BELOW */
static int
free_port(int below)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	assert_true(port > below);
	return port;
}

/* load - a config with TEXT as its [health] section */
static struct ph_config *
load(const char *text)
{
	char path[] = "/tmp/ph-test-health-XXXXXX";
	char *err = NULL;
	int fd = mkstemp(path);
	struct ph_config *cfg;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	cfg = config_load(path, &err);
	unlink(path);
	assert_non_null(cfg);
	return cfg;
}

static void
status(void *arg, struct health_status *st)
{
	*st = ((struct fixture *)arg)->st;
}

/* start - the listener of NAME INSTANCE under [health] TEXT */
static void
start(struct fixture *f, const char *text, const char *name, int instance)
{
	f->base = event_base_new();
	f->cfg = load(text);
	f->h = health_new(f->base, f->cfg, name, instance, status, f);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	health_free(f->h);
	config_free(f->cfg);
	event_base_free(f->base);
	free(f);
	return 0;
}

static int
setup(void **state)
{
	*state = calloc(1, sizeof(struct fixture));
	return 0;
}

static void
on_reply(struct evhttp_request *req, void *arg)
{
	struct fixture *f = arg;
	struct evbuffer *in;
	size_t n;

	f->code = req ? evhttp_request_get_response_code(req) : -1;
	f->body[0] = '\0';
	if (req != NULL && (in = evhttp_request_get_input_buffer(req)) != NULL) {
		n = evbuffer_get_length(in) < sizeof(f->body) - 1 ? evbuffer_get_length(in) :
		    sizeof(f->body) - 1;
		evbuffer_remove(in, f->body, n);
		f->body[n] = '\0';
	}
	event_base_loopexit(f->base, NULL);
}

/* fetch - METHOD PATH on PORT; the status (-1: no answer), body in f->body */
static int
fetch(struct fixture *f, int port, enum evhttp_cmd_type method, const char *path)
{
	struct evhttp_connection *con = evhttp_connection_base_new(f->base, NULL,
	    "127.0.0.1", (ev_uint16_t)port);
	struct evhttp_request *req = evhttp_request_new(on_reply, f);
	struct timeval tv = { 3, 0 };

	f->code = -1;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "localhost");
	assert_int_equal(evhttp_make_request(con, req, method, path), 0);
	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
	evhttp_connection_free(con);
	return f->code;
}

/* test_ready_then_not - the status decides, with the reason in the body */
static void
test_ready_then_not(void **state)
{
	struct fixture *f = *state;
	int base = free_port(200) - 160 - 3;
	char text[128];

	snprintf(text, sizeof(text), "[health]\nlisten = 127.0.0.1:%d\n", base);
	start(f, text, "ph-smtpd", 3);
	assert_non_null(f->h);
	f->st = (struct health_status){ false, "no queue shard answering" };
	assert_int_equal(fetch(f, base + 163, EVHTTP_REQ_GET, "/health/ready"), 503);
	assert_string_equal(f->body, "{\"status\":\"not ready\",\"process\":\"ph-smtpd\","
	    "\"instance\":3,\"reason\":\"no queue shard answering\"}");
	f->st = (struct health_status){ true, NULL };
	assert_int_equal(fetch(f, base + 163, EVHTTP_REQ_GET, "/health/ready"), 200);
	assert_string_equal(f->body, "{\"status\":\"ready\",\"process\":\"ph-smtpd\",\"instance\":3}");
	assert_int_equal(fetch(f, base + 163, EVHTTP_REQ_GET, "/health/live"), 200);
	assert_string_equal(f->body, "{\"status\":\"live\",\"process\":\"ph-smtpd\",\"instance\":3}");
	assert_int_equal(fetch(f, base + 163, EVHTTP_REQ_GET, "/health"), 404);
	assert_int_equal(fetch(f, base + 163, EVHTTP_REQ_POST, "/health/ready"), 405);
}

/* test_one_port_per_container - port_per_process = no: the port itself */
static void
test_one_port_per_container(void **state)
{
	struct fixture *f = *state;
	int port = free_port(0);
	char text[128];

	snprintf(text, sizeof(text), "[health]\nlisten = 127.0.0.1:%d\nport_per_process = no\n",
	    port);
	start(f, text, "ph-queue", 5);
	f->st = (struct health_status){ true, NULL };
	assert_int_equal(fetch(f, port, EVHTTP_REQ_GET, "/health/ready"), 200);
	assert_string_equal(f->body, "{\"status\":\"ready\",\"process\":\"ph-queue\",\"instance\":5}");
}

/* test_off - no listener at all */
static void
test_off(void **state)
{
	struct fixture *f = *state;

	start(f, "[health]\nlisten = off\n", "ph-control", 0);
	assert_null(f->h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ready_then_not, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_port_per_container, setup, teardown),
		cmocka_unit_test_setup_teardown(test_off, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
