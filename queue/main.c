/*
 * main - ph-queue: one shard of the durable queue (see queue_server.c).
 * Usage: ph-queue [--config FILE] [--instance N]
 */
#include "proc.h"
#include "queue.h"

int
main(int argc, char **argv)
{
	struct proc p;

	proc_init(&p, "ph-queue", argc, argv);
	proc_health(&p);	/* [health] listen: /health/ready once READY */
	return queue_run(&p);
}
