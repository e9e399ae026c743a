/*
 * control - ph-control: the policy store process.
 *
 * Setup in order: [control] config, the master key (created 0600 on first
 * start), the RocksDB store (directories 0700), the bootstrap tenant on an
 * empty store, the root compartment of every tenant stored without one (a
 * data dir from before root compartments), the ROUTER at endpoints.control
 * and the PUB at endpoints.control_pub, READY, the loop.
 *
 * DIAGNOSTICS: a bad config, an unreadable key, a store that cannot be opened,
 * does not verify or cannot be written at start, or sockets that cannot be
 * bound are fatal; root compartments made at start are logged at info.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "control.h"
#include "control_dkim.h"
#include "control_store.h"
#include "crypto.h"
#include "fsdir.h"
#include "log.h"
#include "proc.h"
#include "zsock.h"

/* control_config - the [control] section */
static void control_config(struct control *c)
{
	struct config_row rows[] = {
		{ "db_dir", CFG_STR, 0, -1, "${data_dir}/control/db", &c->db_dir },
		{ "key_file", CFG_STR, 0, -1, "${data_dir}/control/master.key", &c->key_file },
		{ NULL, 0, 0, 0, NULL, NULL },
	};
	char *err = NULL;

	if (config_apply(c->proc->cfg, "control", rows, &err) == -1)
		fatalx("config: %s", err);
}

/* control_open_store - key file, then the store */
static void control_open_store(struct control *c)
{
	uint8_t key[CRYPTO_KEY_LEN];
	char *err = NULL;

	if (crypto_key_load_or_create(c->key_file, key) == -1)
		fatal("key file %s", c->key_file);
	if (fsdir_make(c->db_dir, 0700) == -1)
		fatal("mkdir %s", c->db_dir);
	c->store = control_store_open(c->db_dir, key, &err);
	memset(key, 0, sizeof(key));
	if (c->store == NULL)
		fatalx("store %s: %s", c->db_dir, err ? err : "cannot open");
}

/* control_sockets - the request ROUTER and the change PUB */
static void control_sockets(struct control *c)
{
	struct ph_endpoints ep;
	char *err = NULL;

	if (config_endpoints(c->proc->cfg, &ep, &err) == -1)
		fatalx("config: %s", err);
	c->srv = rpc_server_new(c->proc->base, ep.control, control_on_request, c);
	if (c->srv == NULL)
		fatalx("cannot listen on %s", ep.control);
	c->pub = rpc_pub_new(ep.control_pub);
	if (c->pub == NULL)
		fatalx("cannot bind %s", ep.control_pub);
	log_info("control: serving %s, publishing on %s, policy version %llu",
	    ep.control, ep.control_pub,
	    (unsigned long long)control_store_version(c->store));
	free(ep.control);
	free(ep.control_pub);
	strvec_clear(&ep.ratelimiter);
	strvec_clear(&ep.queue);
}

/* control_store_upgrade - bootstrap an empty store; give every tenant its
 * root compartment */
static void control_store_upgrade(struct control *c)
{
	struct control_err e;
	size_t added;

	if (control_bootstrap(c->store, &e) == -1)
		fatalx("bootstrap: %s", e.msg);
	if (control_roots_ensure(c->store, &added, &e) == -1)
		fatalx("root compartments: %s", e.msg);
	if (added > 0)
		log_info("control: made the root compartment of %zu tenant(s) stored before "
		    "root compartments", added);
}

/* control_run - set up in order, run the loop, close the store */
int control_run(struct proc *p)
{
	static struct control c;
	int rc;

	c.proc = p;
	control_config(&c);
	control_open_store(&c);
	control_store_upgrade(&c);
	control_sockets(&c);
	control_dkim_start(&c);
	proc_ready(p);
	rc = proc_run(p);
	control_dkim_stop(&c);
	rpc_server_free(c.srv);
	zsock_close(c.pub);
	control_store_close(c.store);
	return rc;
}
