/*
 * fault - test-only fault injection. fault_hit(NAME) is true when NAME is
 * listed in the environment variable PH_FAULTS (names separated by commas
 * or spaces, e.g. PH_FAULTS=dkim_sign), read once on the first call. It lets
 * an integration test reach a reply that has no honest trigger from outside
 * the process (e.g. "451 Error in Processing" when signing fails). Never set
 * PH_FAULTS in production: every listed fault fires on every check.
 *
 * Names: dkim_sign (ph-smtpd, ph-httpd: DKIM signing of a message fails);
 * policy_slow (every process with a policy replica: no snapshot is taken
 * for the replica's first 4 s, as behind a slow ph-control).
 */
#ifndef PH_FAULT_H
#define PH_FAULT_H

#include <stdbool.h>

/* fault_hit - NAME is listed in PH_FAULTS; thread-safe */
bool fault_hit(const char *name);

#endif
