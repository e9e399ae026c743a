/*
 * fsdir - directories made like "mkdir -p" (see fsdir.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fsdir.h"

/* fsdir_make - each prefix of DIR ending at a '/', then DIR itself */
int
fsdir_make(const char *dir, mode_t mode)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s", dir);

	if (n <= 0 || (size_t)n >= sizeof(path)) {
		errno = n <= 0 ? EINVAL : ENAMETOOLONG;
		return -1;
	}
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* fsdir_make_for - fsdir_make of everything before PATH's last '/' */
int
fsdir_make_for(const char *path, mode_t mode)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL || slash == path)
		return 0;	/* the current or the root directory */
	n = (size_t)(slash - path);
	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	return fsdir_make(dir, mode);
}
