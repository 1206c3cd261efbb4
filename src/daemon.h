/*
 * daemon.h: the process-level chores of a system daemon: the pidfile and
 * dropping root privileges after the listening socket is bound.
 */
#ifndef FERRY_DAEMON_H
#define FERRY_DAEMON_H

#include <stddef.h>

/*
 * If running as root and user is not empty, become that user (its groups
 * too). A no-op otherwise. Returns 0, or -1 with a message in err.
 */
int daemon_drop_privileges(const char *user, char *err, size_t errlen);

/* Write our pid to path (no-op for ""). Returns 0 or -1 with err. */
int daemon_write_pidfile(const char *path, char *err, size_t errlen);

/* Remove the pidfile written by daemon_write_pidfile(). */
void daemon_remove_pidfile(const char *path);

#endif
