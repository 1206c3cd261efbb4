/*
 * log.c: the logger (see log.h).
 *
 * Two sinks: the error log (stderr, syslog or a file) and the optional
 * access log (a file). Workers write to them while the signal loop may
 * reopen them (SIGUSR1, SIGHUP), so the sinks sit behind a read-write lock:
 * every write holds it for reading, a reopen swaps the descriptors under it
 * for writing and closes the old ones only then, so that no worker ever
 * writes to a closed or reused descriptor. A line is formatted into a stack
 * buffer and handed to the kernel in one write(), which appends atomically
 * to files opened with O_APPEND: lines from different workers never mix.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "num.h"

#define LOG_LINE_MAX 2048
#define LOG_PATH_MAX 256

/*
 * Writer-preferring: with dozens of workers logging, glibc's default
 * (readers first) could keep a reopen waiting for as long as lines keep
 * coming. No thread takes the read lock twice, as this kind requires.
 */
static pthread_rwlock_t log_lock =
    PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static _Atomic int log_threshold = LOGL_INFO;
static int log_floor = LOGL_ERROR;	/* from -v on the command line */
static int log_fd = STDERR_FILENO;	/* error log, if not syslog */
static bool log_to_syslog;
static int log_access_fd = -1;		/* -1: no access log */
static char log_target[LOG_PATH_MAX] = "stderr";
static char log_access_path[LOG_PATH_MAX];
/*
 * The pid in every line, read once per log_open(): glibc makes getpid() a
 * system call, one more per request with the access lines at info. main
 * calls log_open() again after daemon_detach() forks, before any line can
 * reach a file; 0 (no log_open() yet) asks the kernel.
 */
static long log_pid;

static const char *const log_names[] = {
	"error", "warn", "info", "debug", "trace"
};

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i < nitems(log_names); i++) {
		if (strcmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_set_floor(enum log_level level)
{
	log_floor = (int)level;
	if (log_threshold < log_floor)
		log_threshold = log_floor;
}

/* Open path for appending; -1 with a message in err. */
static int
log_open_file(const char *path, const char *what, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd == -1)
		snprintf(err, errlen, "cannot open %s %s: %s", what, path,
		    strerror(errno));
	return fd;
}

int
log_open(enum log_level level, const char *target, const char *access,
    char *err, size_t errlen)
{
	int fd = STDERR_FILENO, afd = -1, old_fd, old_afd;
	bool to_syslog = strcmp(target, "syslog") == 0;

	if (strlen(target) >= LOG_PATH_MAX || strlen(access) >= LOG_PATH_MAX) {
		snprintf(err, errlen, "log path too long");
		return -1;
	}
	/* Open everything new first: on failure the old sinks stay. */
	if (!to_syslog && strcmp(target, "stderr") != 0 &&
	    (fd = log_open_file(target, "log file", err, errlen)) == -1)
		return -1;
	if (access[0] != '\0' &&
	    (afd = log_open_file(access, "access log", err, errlen)) == -1) {
		if (fd != STDERR_FILENO)
			close(fd);
		return -1;
	}
	pthread_rwlock_wrlock(&log_lock);
	old_fd = log_fd;
	old_afd = log_access_fd;
	if (log_to_syslog)
		closelog();
	log_to_syslog = to_syslog;
	if (to_syslog)
		openlog("ferry", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_fd = fd;
	log_access_fd = afd;
	strcpy(log_target, target);
	strcpy(log_access_path, access);
	log_threshold = (int)level > log_floor ? (int)level : log_floor;
	log_pid = (long)getpid();
	pthread_rwlock_unlock(&log_lock);
	if (old_fd != STDERR_FILENO)
		close(old_fd);
	if (old_afd != -1)
		close(old_afd);
	return 0;
}

int
log_reopen(char *err, size_t errlen)
{
	char target[LOG_PATH_MAX], access[LOG_PATH_MAX];

	pthread_rwlock_rdlock(&log_lock);
	strcpy(target, log_target);
	strcpy(access, log_access_path);
	pthread_rwlock_unlock(&log_lock);
	return log_open((enum log_level)log_threshold, target, access, err,
	    errlen);
}

void
log_close(void)
{
	char err[64];

	(void)log_open((enum log_level)log_threshold, "stderr", "", err,
	    sizeof(err));
}

bool
log_enabled(enum log_level level)
{
	return (int)level <= log_threshold;
}

bool
log_on_stderr(void)
{
	bool on;

	pthread_rwlock_rdlock(&log_lock);
	on = !log_to_syslog && log_fd == STDERR_FILENO;
	pthread_rwlock_unlock(&log_lock);
	return on;
}

bool
log_access_enabled(void)
{
	bool on;

	pthread_rwlock_rdlock(&log_lock);
	on = log_access_fd != -1;
	pthread_rwlock_unlock(&log_lock);
	return on;
}

void
log_access(const char *line, size_t len)
{
	pthread_rwlock_rdlock(&log_lock);
	/* Nothing useful can be done if the log itself cannot be written. */
	if (log_access_fd != -1 && write(log_access_fd, line, len) < 0)
		errno = 0;
	pthread_rwlock_unlock(&log_lock);
}

/*
 * Write "2026-01-02T03:04:05Z ferry[pid] level: " into buf. Called with
 * log_lock held.
 */
static size_t
log_prefix(char *buf, size_t cap, enum log_level level)
{
	struct tm tm;
	time_t now = time(NULL);
	size_t n;
	int r;

	gmtime_r(&now, &tm);
	n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
	r = snprintf(buf + n, cap - n, " ferry[%ld] %s: ",
	    log_pid != 0 ? log_pid : (long)getpid(), log_names[level]);
	if (r < 0 || (size_t)r >= cap - n)
		return n;
	return n + (size_t)r;
}

/* Hand line[0..n) to the error log. Called with log_lock held. */
static void
log_write_locked(char *line, size_t n, enum log_level level)
{
	static const int prio[] = {
		LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG
	};

	if (log_to_syslog) {
		line[n] = '\0';
		syslog(prio[level], "%s", line);
		return;
	}
	line[n++] = '\n';
	/* Nothing useful can be done if the log itself cannot be written. */
	if (write(log_fd, line, n) < 0)
		errno = 0;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	size_t n = 0;
	va_list ap;
	int r;

	if (!log_enabled(level))
		return;
	pthread_rwlock_rdlock(&log_lock);
	if (!log_to_syslog)
		n = log_prefix(line, sizeof(line), level);
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (r >= 0) {
		/* A truncated message is still logged: cut at the end. */
		n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r :
		    sizeof(line) - n - 2;
		log_write_locked(line, n, level);
	}
	pthread_rwlock_unlock(&log_lock);
}
