/*
 * fault - PH_FAULTS, the test-only fault list (see fault.h).
 *
 * DIAGNOSTICS: none; an unknown name never fires, and a PH_FAULTS longer
 * than 250 characters is ignored.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

#define FAULT_LIST_MAX 256

static char faults[FAULT_LIST_MAX];	/* ",name,name," or "" */
static pthread_once_t faults_once = PTHREAD_ONCE_INIT;

/* faults_load - PH_FAULTS as ",a,b," (separators normalized to commas) */
static void
faults_load(void)
{
	const char *env = getenv("PH_FAULTS");
	size_t n;

	if (env == NULL || *env == '\0' || strlen(env) + 3 > sizeof(faults))
		return;
	n = (size_t)snprintf(faults, sizeof(faults), ",%s,", env);
	for (size_t i = 0; i < n; i++)
		if (faults[i] == ' ' || faults[i] == '\t')
			faults[i] = ',';
}

/* fault_hit - ",NAME," occurs in the list */
bool
fault_hit(const char *name)
{
	char key[FAULT_LIST_MAX];

	pthread_once(&faults_once, faults_load);
	if (faults[0] == '\0' || strlen(name) + 3 > sizeof(key))
		return false;
	snprintf(key, sizeof(key), ",%s,", name);
	return strstr(faults, key) != NULL;
}
