/*
 * main - ph-httpd: ph-httpd --config FILE --instance N
 */
#include "httpd.h"
#include "proc.h"

int
main(int argc, char **argv)
{
	struct proc p;

	proc_init(&p, "ph-httpd", argc, argv);
	return httpd_run(&p);
}
