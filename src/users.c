/*
 * users.c: load a users file and verify passwords (see users.h).
 *
 * Owns the entries of each struct users it loads; holds no global state,
 * so loads and verifications may run in any threads at once. A line is
 * judged by users_parse_line(), a pure function, then its hash by
 * users_check_hash(); the file as a whole is judged after sorting
 * (duplicates sit side by side). Passwords are never copied anywhere but
 * the stack of users_verify(), which wipes them. users_load() times one
 * hash per distinct setting so that users_verify() can make every failure
 * last as long as the slowest: no timing oracle on names or hash costs.
 */
#include <sys/stat.h>

#include <crypt.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "users.h"

/* A hash family ferry accepts: its prefix and its checksum's length. */
static const struct {
	const char	*prefix;
	size_t		 sum_len;	/* base64 characters after the salt */
} users_kinds[] = {
	/* bcrypt: "$2b$NN$", 22 salt characters, then 31 of checksum. */
	{ "$2a$", 31 },
	{ "$2b$", 31 },
	{ "$2y$", 31 },
	{ "$5$", 43 },
	{ "$6$", 86 },
	{ "$y$", 43 },
};

/* The weak or unsalted hashes people still have, named in the refusal. */
static const struct {
	const char	*prefix;
	const char	*why;
} users_weak[] = {
	{ "$1$", "MD5-crypt ($1$) is too weak: use bcrypt (htpasswd -B)" },
	{ "$apr1$", "Apache MD5 ($apr1$) is too weak: use bcrypt "
	    "(htpasswd -B)" },
	{ "{SHA}", "unsalted SHA-1 ({SHA}) is too weak: use bcrypt "
	    "(htpasswd -B)" },
};

/* crypt(3)'s base64 alphabet (not RFC 4648's). */
static int
users_is_crypt64(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '/';
}

/*
 * Is hash[0..len) (NUL-terminated) a complete hash of an accepted kind?
 * Returns NULL, or why not. The checksum's length and alphabet are
 * checked here because crypt_checksalt() only looks at the setting: a
 * bare setting ("$6$salt$") would load and then refuse every password.
 */
static const char *
users_check_hash(const char *hash, size_t len)
{
	const char *dollar;
	size_t i, k, sum;
	int salt;

	for (i = 0; i < sizeof(users_weak) / sizeof(users_weak[0]); i++)
		if (strncmp(hash, users_weak[i].prefix,
		    strlen(users_weak[i].prefix)) == 0)
			return users_weak[i].why;
	for (k = 0; k < sizeof(users_kinds) / sizeof(users_kinds[0]); k++)
		if (strncmp(hash, users_kinds[k].prefix,
		    strlen(users_kinds[k].prefix)) == 0)
			break;
	if (k == sizeof(users_kinds) / sizeof(users_kinds[0]))
		return hash[0] == '$' ? "unknown hash kind: use bcrypt "
		    "(htpasswd -B), sha-crypt or yescrypt" :
		    "not a hash (clear text or DES): use bcrypt (htpasswd -B)";
	/*
	 * users_verify() compares it with crypt_rn()'s output buffer. Debian's
	 * libxcrypt calls sha256crypt "legacy", but issue 16 accepts it.
	 */
	salt = crypt_checksalt(hash);
	if (len >= CRYPT_OUTPUT_SIZE ||
	    (salt != CRYPT_SALT_OK && salt != CRYPT_SALT_METHOD_LEGACY))
		return "malformed hash";
	/* crypt_checksalt() lets any bcrypt cost by; crypt() takes 4..31. */
	if (hash[1] == '2' && (hash[4] < '0' || hash[4] > '3' ||
	    hash[5] < '0' || hash[5] > '9' || hash[6] != '$' ||
	    (hash[4] - '0') * 10 + hash[5] - '0' < 4 ||
	    (hash[4] - '0') * 10 + hash[5] - '0' > 31))
		return "malformed hash: bcrypt cost not 04..31";
	/* bcrypt has no '$' between salt and checksum: count from the end. */
	dollar = strrchr(hash, '$');
	sum = users_kinds[k].sum_len;
	if (hash[1] == '2') {
		if (len != (size_t)(dollar - hash) + 1 + 22 + sum)
			return "malformed hash";
	} else if (len - (size_t)(dollar - hash) - 1 != sum) {
		return "malformed hash";
	}
	for (i = len - sum; i < len; i++)
		if (!users_is_crypt64((unsigned char)hash[i]))
			return "malformed hash";
	return NULL;
}

