/*
 * ph-relay - outbound delivery worker: takes DeliveryTasks from every queue
 * shard and delivers them over SMTP. Usage: ph-relay --config F --instance N
 */
#include "proc.h"
#include "relay.h"

int main(int argc, char **argv)
{
	struct proc p;

	proc_init(&p, "ph-relay", argc, argv);
	proc_health(&p);	/* [health] listen: /health/ready once READY */
	return relay_run(&p);
}
