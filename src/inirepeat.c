/*
 * inirepeat.c: a key given twice in one section of an INI file (see
 * inirepeat.h).
 *
 * A first pass over the file, line by line, that knows only as much of
 * iniparser's grammar as it takes to name each key the way iniparser
 * does: the section it is in and its own name, both trimmed and
 * lower-cased. The names seen are kept in a list that grows with the
 * file; a config has tens of keys, so each new one is compared with all
 * before it.
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
	char		 (*key)[INIREPEAT_KEY_MAX];
	unsigned	*line;
	size_t		 n;
	size_t		 cap;
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

/* Lower-case s[0..len) into out (of outlen bytes) as "section:key". */
static void
inirepeat_name(const char *section, const char *key, size_t keylen,
    char *out, size_t outlen)
{
	size_t i;

	snprintf(out, outlen, "%s:%.*s", section, (int)keylen, key);
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

/* Remember name, first seen on line. Returns -1 when out of memory. */
static int
inirepeat_keep(struct inirepeat_seen *seen, const char *name, unsigned line)
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
	snprintf(seen->key[seen->n], sizeof(seen->key[seen->n]), "%s", name);
	seen->line[seen->n++] = line;
	return 0;
}

/*
 * Look at one logical line s[0..len), which began on line: a section
 * header changes *section, a key is compared with those seen. Returns 1
 * (and fills *r) for a repeat, 0, or -1 when out of memory.
 */
static int
inirepeat_line(char *s, size_t len, unsigned line, char *section,
    size_t seclen, struct inirepeat_seen *seen, struct inirepeat *r)
{
	char name[INIREPEAT_KEY_MAX];
	const char *eq;
	size_t i, n;

	s = inirepeat_trim(s, &len);
	if (len == 0 || s[0] == ';' || s[0] == '#')
		return 0;
	if (s[0] == '[' && s[len - 1] == ']') {
		n = len - 2;
		inirepeat_name("", inirepeat_trim(s + 1, &n), n, name,
		    sizeof(name));
		snprintf(section, seclen, "%s", name + 1);	/* no ':' */
		return 0;
	}
	eq = memchr(s, '=', len);
	if (eq == NULL)
		return 0;	/* not a key: iniparser's error */
	n = (size_t)(eq - s);
	s = inirepeat_trim(s, &n);
	inirepeat_name(section, s, n, name, sizeof(name));
	for (i = 0; i < seen->n; i++)
		if (strcmp(seen->key[i], name) == 0) {
			snprintf(r->key, sizeof(r->key), "%s", name);
			r->first = seen->line[i];
			r->again = line;
			return 1;
		}
	return inirepeat_keep(seen, name, line);
}

int
inirepeat_find(const char *path, struct inirepeat *r)
{
	struct inirepeat_seen seen = { NULL, NULL, 0, 0 };
	char section[INIREPEAT_KEY_MAX] = "", *text = NULL, *buf = NULL;
	size_t cap = 0, len = 0, bufcap = 0;
	unsigned line = 0, start = 0;
	ssize_t n;
	int rc = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	while (rc == 0 && (n = getline(&buf, &bufcap, f)) != -1) {
		line++;
		/* As iniparser: the line break and blanks at the end go. */
		while (n > 0 && isspace((unsigned char)buf[n - 1]))
			n--;
		if (len + (size_t)n + 1 > INIREPEAT_LINE_MAX)
			break;
		if (len == 0)
			start = line;
		if (len + (size_t)n + 1 > cap) {
			char *t = realloc(text, len + (size_t)n + 1);

			if (t == NULL) {
				rc = -1;
				break;
			}
			text = t;
			cap = len + (size_t)n + 1;
		}
		memcpy(text + len, buf, (size_t)n);
		len += (size_t)n;
		if (n > 0 && buf[n - 1] == '\\') {	/* goes on */
			len--;
			continue;
		}
		rc = inirepeat_line(text, len, start, section, sizeof(section),
		    &seen, r);
		len = 0;
	}
	if (rc == 0 && len > 0 && text != NULL)
		rc = inirepeat_line(text, len, start, section,
		    sizeof(section), &seen, r);
	fclose(f);
	free(buf);
	free(text);
	free(seen.key);
	free(seen.line);
	return rc;
}
