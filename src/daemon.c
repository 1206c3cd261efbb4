/*
 * daemon.c: the process-level chores of a system daemon (see daemon.h).
 *
 * The order matters and is main()'s: bind the port (may need root), detach
 * from the terminal, write the pidfile (in a root-owned directory, so it is
 * written while still root), then drop to the configured user.
 * setgroups/setgid come before setuid because afterwards we would no
 * longer have the right to change them.
 *
 * Detaching forks twice; the process the admin started waits on a pipe
 * until the daemon says it is serving, or why it is not, so that its exit
 * status tells the init script the truth.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "num.h"

/* What the daemon writes on the start-up pipe when it is serving. */
#define DAEMON_READY "ready\n"

/* The gid to run as: group's if given, else user's primary group. */
static int
daemon_target_gid(const struct passwd *pw, const char *group, gid_t *gid,
    char *err, size_t errlen)
{
	struct group *gr;

	*gid = pw->pw_gid;
	if (group[0] == '\0')
		return 0;
	gr = getgrnam(group);
	if (gr == NULL) {
		snprintf(err, errlen, "no such group: %s", group);
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

unsigned long
daemon_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? ULONG_MAX :
	    (unsigned long)rl.rlim_cur;
}

int
daemon_drop_privileges(const char *user, const char *group, char *err,
    size_t errlen)
{
	struct passwd *pw;
	gid_t gid;

	if (user[0] == '\0' && group[0] != '\0') {
		snprintf(err, errlen, "[server] group = %s needs a [server] "
		    "user", group);
		return -1;
	}
	if (user[0] == '\0' || geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errlen, "no such user: %s", user);
		return -1;
	}
	if (daemon_target_gid(pw, group, &gid, err, errlen) == -1)
		return -1;
	if (initgroups(pw->pw_name, gid) == -1 || setgid(gid) == -1 ||
	    setuid(pw->pw_uid) == -1) {
		snprintf(err, errlen, "cannot become user %s: %s", user,
		    strerror(errno));
		return -1;
	}
	/* Paranoia: a partial drop must never look like success. */
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "could regain root after dropping to %s",
		    user);
		return -1;
	}
	return 0;
}

/*
 * The pid in the pidfile at path: > 0; 0 if there is no file or it holds
 * no pid (empty or garbage: a crash mid-write, so stale); -1 if it cannot
 * be read (err says why).
 */
