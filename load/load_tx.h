/*
 * load_tx - one message's SMTP transaction on an established ph-load
 * session, with no socket: it writes commands into an evbuffer and is told
 * each reply code, so it is unit-tested with plain buffers.
 *
 *   MAIL FROM -> RCPT TO (K times) -> DATA -> payload and dot -> final reply
 *
 * With PIPELINING (--pipelining and offered by the server) MAIL, every RCPT
 * and DATA go out in one write and the replies are read in order.
 * The message's class is decided by the final reply after the dot; when it
 * never gets there, by the first refusal (MAIL, every RCPT refused, DATA).
 * A transaction that the server opened (MAIL accepted) but that ended
 * before the dot needs an RSET before the next MAIL; after the dot's reply,
 * or a refused MAIL, the next MAIL follows at once (RFC 5321 4.1.4).
 * A 354 after every RCPT was refused (possible with PIPELINING) is
 * answered with the dot alone.
 */
#ifndef PH_LOAD_TX_H
#define PH_LOAD_TX_H

#include <stdbool.h>
#include <stdint.h>
#include "load_msg.h"

struct evbuffer;

enum load_tx_phase {
	LOAD_TX_MAIL, LOAD_TX_RCPT, LOAD_TX_DATA, LOAD_TX_DOT, LOAD_TX_OVER
};

struct load_tx {
	enum load_tx_phase phase;
	uint64_t n;			/* message number */
	unsigned nrcpt;			/* recipients of the message */
	unsigned rcpt_replies;		/* RCPT replies seen */
	unsigned accepted;		/* recipients accepted */
	unsigned refused;		/* RCPT replies that were not 2xx */
	bool pipelined;
	bool mail_accepted;
	bool empty_dot;			/* only "." was sent after 354 */
	int code;			/* the reply that decided the message */
	uint64_t dot_us;		/* when the payload and dot were queued (the
					 * session moves it to when they were written) */
	uint64_t reply_us;		/* when the dot's reply arrived (0: none) */
};

enum load_tx_result {
	LOAD_TX_MORE,		/* wait for the next reply */
	LOAD_TX_DONE,		/* over: tx->code is the verdict */
	LOAD_TX_DONE_RSET,	/* over, and RSET must come before the next MAIL */
	LOAD_TX_BROKEN,		/* a reply no server may give here, or out of
				 * memory: drop the connection */
};

/* load_tx_phase_name - for diagnostics */
const char *load_tx_phase_name(enum load_tx_phase p);
/* load_tx_start - begin message N of M into OUT; -1 when out of memory */
int load_tx_start(struct load_tx *tx, const struct load_msg *m, uint64_t n,
    bool pipelined, struct evbuffer *out);
/* load_tx_on_reply - the reply CODE to the oldest command in flight,
 * received at NOW_US (microseconds, any epoch) */
enum load_tx_result load_tx_on_reply(struct load_tx *tx, const struct load_msg *m,
    int code, uint64_t now_us, struct evbuffer *out);

#endif
