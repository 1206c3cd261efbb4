/*
 * dest.c: the destination rule set and its lookups (see dest.h).
 *
 * Owns one open-addressing hash table of keys, an array of rules and one
 * byte arena; all three grow while the set is built and never after, so
 * readers need no lock. A key is a pattern without its port: a name
 * (exact or suffix), "*", or a network (family, prefix, masked bytes).
 * Every rule of a key hangs off it in a short chain (ports, lists), so a
 * lookup is one probe per candidate key, most specific first:
 *
 *   names     exact host, then the host and each parent as a suffix,
 *             then "*": one probe per label. The hash is FNV-1a over the
 *             name read backwards, so the hashes of all suffixes come
 *             from one pass over the host.
 *   networks  one probe per prefix length present in the set, longest
 *             first (a /24 and a /8 rule cost two probes, whatever the
 *             number of rules).
 *
 * Offsets rather than pointers go into the table, so that growing the
 * arena never leaves one dangling.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "dest.h"

#define DEST_END	UINT32_MAX	/* end of a rule chain */
#define DEST_FREE	UINT32_MAX	/* the hash of an empty slot */
#define DEST_SLOTS_MIN	64
#define FNV_OFFSET	2166136261u
#define FNV_PRIME	16777619u

/* A key: one pattern without its port. hash DEST_FREE: an empty slot. */
struct dest_slot {
	uint32_t	hash;
	uint32_t	key;		/* arena offset of the key's bytes */
	uint32_t	rule;		/* first rule of the chain */
	uint16_t	len;		/* key bytes: name length, 0, 4 or 16 */
	uint8_t		kind;		/* enum destpat_kind */
	uint8_t		prefix;		/* NET: prefix length */
};						/* 16 bytes: 4 to a line */

struct dest_rule {
	uint32_t	text;		/* arena offset, canonical, NUL-ended */
	uint32_t	next;		/* next rule of the key, or DEST_END */
	uint16_t	lo;
	uint16_t	hi;
	bool		has_port;
	bool		deny;
	uint16_t	tag;		/* dest_add_tagged(); 0 otherwise */
};

struct dest_set {
	struct dest_slot	*slots;		/* owned; nslots a power of 2 */
	size_t			 nslots;
	size_t			 nkeys;
	struct dest_rule	*rules;		/* owned */
	size_t			 nrules;
	size_t			 caprules;
	char			*arena;		/* owned */
	size_t			 used;
	size_t			 cap;
	bool			 has4[33];	/* an IPv4 key of that prefix */
	bool			 has6[129];
	bool			 allow_addr;	/* an allow rule of CIDR form */
};

/* Finish a hash: mix in the key's kind and prefix; never DEST_FREE. */
static uint32_t
dest_mix(uint32_t h, unsigned kind, unsigned prefix)
{
	h ^= (kind + 1) * 0x9e3779b9u ^ prefix << 16;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h != DEST_FREE ? h : 0;
}

/* FNV-1a of k[0..len) read backwards (see the top of the file). */
static uint32_t
dest_hash_back(const uint8_t *k, size_t len)
{
	uint32_t h = FNV_OFFSET;

	while (len > 0)
		h = (h ^ k[--len]) * FNV_PRIME;
	return h;
}

/* The slot holding key (kind, prefix, k[0..len)) with hash h, or NULL. */
static const struct dest_slot *
dest_find(const struct dest_set *s, uint32_t h, unsigned kind,
    unsigned prefix, const void *k, size_t len)
{
	const struct dest_slot *sl;
	size_t mask = s->nslots - 1, i;

	if (s->nslots == 0)
		return NULL;
	for (i = h & mask; (sl = &s->slots[i])->hash != DEST_FREE; i = (i + 1) & mask)
		if (sl->hash == h && sl->kind == kind &&
		    sl->prefix == prefix && sl->len == len &&
		    memcmp(s->arena + sl->key, k, len) == 0)
			return sl;
	return NULL;
}

/*
 * Fill m from the rule of sl's chain that decides on port: one with a
 * port over one without, then deny over allow. False (m untouched) if sl
 * is NULL or no rule of it matches the port.
 */
