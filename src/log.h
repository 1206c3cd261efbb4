/*
 * log.h: leveled logging to stderr, syslog or a file.
 *
 * Set up once by main() before any thread starts; afterwards any thread may
 * log. Each line is written with a single write() so lines from different
 * workers never interleave.
 */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* Named LOGL_* because <syslog.h> already owns LOG_INFO and LOG_DEBUG. */
enum log_level {
	LOGL_ERROR,
	LOGL_WARN,
	LOGL_INFO,
	LOGL_DEBUG
};

/* Map "error", "warn", "info" or "debug" to a level; -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);

/*
 * Start logging at level to target: "stderr", "syslog", or an absolute file
 * path opened for appending. Returns 0, or -1 with a message in err.
 */
int log_open(enum log_level level, const char *target, char *err,
    size_t errlen);

/* Close a log file or syslog; logging falls back to stderr. */
void log_close(void);

/* True if a message at level would be written (skip costly formatting). */
bool log_enabled(enum log_level level);

/* Log one line (no trailing newline needed) at level. */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
