/*
 * policy.h: a config snapshot's access policy beyond the client address:
 * who may use ferry ([auth]: the users file, the realm, the credential
 * cache) and where they may go ([destinations]: the rule set, its
 * default, the internal-address guard).
 *
 * Path: built by config.c when a snapshot loads (start-up, SIGHUP), from
 * the keys it read; read by gate.c (credentials, destination name) and by
 * upstream.c and conn.c (each address about to be connected to).
 *
 * Everything in a policy is built before the snapshot goes live and only
 * read after, except the credential cache, which locks for itself.
 */
#ifndef FERRY_POLICY_H
#define FERRY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "authcache.h"
#include "dest.h"
#include "users.h"

/* Bytes in a realm; the realm goes into a quoted-string. */
#define POLICY_REALM_MAX	64

/* The [auth] and [destinations] key values, as config.c read them. */
struct policy_spec {
	const char		*users;		/* path, "" for no auth */
	const char		*realm;
	unsigned		 cache_ttl;	/* seconds */
	const char		*allow;		/* pattern lists */
	const char		*deny;
	const char		*allow_file;	/* paths, "" for none */
	const char		*deny_file;
	enum dest_verdict	 dflt;		/* DEST_ALLOW or DEST_DENY */
	bool			 internal_allowed;
};

struct policy {
	bool			 auth;		/* [auth] users is set */
	struct users		 users;
	char			 realm[POLICY_REALM_MAX + 1];
	struct authcache	*cache;		/* NULL without auth */
	struct dest_set		*dest;		/* never NULL once loaded */
	enum dest_verdict	 dflt;
	bool			 internal_allowed;
};

/*
 * Build *p from s: load the users file, make the cache, add the pattern
 * lists and files. Each warning (a users file others can read, a rule
 * that can never apply) goes to warn(arg, msg) as it is found. Returns 0,
 * or -1 with "[section] key: reason" in err and nothing to free. Blocking
 * file I/O: start-up and reload only.
 */
int policy_load(struct policy *p, const struct policy_spec *s,
    void (*warn)(void *arg, const char *msg), void *arg, char *err,
    size_t errlen);

/* Free what p holds; p is empty after. Safe on a zeroed policy. */
void policy_free(struct policy *p);

/* What policy_addr_verdict() says of an address, and which check said so. */
enum policy_verdict {
	POLICY_ALLOW = 0,
	POLICY_DENY_RULE,	/* a deny rule, or default = deny */
	POLICY_DENY_INTERNAL	/* the internal-address guard */
};

/*
 * Whether ferry may connect to sa for a destination whose name family
 * matched *name (dest_match_name() before DNS): the rules' verdict on the
 * name and the address together (dest_decide()), then the internal-
 * address guard, which an allow CIDR rule naming the address overrides.
 * On a refusal, why (whylen bytes) says which rule or guard refused it,
 * for the log; the verdict says which for the metrics. Only reads p: any
 * thread.
 */
enum policy_verdict policy_addr_verdict(const struct policy *p,
    const struct dest_match *name, const struct sockaddr *sa, char *why,
    size_t whylen);

/*
 * True if the name alone refuses the destination, before any DNS: its
 * most specific name rule (dest_match_name()'s *m) is a deny, or no name
 * rule matched, default = deny and no allow rule of address form exists
 * that could still allow one of its addresses. why then says which.
 */
bool policy_name_refused(const struct policy *p, const struct dest_match *m,
    char *why, size_t whylen);

/*
 * For a destination ferry will never see the addresses of (a parent
 * resolves its name, route.h): true if its name alone allows it, that
 * is, its most specific name rule allows it, or none matched and the
 * default is allow. An address rule cannot decide what has no address.
 * On false, why says which rule refused it.
 */
bool policy_name_allows_alone(const struct policy *p,
    const struct dest_match *m, char *why, size_t whylen);

#endif