static bool
dest_decide_key(const struct dest_set *s, const struct dest_slot *sl,
    uint16_t port, struct dest_match *m)
{
	const struct dest_rule *r, *best = NULL;
	uint32_t i;

	for (i = sl != NULL ? sl->rule : DEST_END; i != DEST_END; i = r->next) {
		r = &s->rules[i];
		if (r->has_port && (port < r->lo || port > r->hi))
			continue;
		if (best == NULL || r->has_port * 2 + r->deny >
		    best->has_port * 2 + best->deny)
			best = r;
	}
	if (best == NULL)
		return false;
	m->verdict = best->deny ? DEST_DENY : DEST_ALLOW;
	m->rule = s->arena + best->text;
	m->tag = best->tag;
	return true;
}

/* A match that found no rule. */
static void
dest_match_none(struct dest_match *m)
{
	m->verdict = DEST_NONE;
	m->rule = NULL;
	m->prefix = 0;
	m->tag = 0;
}

void
dest_match_name(const struct dest_set *s, const char *host, size_t len,
    uint16_t port, struct dest_match *m)
{
	uint8_t name[DESTPAT_NAME_MAX];
	uint32_t hs[DESTPAT_NAME_MAX + 1], h = FNV_OFFSET;
	size_t i, n = len;

	dest_match_none(m);
	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n > 0 && n <= sizeof(name)) {
		for (i = 0; i < n; i++)
			name[i] = (uint8_t)(host[i] >= 'A' && host[i] <= 'Z' ?
			    host[i] - 'A' + 'a' : host[i]);
		/* hs[i]: the hash of name[i..n), for i at a label start. */
		for (i = n; i > 0; i--) {
			h = (h ^ name[i - 1]) * FNV_PRIME;
			hs[i - 1] = h;
		}
		if (dest_decide_key(s, dest_find(s, dest_mix(hs[0],
		    DESTPAT_EXACT, 0), DESTPAT_EXACT, 0, name, n), port, m))
			return;
		for (i = 0; i < n; i++) {
			if (i > 0 && name[i - 1] != '.')
				continue;
			if (dest_decide_key(s, dest_find(s, dest_mix(hs[i],
			    DESTPAT_SUFFIX, 0), DESTPAT_SUFFIX, 0, name + i,
			    n - i), port, m))
				return;
		}
	}
	(void)dest_decide_key(s, dest_find(s, dest_mix(FNV_OFFSET,
	    DESTPAT_ANY, 0), DESTPAT_ANY, 0, "", 0), port, m);
}

void
dest_match_addr(const struct dest_set *s, const struct sockaddr *sa,
    struct dest_match *m)
{
	uint8_t a[16], k[16];
	uint16_t port = 0;
	int family = addr_bytes(sa, a, &port);
	const bool *has = family == AF_INET ? s->has4 : s->has6;
	size_t blen = family == AF_INET ? 4 : 16;
	unsigned p = family == AF_INET ? 32 : 128;

	dest_match_none(m);
	if (family != AF_INET && family != AF_INET6)
		return;
	for (;; p--) {
		if (has[p]) {
			memcpy(k, a, blen);
			addr_mask(k, blen, p);
			if (dest_decide_key(s, dest_find(s, dest_mix(
			    dest_hash_back(k, blen), DESTPAT_NET, p),
			    DESTPAT_NET, p, k, blen), port, m)) {
				m->prefix = p;
				return;
			}
		}
		if (p == 0)
			return;
	}
}

enum dest_verdict
dest_decide(const struct dest_match *name, const struct dest_match *addr,
    enum dest_verdict dflt, const struct dest_match **why)
{
	*why = NULL;
	if (name->verdict == DEST_DENY || (addr != NULL &&
	    addr->verdict == DEST_DENY))
		*why = name->verdict == DEST_DENY ? name : addr;
	else if (name->verdict == DEST_ALLOW)
		*why = name;
	else if (addr != NULL && addr->verdict == DEST_ALLOW)
		*why = addr;
	return *why != NULL ? (*why)->verdict : dflt;
}

struct dest_set *
dest_set_new(void)
{
	return calloc(1, sizeof(struct dest_set));
}

bool
dest_has_addr_allow(const struct dest_set *s)
{
	return s->allow_addr;
}

void
dest_set_free(struct dest_set *s)
{
	if (s == NULL)
		return;
	free(s->slots);
	free(s->rules);
	free(s->arena);
	free(s);
}

size_t
dest_count(const struct dest_set *s)
{
	return s->nrules;
}

