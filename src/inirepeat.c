/*
 * inirepeat.c: a key given twice in one section of an INI file (see
 * inirepeat.h).
 *
 * A first pass over the file, line by line, that knows only as much of
 * iniparser's grammar (4.1) as it takes to name each key the way
 * iniparser does: the section it is in and its own name, both trimmed
 * and lower-cased. A section is named by what stands between "[" and the
 * first "]"; a "[]" line names none and leaves the section as it was; a
 * line continued by a backslash at the end of the file is dropped, as
 * iniparser drops it. The names seen are kept in a list that grows with
 * the file; a config has tens of keys, so each new one is compared with
 * all before it.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inirepeat.h"

/* A longer line is iniparser's error to report, not a key to compare. */
#define INIREPEAT_LINE_MAX	65536

struct inirepeat_seen {
	char		**key;		/* "section:key", each malloc'd */
	unsigned	 *line;
	size_t		  n;
	size_t		  cap;
};

/* s[0..*len) without the blanks at both ends; returns the new start. */
static char *
inirepeat_trim(char *s, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)*s)) {
		s++;
		(*len)--;
	}
	while (*len > 0 && isspace((unsigned char)s[*len - 1]))
		(*len)--;
	return s;
}

/* s[0..len) lower-cased in place. */
static void
inirepeat_lower(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
}

/* Remember name (taken over), seen on line. -1 when out of memory. */
static int
inirepeat_keep(struct inirepeat_seen *seen, char *name, unsigned line)
{
	void *k, *l;
	size_t cap;

	if (seen->n == seen->cap) {
		cap = seen->cap == 0 ? 64 : seen->cap * 2;
		k = realloc(seen->key, cap * sizeof(*seen->key));
		if (k == NULL)
			return -1;
		seen->key = k;
		l = realloc(seen->line, cap * sizeof(*seen->line));
		if (l == NULL)
			return -1;
		seen->line = l;
		seen->cap = cap;
	}
	seen->key[seen->n] = name;
	seen->line[seen->n++] = line;
	return 0;
}

/* A "[name]" line s[0..len): *section becomes name, unless it is empty. */
static int
inirepeat_section(char *s, size_t len, char **section)
{
	const char *end = memchr(s, ']', len);
	char *name;
	size_t n = (size_t)(end - s) - 1;

	name = inirepeat_trim(s + 1, &n);
	if (n == 0)
		return 0;	/* iniparser reads no section: it stays */
	inirepeat_lower(name, n);
	free(*section);
	*section = strndup(name, n);
	return *section == NULL ? -1 : 0;
}

/*
 * Look at one logical line s[0..len), which began on line: a section
 * header changes *section, a key is compared with those seen. Returns 1
 * (and fills *r) for a repeat, 0, or -1 when out of memory.
 */
static int
inirepeat_line(char *s, size_t len, unsigned line, char **section,
    struct inirepeat_seen *seen, struct inirepeat *r)
{
	const char *eq;
	char *name;
	size_t i, n;

	s = inirepeat_trim(s, &len);
	if (len == 0 || s[0] == ';' || s[0] == '#')
		return 0;
	if (s[0] == '[' && s[len - 1] == ']')
		return inirepeat_section(s, len, section);
	eq = memchr(s, '=', len);
	if (eq == NULL)
		return 0;	/* not a key: iniparser's error */
	n = (size_t)(eq - s);
	s = inirepeat_trim(s, &n);
	inirepeat_lower(s, n);
	if (asprintf(&name, "%s:%.*s", *section, (int)n, s) == -1)
		return -1;
	for (i = 0; i < seen->n; i++)
		if (strcmp(seen->key[i], name) == 0) {
			snprintf(r->key, sizeof(r->key), "%s", name);
			r->first = seen->line[i];
			r->again = line;
			free(name);
			return 1;
		}
	if (inirepeat_keep(seen, name, line) == -1) {
		free(name);
		return -1;
	}
	return 0;
}

/* Append buf[0..n) to the logical line *text (of *len, room *cap). */
static int
inirepeat_append(char **text, size_t *len, size_t *cap, const char *buf,
    size_t n)
{
	char *t;

	if (*len + n + 1 > *cap) {
		t = realloc(*text, *len + n + 1);
		if (t == NULL)
			return -1;
		*text = t;
		*cap = *len + n + 1;
	}
	memcpy(*text + *len, buf, n);
	*len += n;
	return 0;
}

int
inirepeat_find(const char *path, struct inirepeat *r)
{
	struct inirepeat_seen seen = { NULL, NULL, 0, 0 };
	char *section = strdup(""), *text = NULL, *buf = NULL;
	size_t cap = 0, len = 0, bufcap = 0, i;
	unsigned line = 0, start = 0;
	ssize_t n;
	int rc = section == NULL ? -1 : 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		free(section);
		return -1;
	}
	while (rc == 0 && (n = getline(&buf, &bufcap, f)) != -1) {
		line++;
		/* As iniparser: the line break and blanks at the end go. */
		while (n > 0 && isspace((unsigned char)buf[n - 1]))
			n--;
		if (len + (size_t)n + 1 > INIREPEAT_LINE_MAX)
			break;
		if (len == 0)
			start = line;
		if (inirepeat_append(&text, &len, &cap, buf, (size_t)n) == -1) {
			rc = -1;
			break;
		}
		if (n > 0 && buf[n - 1] == '\\') {	/* goes on */
			len--;
			continue;
		}
		rc = inirepeat_line(text, len, start, &section, &seen, r);
		len = 0;
	}
	/* A line still going on at the end: iniparser drops it. */
	fclose(f);
	free(buf);
	free(text);
	free(section);
	for (i = 0; i < seen.n; i++)
		free(seen.key[i]);
	free(seen.key);
	free(seen.line);
	return rc;
}
