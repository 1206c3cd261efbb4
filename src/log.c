/*
 * log.c: the logger (see log.h).
 *
 * State here is written only by log_open()/log_close() while ferry is single
 * threaded; workers only read it. A line is formatted into a stack buffer and
 * handed to the kernel in one write(), which appends atomically for regular
 * files opened with O_APPEND and for pipes up to PIPE_BUF.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 2048

static enum log_level log_threshold = LOGL_INFO;
static int log_fd = STDERR_FILENO;
static bool log_to_syslog;

static const char *const log_names[] = { "error", "warn", "info", "debug" };

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (strcmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int
log_open(enum log_level level, const char *target, char *err, size_t errlen)
{
	log_close();
	log_threshold = level;
	if (strcmp(target, "stderr") == 0)
		return 0;
	if (strcmp(target, "syslog") == 0) {
		openlog("ferry", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_to_syslog = true;
		return 0;
	}
	log_fd = open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (log_fd < 0) {
		snprintf(err, errlen, "cannot open log file %s: %s", target,
		    strerror(errno));
		log_fd = STDERR_FILENO;
		return -1;
	}
	return 0;
}

void
log_close(void)
{
	if (log_to_syslog)
		closelog();
	log_to_syslog = false;
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
}

bool
log_enabled(enum log_level level)
{
	return level <= log_threshold;
}

/* Write "2026-01-02T03:04:05Z ferry[pid] level: " into buf. */
static size_t
log_prefix(char *buf, size_t cap, enum log_level level)
{
	struct tm tm;
	time_t now = time(NULL);
	size_t n;
	int r;

	gmtime_r(&now, &tm);
	n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
	r = snprintf(buf + n, cap - n, " ferry[%ld] %s: ", (long)getpid(),
	    log_names[level]);
	if (r < 0 || (size_t)r >= cap - n)
		return n;
	return n + (size_t)r;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[LOG_LINE_MAX];
	size_t n = 0;
	va_list ap;
	int r;

	if (!log_enabled(level))
		return;
	if (!log_to_syslog)
		n = log_prefix(line, sizeof(line), level);
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	/* A truncated message is still logged: cut it at the buffer's end. */
	n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r : sizeof(line) - n - 2;
	if (log_to_syslog) {
		line[n] = '\0';
		syslog(prio[level], "%s", line);
		return;
	}
	line[n++] = '\n';
	/* Nothing useful can be done if the log itself cannot be written. */
	if (write(log_fd, line, n) < 0)
		return;
}