/* Append b[0..len) to the arena; its offset into *off. */
static int
dest_arena_add(struct dest_set *s, const void *b, size_t len, uint32_t *off)
{
	size_t cap;
	char *n;

	if (s->cap - s->used < len) {
		cap = s->cap == 0 ? 4096 : s->cap;
		while (cap - s->used < len && cap <= UINT32_MAX / 2)
			cap *= 2;
		if (cap - s->used < len || cap > UINT32_MAX)
			return -1;
		if ((n = realloc(s->arena, cap)) == NULL)
			return -1;
		s->arena = n;
		s->cap = cap;
	}
	memcpy(s->arena + s->used, b, len);
	*off = (uint32_t)s->used;
	s->used += len;
	return 0;
}

/* Move every key into a new table of cap slots (a power of 2). */
static int
dest_rehash(struct dest_set *s, size_t cap)
{
	struct dest_slot *n;
	size_t i, j;

	/*
	 * Empty is all ones, written here, not calloc()'s zero: a calloc()ed
	 * table is mapped to the zero page, so the first probe of each page
	 * faults once to read it and again, with a TLB flush, to write it.
	 * (The compiler turns malloc() and a zero memset() into calloc().)
	 */
	if ((n = malloc(cap * sizeof(*n))) == NULL)
		return -1;
	memset(n, 0xff, cap * sizeof(*n));
	for (i = 0; i < s->nslots; i++) {
		if (s->slots[i].hash == DEST_FREE)
			continue;
		for (j = s->slots[i].hash & (cap - 1); n[j].hash != DEST_FREE;
		    j = (j + 1) & (cap - 1))
			;
		n[j] = s->slots[i];
	}
	free(s->slots);
	s->slots = n;
	s->nslots = cap;
	return 0;
}

/*
 * Make room for n more keys, rules and about bytes of text at once, so
 * that a large file is not rehashed and copied at every doubling. A hint:
 * dest_add() still grows whatever turns out short.
 */
static int
dest_reserve(struct dest_set *s, size_t n, size_t bytes)
{
	struct dest_rule *r;
	size_t cap = s->nslots == 0 ? DEST_SLOTS_MIN : s->nslots;
	char *a;

	if (n > DEST_RULES_MAX)
		n = DEST_RULES_MAX;
	while ((s->nkeys + n) * 2 > cap)
		cap *= 2;
	if (cap != s->nslots && dest_rehash(s, cap) == -1)
		return -1;
	if (s->caprules < s->nrules + n) {
		if ((r = realloc(s->rules, (s->nrules + n) * sizeof(*r))) ==
		    NULL)
			return -1;
		s->rules = r;
		s->caprules = s->nrules + n;
	}
	if (bytes <= UINT32_MAX - s->used && s->cap - s->used < bytes) {
		if ((a = realloc(s->arena, s->used + bytes)) == NULL)
			return -1;
		s->arena = a;
		s->cap = s->used + bytes;
	}
	return 0;
}

/* The key of p: kind, prefix, bytes into k (borrowed or copied), hash. */
static uint32_t
dest_key(const struct destpat *p, const uint8_t **k, size_t *len,
    unsigned *prefix)
{
	*prefix = 0;
	*k = (const uint8_t *)"";
	*len = 0;
	switch (p->kind) {
	case DESTPAT_EXACT:
	case DESTPAT_SUFFIX:
		*k = (const uint8_t *)p->name;
		*len = p->name_len;
		break;
	case DESTPAT_ANY:
		break;
	case DESTPAT_NET:
		*k = p->addr;
		*len = p->family == AF_INET ? 4 : 16;
		*prefix = p->prefix;
		break;
	}
	return dest_mix(dest_hash_back(*k, *len), p->kind, *prefix);
}

