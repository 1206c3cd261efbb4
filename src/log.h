/*
 * log.h: leveled logging to stderr, syslog or a file, and the access log.
 *
 * Path: every step may log with log_msg(); at the end of each request one
 * access line is written. Start-up opens the sinks, and signals reopen them
 * (SIGUSR1, and SIGHUP with the new [log] keys).
 *
 * Any thread may log at any time, also while the signal loop reopens the
 * files (log rotation) or switches targets (reload). Each line is written
 * with a single write() so lines from different workers never interleave.
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
	LOGL_DEBUG,
	LOGL_TRACE	/* every stage of every connection (trace.h) */
};

/*
 * Map "error", "warn", "info", "debug" or "trace" to a level; -1 if
 * unknown.
 */
int log_level_parse(const char *s, enum log_level *out);

/*
 * Log at least down to level whatever the config says (ferry -v: debug,
 * -v -v: trace); kept across reloads. Call before the threads start.
 */
void log_set_floor(enum log_level level);

/*
 * Log at level to target: "stderr", "syslog", or a file path opened for
 * appending; and access lines to the file access ("": none). Replaces
 * what was open before, only once everything new is open: returns 0, or
 * -1 with a message in err and the old sinks still in use. Thread-safe.
 */
int log_open(enum log_level level, const char *target, const char *access,
    char *err, size_t errlen);

/*
 * Open the same files again (SIGUSR1, after logrotate moved them away).
 * Returns 0, or -1 with err and the old descriptors kept. Thread-safe,
 * like log_open().
 */
int log_reopen(char *err, size_t errlen);

/*
 * Close the files and syslog; logging falls back to stderr. Thread-safe,
 * like log_open().
 */
void log_close(void);

/*
 * True if a message at level would be written (skip costly formatting).
 * Lock-free: one atomic load.
 */
bool log_enabled(enum log_level level);

/* True if the error log is stderr. Any thread (takes the read lock). */
bool log_on_stderr(void);

/* True if an access log is open. Any thread (takes the read lock). */
bool log_access_enabled(void);

/*
 * Append line[0..len) (a whole line, newline included) to the access log,
 * in one write() under the read lock, so lines never mix; a no-op without
 * an access log, and a failed write is ignored. Any thread.
 */
void log_access(const char *line, size_t len);

/*
 * Log one line (no trailing newline needed) at level, if the threshold
 * lets it through. The line is formatted on the stack (cut at about
 * 2 KiB), prefixed with the time, pid and level (syslog adds its own),
 * and written with one write() or syslog() under the read lock. Any
 * thread; a failed write is ignored.
 */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
