/*
 * fsdir - directories made like "mkdir -p": the data dir, database dirs,
 * key and certificate dirs, ipc:// socket dirs.
 */
#ifndef FSDIR_H
#define FSDIR_H

#include <sys/types.h>

/* fsdir_make - DIR and every missing parent with MODE (existing ones are
 * left as they are); 0, or -1 with errno */
int fsdir_make(const char *dir, mode_t mode);
/* fsdir_make_for - the directory that holds file PATH, as fsdir_make */
int fsdir_make_for(const char *path, mode_t mode);

#endif
