/*
 * smtp_listener - the listening sockets of ph-smtpd ([smtpd] listen) and the
 * admission of new connections (connection limits, trusted networks).
 */
#ifndef SMTP_LISTENER_H
#define SMTP_LISTENER_H

struct smtpd;

/* smtp_listener_open - listen on every [smtpd] listen address; 0 or -1 (logged) */
int smtp_listener_open(struct smtpd *sd);
/* smtp_listener_close - stop accepting (SIGTERM) */
void smtp_listener_close(struct smtpd *sd);

#endif
