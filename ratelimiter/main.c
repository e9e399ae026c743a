/*
 * main - ph-ratelimiter: ph-ratelimiter --config FILE --instance N
 */
#include "proc.h"
#include "ratelimiter.h"

int main(int argc, char **argv)
{
	struct proc p;

	proc_init(&p, "ph-ratelimiter", argc, argv);
	proc_health(&p);	/* [health] listen: /health/ready once READY */
	return ratelimiter_run(&p);
}