/*
 * Split line[0..len) (no line end) at its first ':' into name and hash.
 * Returns NULL, or why the line is malformed. Pure.
 */
static const char *
users_parse_line(const char *line, size_t len, size_t *name_len,
    const char **hash, size_t *hash_len)
{
	const char *colon = memchr(line, ':', len);
	size_t i;

	if (colon == NULL)
		return "no ':' between name and hash";
	*name_len = (size_t)(colon - line);
	if (*name_len == 0)
		return "empty user name";
	if (*name_len > USERS_NAME_MAX)
		return "user name too long";
	for (i = 0; i < *name_len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c <= 0x20 || c == 0x7f)
			return "space or control byte in the user name";
	}
	*hash = colon + 1;
	*hash_len = len - *name_len - 1;
	if (*hash_len == 0)
		return "empty hash";
	/* crypt strings are printable ASCII without ':' or spaces. */
	for (i = 0; i < *hash_len; i++) {
		unsigned char c = (unsigned char)(*hash)[i];

		if (c <= 0x20 || c >= 0x7f || c == ':')
			return "space, ':' or control byte in the hash";
	}
	return NULL;
}

/* Order entries by name bytes, then length; for qsort and bsearch. */
static int
users_cmp(const void *a, const void *b)
{
	const struct users_entry *x = a, *y = b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->name, y->name, n);

	if (c != 0)
		return c;
	return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

void
users_free(struct users *u)
{
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < u->count; i++) {
		free(u->entries[i].name);
		free(u->entries[i].hash);
	}
	free(u->entries);
	free(u->dummy);
	memset(u, 0, sizeof(*u));
}

/*
 * Append the user of one accepted line to u, growing the array by
 * doubling. Returns 0, or -1 when out of memory (err set).
 */
static int
users_add(struct users *u, size_t *cap, const char *name, size_t name_len,
    const char *hash, size_t hash_len, size_t line, char *err, size_t errlen)
{
	struct users_entry *e, *grown;

	if (u->count == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		grown = realloc(u->entries, *cap * sizeof(*grown));
		if (grown == NULL)
			goto oom;
		u->entries = grown;
	}
	e = &u->entries[u->count];
	e->name = strndup(name, name_len);
	e->hash = strndup(hash, hash_len);
	if (e->name == NULL || e->hash == NULL) {
		free(e->name);
		free(e->hash);
		goto oom;
	}
	e->name_len = name_len;
	e->hash_len = hash_len;
	e->line = line;
	u->count++;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/*
 * Read one line of f into buf (USERS_LINE_MAX + 2 bytes), without its
 * LF or CRLF, NUL-terminated; *len its length. Byte by byte, so a NUL
 * in the file is seen (fgets() would hide it) and a long line costs no
 * memory. Returns 1, 0 at the end of the file, or -1 with why set (a line
 * too long, a NUL, or a CR not just before the LF).
 */
static int
users_read_line(FILE *f, char *buf, size_t *len, const char **why)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		/* One byte more than the cap, for a CR before the LF. */
		if (n == USERS_LINE_MAX + 1) {
			*why = "line too long";
			return -1;
		}
		if (c == '\0') {
			*why = "NUL byte in the line";
			return -1;
		}
		buf[n++] = (char)c;
	}
	if (c == EOF && n == 0)
		return 0;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > USERS_LINE_MAX) {
		*why = "line too long";
		return -1;
	}
	if (memchr(buf, '\r', n) != NULL) {
		*why = "CR inside a line";
		return -1;
	}
	buf[n] = '\0';
	*len = n;
	return 1;
}

/*
 * Judge the sorted entries as a whole: no name twice, at least one user.
 * Returns 0, or -1 with err set.
 */
static int
users_check_all(const struct users *u, const char *path, char *err,
    size_t errlen)
{
	const struct users_entry *a, *b;
	size_t i;

	if (u->count == 0) {
		snprintf(err, errlen, "%s: no users", path);
		return -1;
	}
	for (i = 1; i < u->count; i++) {
		a = &u->entries[i - 1];
		b = &u->entries[i];
		if (users_cmp(a, b) != 0)
			continue;
		snprintf(err, errlen, "%s:%zu: user %s also on line %zu", path,
		    a->line > b->line ? a->line : b->line, a->name,
		    a->line < b->line ? a->line : b->line);
		return -1;
	}
	return 0;
}

