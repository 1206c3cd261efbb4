/*
 * daemon.h: the process-level chores of a system daemon: detaching from
 * the terminal, the pidfile, and dropping root privileges after the
 * listening socket is bound.
 *
 * Path: start-up, before the first request (and the pidfile's removal at
 * exit). Only the main thread calls these; they use process-wide state
 * (getpwnam(), fork(), the uid), so never from two threads at once.
 */
#ifndef FERRY_DAEMON_H
#define FERRY_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Raise the soft limit on open files to the hard limit. Every client,
 * parked or served, and every origin connection is a descriptor; the usual
 * soft limit of 1024 would stop ferry near a thousand idle keep-alive
 * clients. Returns the soft limit now in force (ULONG_MAX for no limit,
 * 0 if it cannot be read).
 */
unsigned long daemon_raise_fd_limit(void);

/*
 * If running as root and user is not empty, become that user, with group
 * (or, if empty, the user's primary group) and the user's supplementary
 * groups. A no-op when not root. Returns 0, or -1 with a message in err
 * (a group without a user, even when not root; a missing user or group;
 * a drop that could be undone).
 */
int daemon_drop_privileges(const char *user, const char *group, char *err,
    size_t errlen);

/*
 * Before binding: -1 with a message in err if the pidfile at path names a
 * running ferry, else 0 (no file, or a stale one). No-op for "".
 */
int daemon_pidfile_check(const char *path, char *err, size_t errlen);

/*
 * Create path exclusively with our pid (no-op for ""). The file appears
 * whole or not at all (a temporary file, then link()). A stale file is
 * replaced; a live ferry's is not. Returns 0, or -1 with err.
 */
int daemon_write_pidfile(const char *path, char *err, size_t errlen);

/*
 * Remove the pidfile ("" is a no-op), if we still may: after the
 * privilege drop this fails quietly in a root-owned directory.
 */
void daemon_remove_pidfile(const char *path);

/*
 * Become a daemon: fork, setsid, fork, chdir /, stdio to /dev/null. Must
 * run before any thread starts. The process that called it does not
 * return: it waits until the daemon calls daemon_ready(), then exits 0, or
 * prints the daemon's error and exits 1. In the daemon, returns the fd to
 * pass to daemon_ready(), or -1 with err (already reported).
 */
int daemon_detach(char *err, size_t errlen);

/*
 * Tell the waiting parent that start-up is over: err NULL for serving,
 * else the message it prints. Closes fd; a no-op for fd < 0 (foreground).
 */
void daemon_ready(int fd, const char *err);

#endif