/* The slot for p's key, a new one if absent; NULL when out of memory. */
static struct dest_slot *
dest_slot_for(struct dest_set *s, const struct destpat *p, uint32_t text)
{
	struct dest_slot *sl;
	const uint8_t *k;
	size_t len, i;
	unsigned prefix;
	uint32_t h = dest_key(p, &k, &len, &prefix), off;

	if ((sl = (struct dest_slot *)dest_find(s, h, p->kind, prefix, k,
	    len)) != NULL)
		return sl;
	/* Load at most one half: probes stay short. */
	if ((s->nkeys + 1) * 2 > s->nslots && dest_rehash(s, s->nslots == 0 ?
	    DEST_SLOTS_MIN : s->nslots * 2) == -1)
		return NULL;
	/* A name's key is inside its canonical text, after any '.'. */
	if (p->kind == DESTPAT_NET) {
		if (dest_arena_add(s, k, len, &off) == -1)
			return NULL;
	} else
		off = text + (p->kind == DESTPAT_SUFFIX);
	for (i = h & (s->nslots - 1); s->slots[i].hash != DEST_FREE;
	    i = (i + 1) & (s->nslots - 1))
		;
	sl = &s->slots[i];
	sl->hash = h;
	sl->key = off;
	sl->rule = DEST_END;
	sl->len = (uint16_t)len;
	sl->kind = (uint8_t)p->kind;
	sl->prefix = (uint8_t)prefix;
	s->nkeys++;
	if (p->kind == DESTPAT_NET)
		(p->family == AF_INET ? s->has4 : s->has6)[prefix] = true;
	return sl;
}

/*
 * A rule of sl's chain with r's ports but another tag, or NULL: for a
 * tagged set, one pattern given two values.
 */
static const struct dest_rule *
dest_clash(const struct dest_set *s, const struct dest_slot *sl,
    const struct dest_rule *r)
{
	const struct dest_rule *o;
	uint32_t i;

	for (i = sl->rule; i != DEST_END; i = o->next) {
		o = &s->rules[i];
		if (o->has_port == r->has_port && o->lo == r->lo &&
		    o->hi == r->hi && o->tag != r->tag)
			return o;
	}
	return NULL;
}

/*
 * Parse pattern s[0..len) and add it as a rule of deny and tag; -1 with
 * the reason in err. With clash not NULL (a tagged set), the pattern
 * already added with another tag is refused, that tag in *clash.
 */
static int
dest_add(struct dest_set *s, bool deny, uint16_t tag, const char *pat,
    size_t len, int *clash, char *err, size_t errlen)
{
	const struct dest_rule *other;
	char text[DESTPAT_TEXT_MAX + 1];
	struct destpat pp, *p = &pp;
	struct dest_slot *sl;
	struct dest_rule *r;
	uint32_t off, i;
	int n, chain;

	if (destpat_parse(pat, len, p, err, errlen) == -1)
		return -1;
	if ((n = destpat_format(p, text, sizeof(text))) < 0)
		goto nomem;
	if (s->nrules >= DEST_RULES_MAX) {
		snprintf(err, errlen, "more than %u rules", DEST_RULES_MAX);
		return -1;
	}
	if (s->nrules == s->caprules) {
		size_t cap = s->caprules == 0 ? 256 : s->caprules * 2;

		if ((r = realloc(s->rules, cap * sizeof(*r))) == NULL)
			goto nomem;
		s->rules = r;
		s->caprules = cap;
	}
	if (dest_arena_add(s, text, (size_t)n + 1, &off) == -1 ||
	    (sl = dest_slot_for(s, p, off)) == NULL)
		goto nomem;
	/* The chain is short by this very check: walking it is cheap. */
	for (i = sl->rule, chain = 0; i != DEST_END; i = s->rules[i].next)
		chain++;
	if (chain >= DEST_KEY_RULES_MAX) {
		snprintf(err, errlen, "'%s': more than %d rules for one "
		    "pattern", text, DEST_KEY_RULES_MAX);
		return -1;
	}
	r = &s->rules[s->nrules];
	r->text = off;
	r->next = sl->rule;
	r->has_port = p->has_port;
	r->lo = p->port_lo;
	r->hi = p->port_hi;
	r->deny = deny;
	r->tag = tag;
	if (clash != NULL && (other = dest_clash(s, sl, r)) != NULL) {
		*clash = other->tag;
		snprintf(err, errlen, "'%s' is given two ways", text);
		return -1;
	}
	sl->rule = (uint32_t)s->nrules++;
	if (!deny && p->kind == DESTPAT_NET)
		s->allow_addr = true;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* dest_add() each blank-separated pattern of list. */
static int
dest_add_words(struct dest_set *s, bool deny, uint16_t tag,
    const char *list, int *clash, char *err, size_t errlen)
{
	static const char blanks[] = " \t";
	const char *p = list;
	size_t len;

	for (p += strspn(p, blanks); *p != '\0'; p += len,
	    p += strspn(p, blanks)) {
		len = strcspn(p, blanks);
		if (dest_add(s, deny, tag, p, len, clash, err, errlen) == -1)
			return -1;
	}
	return 0;
}

int
dest_add_list(struct dest_set *s, enum dest_verdict verdict,
    const char *list, char *err, size_t errlen)
{
	return dest_add_words(s, verdict == DEST_DENY, 0, list, NULL, err,
	    errlen);
}

int
dest_add_tagged(struct dest_set *s, uint16_t tag, const char *list,
    int *clash, char *err, size_t errlen)
{
	*clash = -1;
	return dest_add_words(s, false, tag, list, clash, err, errlen);
}

/*
 * The pattern of one file line, line[0..*len) with '#' comments and
 * blanks cut; -1 if more than one pattern is left.
 */
static int
dest_line(char *line, const char **pat, size_t *len)
{
	static const char blanks[] = " \t\r\n";
	char *hash = strchr(line, '#');
	size_t n;

	if (hash != NULL)
		*hash = '\0';
	line += strspn(line, blanks);
	n = strcspn(line, blanks);
	*pat = line;
	*len = n;
	return line[n + strspn(line + n, blanks)] == '\0' ? 0 : -1;
}

/*
 * Count f's lines and bytes, then rewind it: a block list of a million
 * names is read twice (the second time from the page cache) rather than
 * grown into twenty times.
 */
static int
dest_measure(FILE *f, size_t *lines, size_t *bytes)
{
	char buf[65536];
	const char *p, *end;
	size_t n;

	*lines = 1;
	*bytes = 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		*bytes += n;
		for (p = buf, end = buf + n; (p = memchr(p, '\n',
		    (size_t)(end - p))) != NULL; p++)
			(*lines)++;
	}
	if (ferror(f))
		return -1;
	rewind(f);
	return 0;
}