static long
daemon_pidfile_read(const char *path, char *err, size_t errlen)
{
	char buf[32];
	uint64_t pid;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT)
		return 0;
	if (fd == -1) {
		snprintf(err, errlen, "cannot read pidfile %s: %s", path,
		    strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	if (n <= 0 || num_parse_dec(buf, (size_t)n, 4194304, &pid) == -1)
		return 0;
	return (long)pid;
}

/*
 * True if pid is a running ferry. A pid reused by another program after a
 * crash (its /proc/PID/comm is not "ferry") does not count.
 */
static bool
daemon_is_ferry(long pid)
{
	char path[64], comm[32];
	ssize_t n;
	int fd;

	if (pid <= 0 || pid == (long)getpid())
		return false;
	if (kill((pid_t)pid, 0) == -1 && errno != EPERM)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return true;	/* alive; no /proc to say more */
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return true;
	comm[n] = '\0';
	return strcmp(comm, "ferry\n") == 0;
}

int
daemon_pidfile_check(const char *path, char *err, size_t errlen)
{
	long pid;

	if (path[0] == '\0')
		return 0;
	pid = daemon_pidfile_read(path, err, errlen);
	if (pid == -1)
		return -1;
	if (daemon_is_ferry(pid)) {
		snprintf(err, errlen, "ferry is already running (pid %ld, "
		    "pidfile %s)", pid, path);
		return -1;
	}
	return 0;
}

/*
 * Write our pid into a new temporary file beside path. Returns its fd
 * with the name in tmp, or -1 with a message in err.
 */
static int
daemon_pidfile_temp(const char *path, char *tmp, size_t tmplen, char *err,
    size_t errlen)
{
	char line[32];
	int fd, n;

	n = snprintf(tmp, tmplen, "%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= tmplen) {
		snprintf(err, errlen, "pidfile path too long: %s", path);
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "cannot write pidfile %s: %s", path,
		    strerror(errno));
		return -1;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (fchmod(fd, 0644) == -1 || write(fd, line, (size_t)n) != n) {
		snprintf(err, errlen, "cannot write pidfile %s", path);
		close(fd);
		(void)unlink(tmp);
		return -1;
	}
	return fd;
}

/*
 * The pidfile appears whole or not at all: the pid is written to a
 * temporary file first, then link()ed to path, which fails if path exists.
 * A second ferry started at the same moment therefore never reads an empty
 * file, takes it for a leftover and replaces it: it finds the first one's
 * pid and stops.
 */
int
daemon_write_pidfile(const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	int fd, rc = -1, tries;

	if (path[0] == '\0')
		return 0;
	if ((fd = daemon_pidfile_temp(path, tmp, sizeof(tmp), err,
	    errlen)) == -1)
		return -1;
	for (tries = 0; tries < 2 && rc == -1; tries++) {
		if (link(tmp, path) == 0) {
			rc = 0;
			break;
		}
		if (errno != EEXIST) {
			snprintf(err, errlen, "cannot write pidfile %s: %s",
			    path, strerror(errno));
			break;
		}
		/* A leftover from a crash is removed; a live ferry wins. */
		if (daemon_pidfile_check(path, err, errlen) == -1)
			break;
		(void)unlink(path);
	}
	if (rc == -1 && tries == 2)
		snprintf(err, errlen, "cannot write pidfile %s: it keeps "
		    "coming back", path);
	close(fd);
	(void)unlink(tmp);
	return rc;
}

void
daemon_remove_pidfile(const char *path)
{
	/*
	 * After the privilege drop this fails in a root-owned directory; the
	 * init script removes the file then, and a leftover is detected as
	 * stale at the next start.
	 */
	if (path[0] != '\0')
		(void)unlink(path);
}

/*
 * The process the admin started: wait for the daemon's word on the pipe,
 * print it if it is an error, and exit with the matching status.
 */
static void
daemon_wait_ready(int fd, pid_t child)
{
	char msg[600];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(msg) - 1 &&
	    (n = read(fd, msg + len, sizeof(msg) - 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		len += (size_t)n;
	}
	msg[len] = '\0';
	(void)waitpid(child, NULL, 0);
	if (strcmp(msg, DAEMON_READY) == 0)
		_exit(0);
	fprintf(stderr, "ferry: %s\n", len > 0 ? msg :
	    "the daemon ended during start-up (see the log)");
	_exit(1);
}

/* Point stdin, stdout and stderr at /dev/null. */
static int
daemon_null_stdio(char *err, size_t errlen)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd == -1) {
		snprintf(err, errlen, "cannot open /dev/null: %s",
		    strerror(errno));
		return -1;
	}
	(void)dup2(fd, STDIN_FILENO);
	(void)dup2(fd, STDOUT_FILENO);
	(void)dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

int
daemon_detach(char *err, size_t errlen)
{
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(pfd[1]);
		daemon_wait_ready(pfd[0], pid);
	}
	close(pfd[0]);
	/* A new session without a controlling terminal... */
	(void)setsid();
	pid = fork();
	if (pid == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		daemon_ready(pfd[1], err);
		_exit(1);
	}
	if (pid > 0)
		_exit(0);
	/* ...and, not being its leader, we can never acquire one again. */
	if (chdir("/") == -1)
		snprintf(err, errlen, "cannot chdir to /: %s", strerror(errno));
	else if (daemon_null_stdio(err, errlen) == 0)
		return pfd[1];
	daemon_ready(pfd[1], err);
	return -1;
}

void
daemon_ready(int fd, const char *err)
{
	const char *msg = err == NULL ? DAEMON_READY : err;

	if (fd < 0)
		return;
	/* If the waiting parent is gone there is no one left to tell. */
	if (write(fd, msg, strlen(msg)) < 0)
		errno = 0;
	close(fd);
}
