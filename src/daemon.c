/*
 * daemon.c: pidfile and privilege drop (see daemon.h).
 *
 * The order matters and is main()'s: bind the port (may need root), write
 * the pidfile (in a root-owned directory), then drop to the configured
 * user. setgroups/setgid come before setuid because afterwards we would
 * no longer have the right to change them.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

int
daemon_drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	if (user[0] == '\0' || geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errlen, "no such user: %s", user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		snprintf(err, errlen, "cannot become user %s: %s", user,
		    strerror(errno));
		return -1;
	}
	/* Paranoia: a partial drop must never look like success. */
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		snprintf(err, errlen, "could regain root after dropping to %s",
		    user);
		return -1;
	}
	return 0;
}

int
daemon_write_pidfile(const char *path, char *err, size_t errlen)
{
	char line[32];
	int fd, n;

	if (path[0] == '\0')
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		snprintf(err, errlen, "cannot write pidfile %s: %s", path,
		    strerror(errno));
		return -1;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (write(fd, line, (size_t)n) != n) {
		snprintf(err, errlen, "cannot write pidfile %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

void
daemon_remove_pidfile(const char *path)
{
	if (path[0] != '\0')
		(void)unlink(path);
}