int
dest_add_file(struct dest_set *s, enum dest_verdict verdict,
    const char *path, char *err, size_t errlen)
{
	char line[DESTPAT_LINE_MAX + 2], why[160];
	const char *pat;
	size_t len, lineno = 0, lines, bytes;
	FILE *f;
	int ret = -1;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (dest_measure(f, &lines, &bytes) == -1) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	/* Every line may be a key: text, NUL and a network's 16 bytes. */
	if (dest_reserve(s, lines, bytes + lines * 17) == -1) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		/* A line that did not fit is refused, never cut in two. */
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%zu: line longer than %d "
			    "bytes", path, lineno, DESTPAT_LINE_MAX);
			goto out;
		}
		if (dest_line(line, &pat, &len) == -1) {
			snprintf(err, errlen, "%s:%zu: one pattern a line",
			    path, lineno);
			goto out;
		}
		if (len > 0 && dest_add(s, verdict == DEST_DENY, 0, pat, len,
		    NULL, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	ret = 0;
out:
	fclose(f);
	return ret;
}

/* Report the pairs of sl's chain that repeat one pattern and port. */
static size_t
dest_warn_key(const struct dest_set *s, const struct dest_slot *sl,
    void (*warn)(void *, const char *), void *arg)
{
	const struct dest_rule *a, *b;
	char msg[DESTPAT_TEXT_MAX + 64];
	uint32_t i, j;
	size_t count = 0;

	for (i = sl->rule; i != DEST_END; i = a->next) {
		a = &s->rules[i];
		for (j = a->next; j != DEST_END; j = b->next) {
			b = &s->rules[j];
			if (a->has_port != b->has_port || a->lo != b->lo ||
			    a->hi != b->hi)
				continue;
			if (a->deny == b->deny)
				snprintf(msg, sizeof(msg), "'%s' is listed "
				    "twice in %s", s->arena + a->text,
				    a->deny ? "deny" : "allow");
			else
				snprintf(msg, sizeof(msg), "'%s' is in both "
				    "allow and deny: deny wins, the allow "
				    "never applies", s->arena + a->text);
			warn(arg, msg);
			count++;
		}
	}
	return count;
}

size_t
dest_warnings(const struct dest_set *s,
    void (*warn)(void *arg, const char *msg), void *arg)
{
	size_t i, count = 0;

	for (i = 0; i < s->nslots; i++)
		if (s->slots[i].hash != DEST_FREE)
			count += dest_warn_key(s, &s->slots[i], warn, arg);
	return count;
}
