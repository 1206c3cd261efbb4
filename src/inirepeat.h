/*
 * inirepeat.h: a key given twice in one section of an INI file.
 *
 * iniparser keeps the last of two lines that set the same key and drops
 * the first without a word, so "deny = .a.example" and, further down,
 * "deny = .b.example" would deny only .b.example. ferry refuses such a
 * file instead: every value of a list goes on one line.
 */
#ifndef FERRY_INIREPEAT_H
#define FERRY_INIREPEAT_H

#include <stddef.h>

#define INIREPEAT_KEY_MAX	128

/* A key given twice: "section:key" as iniparser names it, and its lines. */
struct inirepeat {
	char		 key[INIREPEAT_KEY_MAX];
	unsigned	 first;		/* line of the first time */
	unsigned	 again;		/* line of the second */
};

/*
 * Read the INI file at path as iniparser does (names are trimmed and
 * lower-cased, ';' and '#' start a comment line, a line that ends in a
 * backslash goes on in the next) and look for a key set twice in one
 * section, sections of the same name counting as one. Returns 1 with
 * *r filled for the first such key, 0 if there is none, -1 if the file
 * cannot be read (iniparser then says why).
 */
int inirepeat_find(const char *path, struct inirepeat *r);

#endif
