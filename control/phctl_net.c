/*
 * phctl_net - the CLI's requests: one blocking call each (rpc_sync), errors
 * printed for the user.
 *
 * DIAGNOSTICS: an unreachable peer, a timeout or a refusal is printed on
 * stderr and returned as -1.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "phctl.h"
#include "rpc_sync.h"

/* phctl_err - a message on stderr */
int phctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("phctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return PHCTL_EXIT_ERR;
}

/* phctl_call - one request and its reply, blocking up to the timeout */
int phctl_call(struct phctl *ph, const char *endpoint, Ph__Envelope *req,
    Ph__Envelope **rep)
{
	if (rpc_sync_call(endpoint, req, ph->timeout_ms, rep) == 0)
		return 0;
	return phctl_err("no answer from %s within %u ms", endpoint, ph->timeout_ms), -1;
}

/* status_err - print a refusal carried by ST */
static int status_err(const Ph__Status *st)
{
	return phctl_err("%s", st != NULL && st->message[0] ? st->message : "request failed");
}

/* phctl_policy - a control request whose reply must be ok */
int phctl_policy(struct phctl *ph, Ph__Envelope *req, Ph__Envelope **rep)
{
	const Ph__Status *st = NULL;

	if (phctl_call(ph, ph->ep.control, req, rep) == -1)
		return -1;
	if ((*rep)->body_case == PH__ENVELOPE__BODY_POLICY_REPLY) {
		st = (*rep)->policy_reply->status;
		if (st != NULL && st->ok)
			return 0;
	} else if ((*rep)->body_case == PH__ENVELOPE__BODY_STATUS) {
		st = (*rep)->status;
	}
	status_err(st);
	msg_free(*rep);
	*rep = NULL;
	return -1;
}