/* Say in warn whether group or others may read or write the file. */
static void
users_check_mode(int fd, const char *path, char *warn, size_t warnlen)
{
	struct stat st;

	if (warnlen > 0)
		warn[0] = '\0';
	if (fstat(fd, &st) == 0 &&
	    (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) != 0)
		snprintf(warn, warnlen, "users file %s can be read or "
		    "written by group or others (mode %04o): make it mode "
		    "600, owned by the user ferry runs as", path,
		    (unsigned)(st.st_mode & 07777));
}

/* The lines of f into u; -1 with err set at the first bad one. */
static int
users_read_all(struct users *u, FILE *f, const char *path, char *err,
    size_t errlen)
{
	char buf[USERS_LINE_MAX + 2];
	const char *why = NULL, *hash;
	size_t cap = 0, lineno = 0, len = 0, name_len, hash_len;
	int rc;

	while ((rc = users_read_line(f, buf, &len, &why)) == 1) {
		lineno++;
		if (len == 0 || buf[0] == '#')
			continue;
		if (u->count == USERS_COUNT_MAX)
			why = "too many users";
		else if ((why = users_parse_line(buf, len, &name_len, &hash,
		    &hash_len)) == NULL)
			why = users_check_hash(hash, hash_len);
		if (why != NULL)
			break;
		if (users_add(u, &cap, buf, name_len, hash, hash_len, lineno,
		    err, errlen) == -1)
			return -1;
	}
	if (rc == -1)
		lineno++;
	if (why != NULL) {
		snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
		return -1;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		return -1;
	}
	return 0;
}

/* A CLOCK_MONOTONIC reading in nanoseconds. */
static uint64_t
users_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Bytes of hash (which passed users_check_hash()) that crypt reads as its
 * parameters, through the '$' before the salt: "$2b$12$", "$y$j9T$",
 * "$6$rounds=5000$", or "$6$" for sha-crypt's default rounds. Hashes
 * with the same setting cost the same time.
 */
static size_t
users_setting_len(const char *hash)
{
	size_t i, seen = 0, want = 3;

	/* sha-crypt has a parameter field only when it names its rounds. */
	if ((hash[1] == '5' || hash[1] == '6') &&
	    strncmp(hash + 3, "rounds=", 7) != 0)
		want = 2;
	for (i = 0; hash[i] != '\0'; i++)
		if (hash[i] == '$' && ++seen == want)
			return i + 1;
	return i;
}

/* Does entry i of u have the setting of one of the first n in seen[]? */
static bool
users_setting_seen(const struct users *u, const size_t *seen, size_t n,
    size_t i)
{
	const char *h = u->entries[i].hash;
	size_t k, len = users_setting_len(h);

	for (k = 0; k < n; k++)
		if (users_setting_len(u->entries[seen[k]].hash) == len &&
		    memcmp(u->entries[seen[k]].hash, h, len) == 0)
			return true;
	return false;
}

/*
 * Time one crypt_rn() per distinct setting in u, with a fixed password
 * and the setting's first entry as salt, and keep the slowest: u->dummy
 * a copy of its hash, u->slowest_ns its time. users_verify() pads every
 * failure to slowest_ns, so neither an unknown name nor a user with a
 * cheaper hash answers faster than the dearest user. Returns 0, or -1
 * with err set (out of memory).
 */
static int
users_time_settings(struct users *u, char *err, size_t errlen)
{
	struct crypt_data *cd = NULL;
	size_t *seen = NULL, n = 0, i, slowest = 0;
	uint64_t t0, ns;
	int rc = -1;

	/* About 32 KiB, and one index per entry at most. */
	cd = calloc(1, sizeof(*cd));
	seen = calloc(u->count, sizeof(*seen));
	if (cd == NULL || seen == NULL)
		goto out;
	for (i = 0; i < u->count; i++) {
		if (users_setting_seen(u, seen, n, i))
			continue;
		seen[n++] = i;
		t0 = users_now_ns();
		/* A failure (none expected: the hash was checked) counts 0. */
		if (crypt_rn("ferry-timing", u->entries[i].hash, cd,
		    (int)sizeof(*cd)) == NULL)
			continue;
		ns = users_now_ns() - t0;
		if (ns > u->slowest_ns) {
			u->slowest_ns = ns;
			slowest = i;
		}
	}
	if ((u->dummy = strdup(u->entries[slowest].hash)) != NULL)
		rc = 0;
out:
	if (rc == -1)
		snprintf(err, errlen, "out of memory");
	free(cd);
	free(seen);
	return rc;
}

