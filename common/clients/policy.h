/*
 * policy - the local, read-only replica of the policy store (ph-control).
 *
 * A replica fetches a PolicySnapshot from ph-control at start, subscribes to
 * PolicyChanged notices and re-fetches when the version moves (and every
 * refresh interval, in case a notice was missed). Lookups are in-memory hash
 * lookups: they never block and never wait for the network. Until the first
 * snapshot arrives policy_ready() is false and callers answer as the seed says
 * for an unavailable policy store (421 4.4.0 ... over SMTP).
 *
 * Addresses are compared case-insensitively (stored lowercased).
 */
#ifndef PH_POLICY_H
#define PH_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include "control.pb-c.h"

struct event_base;
struct policy;

struct policy *policy_new(struct event_base *base, const char *endpoint,
    const char *pub_endpoint);
void policy_free(struct policy *p);
bool policy_ready(const struct policy *p);
uint64_t policy_version(const struct policy *p);
/* policy_on_change - CB runs after every snapshot that was applied */
void policy_on_change(struct policy *p, void (*cb)(void *arg), void *arg);

/* lookups: NULL when absent. Returned objects live until the next snapshot is
 * applied (copy what must outlive the current callback). */
const Ph__Tenant *policy_tenant(const struct policy *p, const char *id_or_name);
const Ph__User *policy_user(const struct policy *p, const char *id);
const Ph__Credential *policy_credential(const struct policy *p, const char *username);
/* policy_user_may_use - USER (non-NULL) may use compartment CID: the
 * compartment is listed on the user (no inheritance); false for NULL */
bool policy_user_may_use(const Ph__User *user, const char *cid);
/* policy_sender - the approved-sender entry covering ADDRESS (exact address
 * first, then "@domain") in TENANT_ID, restricted to the compartments of USER
 * when USER is not NULL. */
const Ph__Sender *policy_sender(const struct policy *p, const char *tenant_id,
    const Ph__User *user, const char *address);
const Ph__Suppression *policy_suppression(const struct policy *p,
    const char *tenant_id, const char *address);
/* policy_api_key - the API signing key named by an OCI keyId
 * "<tenant ocid>/<user ocid>/<fingerprint>" */
const Ph__ApiKey *policy_api_key(const struct policy *p, const char *key_id);
/* policy_dkim_for_domain - the ACTIVE DKIM key that signs for DOMAIN (the
 * domain's active_dkim_id) in TENANT_ID; NULL when there is none */
const Ph__DkimKey *policy_dkim_for_domain(const struct policy *p,
    const char *tenant_id, const char *domain);
/* policy_route - the route for DOMAIN: exact domain, then "*.parent" wildcards
 * from the nearest parent up */
const Ph__Route *policy_route(const struct policy *p, const char *domain);

/* policy_index - build lookups from a snapshot without any network (tests) */
struct policy *policy_new_static(const Ph__PolicySnapshot *snap);

#endif
