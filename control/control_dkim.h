/*
 * control_dkim - email domains and DKIM keys in ph-control: validation of
 * puts (control_dkim.c), key material (control_dkim_key.c), the DNS
 * diagnosis of a key's records (control_dkim_diag.c, pure) and the periodic
 * DNS checker (control_dkim_check.c).
 *
 * DNS scheme (OCI's shape; the zone is ours):
 *   the customer publishes   <selector>._domainkey.<domain>  CNAME
 *                            <selector>.<domain>.<[dkim] publish_zone>
 *   the operator serves      TXT "v=DKIM1; k=rsa; p=<base64 SPKI>" there
 *                            (k=ed25519 and the raw key for Ed25519 keys)
 * A key is CREATING when stored, NEEDS_ATTENTION while the CNAME (or the TXT
 * behind it) is missing or wrong, ACTIVE once both are right. The first key
 * of a domain that becomes ACTIVE is the domain's active_dkim_id.
 */
#ifndef PH_CONTROL_DKIM_H
#define PH_CONTROL_DKIM_H

#include <stddef.h>
#include "control.h"

struct control_batch;

#define DKIM_STATE_CREATING "CREATING"
#define DKIM_STATE_NEEDS_ATTENTION "NEEDS_ATTENTION"
#define DKIM_STATE_ACTIVE "ACTIVE"
#define DKIM_KEYS_PER_DOMAIN 2		/* as the service */
#define DKIM_DEFAULT_ZONE "dkim.posthaste.localdomain"

/* control_dkim_set_zone - the publish zone of new keys' CNAME values */
void control_dkim_set_zone(const char *zone);

/* control_dkim_check_domain / control_dkim_check_key - normalize and validate
 * a put (control_check_put's per-kind checks). A new key gets its key pair
 * (generated RSA-2048 unless a PEM was given) and its DNS records; a
 * replaced key keeps every server-owned field. 0 or -1 with E. */
int control_dkim_check_domain(struct control_store *s, Ph__EmailDomain *d,
    struct control_err *e);
int control_dkim_check_key(struct control_store *s, Ph__DkimKey *k,
    struct control_err *e);

/* control_dkim_on_delete - queue in B what goes with deleting KIND/ID: a
 * domain's keys; a key that was its domain's active one clears (or passes
 * on) the domain's active_dkim_id. 0 or -1 (out of memory). */
int control_dkim_on_delete(struct control_store *s, struct control_batch *b,
    Ph__PolicyObject__ObjCase kind, const char *id);

/* control_dkim_shell - a shallow copy of a DKIM key object without its
 * private key (for replies to phctl); free() it. NULL on failure. */
Ph__PolicyObject *control_dkim_shell(const Ph__PolicyObject *o);

/* ---- key material (control_dkim_key.c) ---- */

/* dkim_key_material - from PEM (NULL or "": generate RSA-2048): the private
 * key as PKCS#8 PEM (*PEM_OUT), the p= value (*PUB_B64) and the k= value
 * ("rsa" or "ed25519"). Strings malloc'd. 0 or -1 with ERR filled. */
int dkim_key_material(const char *pem, char **pem_out, char **pub_b64,
    const char **ktype, char *err, size_t errlen);

/* ---- the DNS diagnosis (control_dkim_diag.c) ---- */

enum dkim_rr_type { DKIM_RR_CNAME, DKIM_RR_TXT };

/* dkim_rr - one answer: NAME has a CNAME to VALUE, or the TXT text VALUE
 * (TXT answers are the ones returned for a TXT query of NAME, after any
 * CNAME was followed) */
struct dkim_rr {
	const char *name;
	enum dkim_rr_type type;
	const char *value;
};

enum dkim_verdict {
	DKIM_OK,			/* CNAME right, key published behind it */
	DKIM_MISSING,			/* nothing found anywhere */
	DKIM_WRONG_ZONE,		/* the name was pasted with the zone appended */
	DKIM_WRONG_TARGET,		/* CNAME points elsewhere */
	DKIM_TARGET_ZONE_APPENDED,	/* CNAME value got the zone appended */
	DKIM_TXT_DIRECT,		/* a TXT at the name instead of the CNAME */
	DKIM_NO_UNDERSCORE_NAME,	/* "<sel>.domainkey" or "<sel>.<domain>" */
	DKIM_TARGET_NO_KEY,		/* CNAME right, no/other key behind it */
};

/* dkim_diag_in - what a check compares the answers with */
struct dkim_diag_in {
	const char *domain, *selector;
	const char *cname_name, *cname_value, *public_key_b64;
};

#define DKIM_DIAG_NAMES_MAX 12

/* dkim_diag_names - the names a check must query (CNAME and TXT each) into
 * OUT (malloc'd strings, the caller frees them); returns the count */
size_t dkim_diag_names(const struct dkim_diag_in *in, char **out, size_t max);
/* dkim_diagnose - the verdict on RRS and a sentence with the fix in DETAIL */
enum dkim_verdict dkim_diagnose(const struct dkim_diag_in *in,
    const struct dkim_rr *rrs, size_t nrr, char *detail, size_t len);
const char *dkim_verdict_name(enum dkim_verdict v);

/* ---- the checker (control_dkim_check.c) ---- */

/* control_dkim_start - read [dkim] (publish_zone, check_interval,
 * dns_servers, dns_timeout), start the resolver and the periodic check.
 * Fatal on a bad config. */
void control_dkim_start(struct control *c);
void control_dkim_stop(struct control *c);
/* control_dkim_check_soon - check key ID (NULL: every key not ACTIVE) now */
void control_dkim_check_soon(const char *id);
/* control_dkim_on_check - DkimCheck: check now, reply when done */
void control_dkim_on_check(struct control *c, const struct zpeer *peer,
    uint64_t rid, const Ph__DkimCheck *req);

#endif
