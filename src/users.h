/*
 * users.h: the users file of [auth] (issue 16 §2): htpasswd-style
 * "name:hash" lines, loaded once, then only read; and the check of a
 * user's password against its hash through libxcrypt.
 *
 * Path: start-up and reload load the file (with the config, not yet
 * wired in); after the credentials are parsed, users_verify() checks
 * them.
 *
 * Only slow, salted hashes are accepted: bcrypt ($2y$, $2b$, $2a$),
 * sha-crypt ($5$, $6$) and yescrypt ($y$). Clear text, DES, MD5 ($1$,
 * $apr1$) and {SHA} are refused at load with file:line, as are malformed
 * lines and duplicate names, so a file that loads holds nothing a
 * verification could silently get wrong. Uses nothing of ferry's.
 *
 * bcrypt reads only the first 72 bytes of a password (as htpasswd -B
 * does); that is bcrypt's, not ours, and the other hashes read it all.
 */
#ifndef FERRY_USERS_H
#define FERRY_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes in a line, without its line end; a longer line is refused. */
#define USERS_LINE_MAX		512
/* Users in a file; a file with more is refused. */
#define USERS_COUNT_MAX		100000
/* Bytes in a user name. */
#define USERS_NAME_MAX		255
/* Bytes in a password that users_verify() will hash. */
#define USERS_PASSWORD_MAX	1024

/* One user: name and hash are NUL-terminated heap strings it owns. */
struct users_entry {
	char	*name;
	size_t	 name_len;
	char	*hash;		/* the crypt(3) string from the file */
	size_t	 hash_len;
	size_t	 line;		/* where it was in the file */
};

/*
 * A loaded users file. entries is sorted by name (bytes, then length) for
 * bsearch. slowest_ns is what one hash of the file's dearest setting took
 * at load (a file may mix costs: htpasswd -B -C 5 and mkpasswd -R 12),
 * and dummy a copy of a hash of that setting, which an unknown name is
 * checked against. Immutable after users_load(): any number of threads
 * may read it.
 */
struct users {
	struct users_entry	*entries;
	size_t			 count;
	char			*dummy;		/* owned */
	uint64_t		 slowest_ns;
};

/*
 * Load path into *u (its previous contents are not freed: pass a zeroed or
 * freed struct). Lines are "name:hash"; a line end is LF or CRLF (a file
 * written on Windows works; a CR anywhere else is refused); blank lines
 * and lines starting with '#' are skipped (a line of spaces is not
 * blank: it is refused, like any line without ':'). A name is 1..USERS_NAME_MAX
 * bytes without ':', space or control bytes (it goes into the access log
 * as one field). A file with no user is refused: [auth] would lock out
 * everyone.
 *
 * Returns 0, with warn (warnlen bytes, may be 0) set to a warning or to
 * "" (the file can be read or written by group or others: not an error,
 * but the caller should say so). Returns -1 with "path:line: reason" (or
 * "path: reason") in err and *u empty. Blocking file I/O, and one hash
 * per distinct setting in the file ("$2b$12$", "$6$rounds=5000$",
 * "$y$j9T$": a file usually has one to three), timed to find the slowest;
 * a hash is otherwise checked by its form and crypt_checksalt(). So it
 * costs a few hashes: call it at start-up or reload, never from a worker
 * with a client waiting. Thread-safe (no shared state).
 */
int users_load(struct users *u, const char *path, char *warn, size_t warnlen,
    char *err, size_t errlen);

/*
 * True if name[0..name_len) is a user of u and password[0..pw_len) is its
 * password. Both are borrowed and need not be NUL-terminated. A password
 * holding a NUL or over USERS_PASSWORD_MAX bytes is false (crypt() would
 * read a NUL as its end); these are decided at once, by the password
 * alone. Otherwise an unknown name is hashed against u->dummy all the same
 * and the result compared in constant time, and a false answer sleeps out
 * the rest of u->slowest_ns: every failure takes as long as the slowest
 * hash in the file, so the time tells neither whether the name exists nor
 * which hash its user has. A success is not padded. Costs one hash at
 * the user's cost (milliseconds for bcrypt), a failure at least the
 * file's dearest: meant to be cached by the caller. Any thread:
 * crypt_rn() works on a struct crypt_data of its own.
 */
bool users_verify(const struct users *u, const char *name, size_t name_len,
    const char *password, size_t pw_len);

/*
 * True if name[0..len) is a user of u. For the log only (which of user
 * and password was wrong): the answer to the client must not depend on
 * it. Any thread.
 */
bool users_has(const struct users *u, const char *name, size_t len);

/* Free everything u owns; u is empty afterwards. NULL-safe. */
void users_free(struct users *u);

#endif