int
users_load(struct users *u, const char *path, char *warn, size_t warnlen,
    char *err, size_t errlen)
{
	FILE *f = NULL;
	int rc = -1;

	memset(u, 0, sizeof(*u));
	if (warnlen > 0)
		warn[0] = '\0';
	f = fopen(path, "re");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	users_check_mode(fileno(f), path, warn, warnlen);
	if (users_read_all(u, f, path, err, errlen) == -1)
		goto out;
	/* qsort() must not be handed the NULL array of an empty file. */
	if (u->count > 0)
		qsort(u->entries, u->count, sizeof(u->entries[0]), users_cmp);
	if (users_check_all(u, path, err, errlen) == -1)
		goto out;
	if (users_time_settings(u, err, errlen) == -1)
		goto out;
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	if (rc == -1)
		users_free(u);
	return rc;
}

/* A name to look up: the key users_find() hands bsearch(). */
struct users_key {
	const char	*name;
	size_t		 len;
};

static int
users_key_cmp(const void *k, const void *elem)
{
	const struct users_key *key = k;
	const struct users_entry *e = elem;
	size_t n = key->len < e->name_len ? key->len : e->name_len;
	int c = memcmp(key->name, e->name, n);

	if (c != 0)
		return c;
	return (key->len > e->name_len) - (key->len < e->name_len);
}

/* The entry of name[0..len), or NULL. */
static const struct users_entry *
users_find(const struct users *u, const char *name, size_t len)
{
	struct users_key key = { name, len };

	if (u == NULL || u->count == 0)
		return NULL;
	return bsearch(&key, u->entries, u->count, sizeof(u->entries[0]),
	    users_key_cmp);
}

bool
users_has(const struct users *u, const char *name, size_t len)
{
	return users_find(u, name, len) != NULL;
}

/*
 * True if the NUL-terminated a and b are equal, in a time that depends on
 * their lengths only, never on where they differ (no memcmp(), which
 * stops at the first difference). a is crypt_rn()'s output, b the stored
 * hash, shorter than CRYPT_OUTPUT_SIZE (users_check_hash()).
 */
static bool
users_same(const char *a, const char *b)
{
	size_t i, la = strlen(a), lb = strlen(b);
	unsigned diff = la != lb;

	for (i = 0; i < lb; i++)
		diff |= (unsigned char)(i < la ? a[i] : 0) ^
		    (unsigned char)b[i];
	return diff == 0;
}

/*
 * Sleep until ns nanoseconds have passed since start (users_now_ns()
 * time). The rest is recomputed from the clock after a signal, so an
 * EINTR neither cuts the pause short nor lengthens it.
 */
static void
users_pad(uint64_t start, uint64_t ns)
{
	struct timespec ts;
	uint64_t now, left;

	while ((now = users_now_ns()) - start < ns) {
		left = ns - (now - start);
		ts.tv_sec = (time_t)(left / 1000000000u);
		ts.tv_nsec = (long)(left % 1000000000u);
		if (nanosleep(&ts, NULL) == -1 && errno != EINTR)
			break;
	}
}

bool
users_verify(const struct users *u, const char *name, size_t name_len,
    const char *password, size_t pw_len)
{
	const struct users_entry *e;
	struct crypt_data *cd = NULL;
	char pw[USERS_PASSWORD_MAX + 1];
	const char *setting, *out;
	uint64_t start;
	bool ok = false;

	/* Decided by the password alone, so they say nothing of the name. */
	if (u == NULL || u->count == 0 || pw_len > USERS_PASSWORD_MAX ||
	    (pw_len > 0 && memchr(password, '\0', pw_len) != NULL))
		return false;
	start = users_now_ns();
	e = users_find(u, name, name_len);
	setting = e != NULL ? e->hash : u->dummy;
	if (pw_len > 0)
		memcpy(pw, password, pw_len);
	pw[pw_len] = '\0';
	/* About 32 KiB: too much for a worker's configured stack. */
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		goto out;
	out = crypt_rn(pw, setting, cd, (int)sizeof(*cd));
	/* Compared even for an unknown name, to take the same time. */
	if (out != NULL && users_same(out, setting) && e != NULL)
		ok = true;
out:
	explicit_bzero(pw, sizeof(pw));
	if (cd != NULL) {
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
	}
	/*
	 * A failure takes as long as the slowest hash in the file, whoever
	 * the name: a cheaper user's hash, or none, must not show. Success
	 * is not padded: its caller knew the password already.
	 */
	if (!ok)
		users_pad(start, u->slowest_ns);
	return ok;
}
