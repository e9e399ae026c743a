/*
 * control - ph-control, the policy store: the process, its operations and its
 * request dispatch. Wire protocol: proto/control.proto.
 */
#ifndef PH_CONTROL_H
#define PH_CONTROL_H

#include <stddef.h>
#include "control.pb-c.h"
#include "rpc.h"

struct proc;
struct control_store;

/* control_err - why an operation was refused (code and a short message) */
struct control_err {
	Ph__ErrorCode code;
	char msg[256];
};

struct control {
	struct proc *proc;
	struct control_store *store;
	struct rpc_server *srv;
	void *pub;
	char *db_dir;
	char *key_file;
};

/* control_run - the process: config, key, store, bootstrap, server, loop */
int control_run(struct proc *p);

/* control_on_request - the rpc_server handler (control_rpc.c) */
void control_on_request(void *arg, struct rpc_server *srv, const struct zpeer *peer,
    Ph__Envelope *req);

/* control_check_put - normalize OBJ (an owned copy) and validate it against
 * the store: references, formats, uniqueness; assigns a new id when empty.
 * 0, or -1 with E filled (control_check.c). */
int control_check_put(struct control_store *s, Ph__PolicyObject *obj,
    struct control_err *e);
/* control_default_compartment - the tenant's "default" compartment, else its
 * first one; NULL when it has none */
const Ph__Compartment *control_default_compartment(struct control_store *s,
    const char *tenant_id);

/* operations (control_ops.c): each writes one synced batch. 0 or -1 with E. */
int control_op_put(struct control_store *s, const Ph__PolicyObject *in,
    const Ph__PolicyObject **stored, struct control_err *e);
int control_op_delete(struct control_store *s, const char *kind, const char *id,
    struct control_err *e);
/* control_op_credential - PASSWORD (at least 33 bytes) gets the clear password */
int control_op_credential(struct control_store *s, const char *user_id,
    char *password, size_t pwlen, const Ph__PolicyObject **stored,
    struct control_err *e);
/* control_bootstrap - the "default" tenant, compartment and user when the
 * store has no tenant at all */
int control_bootstrap(struct control_store *s, struct control_err *e);

/* control_err_set - fill E (printf-style message) and return -1 */
int control_err_set(struct control_err *e, Ph__ErrorCode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
