/*
 * dest.h: destination rules, where clients may go (issue 16, sections 3
 * and 4): the rule set built from allow and deny lists of patterns
 * (destpat.h), its two lookups and the verdict that combines them. The
 * internal-address guard of section 4 is in policy.c, with
 * addr_internal_kind() (addr.h).
 *
 * Path: policy.c builds a set per config snapshot; the request path asks
 * dest_match_name() before DNS (gate.c), then dest_match_addr() and
 * dest_decide() on every address about to be connected to
 * (policy_addr_verdict()).
 *
 * No order to get wrong: the most specific matching rule wins, and a
 * tie goes to deny.
 *
 * A set is built by one thread, then only read: any number of threads
 * may look up at once. Lookups are hash probes, one per label of the
 * name and one per prefix length in use; never a scan of the rules.
 */
#ifndef FERRY_DEST_H
#define FERRY_DEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "destpat.h"

/* Rules that may share one pattern (differing by port or by list). */
#define DEST_KEY_RULES_MAX	64
/* Rules in one set: 16M, far above the 1M the issue asks for. */
#define DEST_RULES_MAX		(1u << 24)

enum dest_verdict {
	DEST_NONE,		/* no rule matched */
	DEST_ALLOW,
	DEST_DENY
};

/*
 * The outcome of one lookup. rule borrows the set's canonical text of the
 * rule that decided (".example.com:443"), NULL when none matched; it
 * lives as long as the set.
 */
struct dest_match {
	enum dest_verdict	 verdict;
	const char		*rule;
	unsigned		 prefix;	/* an address rule's prefix
						   length (IPv4 as IPv4) */
	unsigned		 tag;		/* the rule's tag (0 if none) */
};

struct dest_set;

/*
 * A new empty set, or NULL when out of memory. The caller frees it with
 * dest_set_free().
 */
struct dest_set *dest_set_new(void);

/* Free s and everything it holds (NULL is fine). No lookup may run. */
void dest_set_free(struct dest_set *s);

/*
 * Add the patterns of list, separated by spaces or tabs, as rules of
 * verdict (DEST_ALLOW or DEST_DENY). Returns 0, or -1 with the reason in
 * err (the bad pattern, too many rules, out of memory); the rules before
 * the bad one stay added, so a caller that fails drops the whole set.
 * Not thread-safe: build the set before sharing it.
 */
int dest_add_list(struct dest_set *s, enum dest_verdict verdict,
    const char *list, char *err, size_t errlen);

/*
 * As dest_add_list(), for a set whose rules carry a value rather than a
 * verdict (route.c: where a destination goes): each pattern of list
 * becomes an allow rule tagged tag, which a match reports in its tag. A
 * pattern (with the same ports) that is in the set already with another
 * tag is refused: -1, that tag in *clash (-1 for every other failure),
 * err quoting the pattern. Not thread-safe, like dest_add_list().
 */
int dest_add_tagged(struct dest_set *s, uint16_t tag, const char *list,
    int *clash, char *err, size_t errlen);

/*
 * As dest_add_list(), from the file at path: one pattern a line, blank
 * lines and '#' comments (to the end of the line) ignored. A bad line
 * gives -1 with "path:line: reason" in err; so does a line longer than
 * DESTPAT_LINE_MAX.
 */
int dest_add_file(struct dest_set *s, enum dest_verdict verdict,
    const char *path, char *err, size_t errlen);

/* The number of rules in s. */
size_t dest_count(const struct dest_set *s);

/*
 * True if s holds an allow rule of address (CIDR) form: only then can an
 * address allow what no name rule did. Only reads s.
 */
bool dest_has_addr_allow(const struct dest_set *s);

/*
 * The name family: the most specific name rule ("x", ".x", "*") that
 * matches host[0..len) on port: an exact host over a longer suffix over
 * a shorter one over "*"; at one pattern, a rule with a port over one
 * without; then deny over allow. Case and one trailing dot are ignored.
 * An IP literal can match only "*". Fills *m. Only reads s: any thread.
 */
void dest_match_name(const struct dest_set *s, const char *host, size_t len,
    uint16_t port, struct dest_match *m);

/*
 * The address family: the most specific CIDR rule that matches sa (its
 * address and port; an IPv4-mapped IPv6 address matches as IPv4): the
 * longest prefix, then port over no port, then deny over allow. Another
 * family matches nothing. Fills *m. Only reads s: any thread.
 */
void dest_match_addr(const struct dest_set *s, const struct sockaddr *sa,
    struct dest_match *m);

/*
 * The one verdict from both families: DEST_DENY if either most specific
 * match denies; DEST_ALLOW if one allows (and none denies); otherwise
 * dflt (DEST_ALLOW or DEST_DENY) decides. *why is the match that decided,
 * or NULL when dflt did. addr may be NULL before DNS. Pure.
 */
enum dest_verdict dest_decide(const struct dest_match *name,
    const struct dest_match *addr, enum dest_verdict dflt,
    const struct dest_match **why);

/*
 * Report the rules of s that can never apply: a pattern listed twice in
 * the same list, and one in both lists (deny wins). Calls warn(arg, msg)
 * once for each, msg a NUL-terminated line it may not keep. Returns the
 * number of warnings. Only reads s.
 */
size_t dest_warnings(const struct dest_set *s,
    void (*warn)(void *arg, const char *msg), void *arg);

#endif
