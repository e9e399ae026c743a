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

/* replies and change notices (control_rpc.c) */
void control_reply_err(struct control *c, const struct zpeer *peer, uint64_t rid,
    const struct control_err *e);
/* control_reply_one - an ok PolicyReply with O (NULL: none), private parts hidden */
void control_reply_one(struct control *c, const struct zpeer *peer, uint64_t rid,
    const Ph__PolicyObject *o, char *password);
/* control_changed - log the change and publish PolicyChanged */
void control_changed(struct control *c, const char *what, const char *kind,
    const char *id);

/* control_check_put - normalize OBJ (an owned copy) and validate it against
 * the store: references, formats, uniqueness; assigns a new id when empty.
 * 0, or -1 with E filled (control_check.c). */
int control_check_put(struct control_store *s, Ph__PolicyObject *obj,
    struct control_err *e);
/* control_check_user_tenant - USER_ID names a user and *TENANT_ID (a
 * protobuf-c string, "" = set to the user's) is the user's tenant; WHAT names
 * the object in the refusal. 0, or -1 with E filled (control_check.c) */
int control_check_user_tenant(struct control_store *s, const char *user_id,
    char **tenant_id, const char *what, struct control_err *e);
/* control_check_api_key - an existing user, its tenant, an RSA public key
 * in PEM; the fingerprint is computed here (control_apikey.c) */
int control_check_api_key(struct control_store *s, Ph__ApiKey *k, struct control_err *e);
/* control_apikey_fingerprint - OCI's fingerprint of a PEM public key: the
 * colon-separated lowercase hex MD5 of its DER SubjectPublicKeyInfo (48 bytes
 * with NUL). 0 or -1 (not a public key) */
int control_apikey_fingerprint(const char *pem, char out[48]);
/* control_default_compartment - where a sender, email domain or user given
 * no compartment goes: the tenant's compartment named "default" (data dirs
 * from before root compartments), else its root compartment (whose id is
 * the tenancy OCID); NULL when it has neither */
const Ph__Compartment *control_default_compartment(struct control_store *s,
    const char *tenant_id);
/* control_check_compartment - *COMPARTMENT_ID (a protobuf-c string; "" is
 * set to the default above) is a compartment of TENANT_ID. 0, or -1 with E
 * (control_check.c) */
int control_check_compartment(struct control_store *s, const char *tenant_id,
    char **compartment_id, struct control_err *e);

/* operations (control_ops.c): each writes one synced batch. 0 or -1 with E. */
int control_op_put(struct control_store *s, const Ph__PolicyObject *in,
    const Ph__PolicyObject **stored, struct control_err *e);
int control_op_delete(struct control_store *s, const char *kind, const char *id,
    struct control_err *e);
/* control_op_credential - PASSWORD (at least 33 bytes) gets the clear password */
int control_op_credential(struct control_store *s, const char *user_id,
    char *password, size_t pwlen, const Ph__PolicyObject **stored,
    struct control_err *e);
/* control_bootstrap - the "default" tenant (with its root compartment) and
 * user when the store has no tenant at all */
int control_bootstrap(struct control_store *s, struct control_err *e);
/* control_roots_ensure - the root compartment of every tenant stored
 * without one (data dirs from before root compartments), in one synced
 * write; *ADDED says how many were made. 0 or -1 with E. */
int control_roots_ensure(struct control_store *s, size_t *added, struct control_err *e);

/* control_err_set - fill E (printf-style message) and return -1 */
int control_err_set(struct control_err *e, Ph__ErrorCode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
