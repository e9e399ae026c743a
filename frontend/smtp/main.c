/*
 * main - ph-smtpd: ph-smtpd --config FILE --instance N
 */
#include "proc.h"
#include "smtpd.h"

int
main(int argc, char **argv)
{
	struct proc p;

	proc_init(&p, "ph-smtpd", argc, argv);
	return smtpd_run(&p);
}
