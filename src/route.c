/*
 * route.c: the [routes] table (see route.h).
 *
 * [routes] lines may come before the [parents] they name, so the lines
 * are kept as read and turned into rules only by route_finish(), once
 * every parent is known.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "route.h"

int
route_add_parent(struct route_table *t, const char *name, const char *list,
    char *err, size_t errlen)
{
	struct parent *n;
	char why[PARENT_TEXT_MAX + 96];
	size_t i;

	for (i = 0; i < t->nparents; i++)
		if (strcmp(t->parents[i].name, name) == 0) {
			snprintf(err, errlen, "%s: defined twice", name);
			return -1;
		}
	if (t->nparents == ROUTE_PARENTS_MAX) {
		snprintf(err, errlen, "%s: more than %d parents", name,
		    ROUTE_PARENTS_MAX);
		return -1;
	}
	/* Not realloc(): the old array holds credentials, wiped here. */
	n = malloc((t->nparents + 1) * sizeof(*n));
	if (n == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	if (t->nparents > 0) {
		memcpy(n, t->parents, t->nparents * sizeof(*n));
		sodium_memzero(t->parents, t->nparents * sizeof(*n));
	}
	free(t->parents);
	t->parents = n;
	if (parent_parse(&n[t->nparents], name, list, why, sizeof(why)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", name, why);
		return -1;
	}
	t->nparents++;
	return 0;
}

int
route_add_line(struct route_table *t, const char *name, const char *value,
    char *err, size_t errlen)
{
	struct route_line *n;

	if (strlen(name) > PARENT_NAME_MAX) {
		snprintf(err, errlen, "%s: no such route", name);
		return -1;
	}
	if (strcmp(name, "default") == 0) {
		if (strlen(value) > PARENT_NAME_MAX) {
			snprintf(err, errlen, "default = %s: no such route",
			    value);
			return -1;
		}
		strcpy(t->dflt_name, value);
		return 0;
	}
	if (t->nlines == ROUTE_LINES_MAX || (n = realloc(t->lines,
	    (t->nlines + 1) * sizeof(*n))) == NULL) {
		snprintf(err, errlen, "%s: too many lines", name);
		return -1;
	}
	t->lines = n;
	if ((n[t->nlines].patterns = strdup(value)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	strcpy(n[t->nlines].name, name);
	t->nlines++;
	return 0;
}

/* The tag of route name: 0 for direct, i + 1 for parent i; -1: none. */
static int
route_tag(const struct route_table *t, const char *name)
{
	size_t i;

	if (strcmp(name, "direct") == 0)
		return 0;
	for (i = 0; i < t->nparents; i++)
		if (strcmp(t->parents[i].name, name) == 0)
			return (int)i + 1;
	return -1;
}

/* The name of tag, for messages. */
static const char *
route_tag_name(const struct route_table *t, int tag)
{
	return tag == 0 ? "direct" : t->parents[tag - 1].name;
}

/* Add one kept line's patterns as rules of its route. */
static int
route_add_rules(struct route_table *t, const struct route_line *l,
    char *err, size_t errlen)
{
	char why[DESTPAT_TEXT_MAX + 96];
	int tag = route_tag(t, l->name), clash;

	if (tag < 0) {
		snprintf(err, errlen, "[routes] %s = %s: no parent of that "
		    "name in [parents] (nor direct)", l->name, l->patterns);
		return -1;
	}
	if (dest_add_tagged(t->rules, (uint16_t)tag, l->patterns, &clash,
	    why, sizeof(why)) == 0)
		return 0;
	if (clash >= 0)
		snprintf(err, errlen, "[routes] %s = %s: %s: routed to %s as "
		    "well", l->name, l->patterns, why,
		    route_tag_name(t, clash));
	else
		snprintf(err, errlen, "[routes] %s = %s: %s", l->name,
		    l->patterns, why);
	return -1;
}

int
route_finish(struct route_table *t,
    void (*warn)(void *arg, const char *msg), void *arg, char *err,
    size_t errlen)
{
	char msg[PARENT_NAME_MAX + 96];
	int dflt;
	size_t i;

	if ((t->rules = dest_set_new()) == NULL) {
		snprintf(err, errlen, "[routes]: out of memory");
		return -1;
	}
	dflt = route_tag(t, t->dflt_name[0] != '\0' ? t->dflt_name :
	    "direct");
	if (dflt < 0) {
		snprintf(err, errlen, "[routes] default = %s: no parent of "
		    "that name in [parents] (nor direct)", t->dflt_name);
		return -1;
	}
	t->dflt = (unsigned)dflt;
	if (dflt > 0)
		t->parents[dflt - 1].used = true;
	for (i = 0; i < t->nlines; i++) {
		if (route_add_rules(t, &t->lines[i], err, errlen) == -1)
			return -1;
		if ((dflt = route_tag(t, t->lines[i].name)) > 0)
			t->parents[dflt - 1].used = true;
	}
	for (i = 0; i < t->nparents; i++) {
		if (t->parents[i].used)
			continue;
		snprintf(msg, sizeof(msg), "[parents] %s: no route uses it",
		    t->parents[i].name);
		warn(arg, msg);
	}
	return 0;
}

void
route_lookup(const struct route_table *t, const char *host, size_t len,
    uint16_t port, struct route *r)
{
	struct sockaddr_storage ss;
	struct dest_match m = { DEST_NONE, NULL, 0, 0 };
	unsigned tag = t->dflt;

	r->parent = NULL;
	r->rule = NULL;
	if (t->rules == NULL)
		return;
	/* CIDR rules for a literal; name rules (then only "*") otherwise. */
	if (addr_from_literal(host, len, port, &ss))
		dest_match_addr(t->rules, (const struct sockaddr *)&ss, &m);
	if (m.rule == NULL)
		dest_match_name(t->rules, host, len, port, &m);
	if (m.rule != NULL) {
		tag = m.tag;
		r->rule = m.rule;
	}
	if (tag > 0)
		r->parent = &t->parents[tag - 1];
}

const char *
route_name(const struct route *r, char *buf, size_t cap)
{
	if (r->parent == NULL)
		snprintf(buf, cap, "direct");
	else
		snprintf(buf, cap, "parent %s", r->parent->name);
	return buf;
}

void
route_free(struct route_table *t)
{
	size_t i;

	for (i = 0; i < t->nlines; i++)
		free(t->lines[i].patterns);
	free(t->lines);
	/* The parents' credentials leave no copy in freed memory. */
	if (t->parents != NULL)
		sodium_memzero(t->parents, t->nparents * sizeof(*t->parents));
	free(t->parents);
	dest_set_free(t->rules);
	memset(t, 0, sizeof(*t));
}
