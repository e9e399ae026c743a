/*
 * main - ph-control: the policy store (see control.c).
 */
#include "control.h"
#include "proc.h"

/* main - hand over to control_run */
int main(int argc, char **argv)
{
	struct proc p;

	proc_init(&p, "ph-control", argc, argv);
	proc_health(&p);	/* [health] listen: /health/ready once READY */
	return control_run(&p);
}
