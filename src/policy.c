/*
 * policy.c: building a snapshot's access policy, and the per-address
 * verdict (see policy.h).
 *
 * The two halves of the destination rules meet here: dest.c knows
 * rules and which one is most specific, addr.c knows which addresses are
 * internal; the verdict on an address ferry is about to connect to takes
 * both, in that order, so that an admin's explicit allow of a CIDR can
 * open an internal address and nothing else can.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "policy.h"

/* A realm goes into realm="..." as is: printable ASCII, no '"' or '\'. */
static bool
policy_realm_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > POLICY_REALM_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

/* [auth]: the users file and the cache, when users is set. */
static int
policy_load_auth(struct policy *p, const struct policy_spec *s,
    void (*warn)(void *, const char *), void *arg, char *err,
    size_t errlen)
{
	char why[512], note[512];

	if (!policy_realm_ok(s->realm)) {
		snprintf(err, errlen, "[auth] realm: '%s': expected 1 to %d "
		    "printable characters without '\"' or '\\'", s->realm,
		    POLICY_REALM_MAX);
		return -1;
	}
	strcpy(p->realm, s->realm);
	if (s->users[0] == '\0')
		return 0;
	if (users_load(&p->users, s->users, note, sizeof(note), why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "[auth] users: %s", why);
		return -1;
	}
	if (note[0] != '\0')
		warn(arg, note);
	if ((p->cache = authcache_new(s->cache_ttl)) == NULL) {
		snprintf(err, errlen, "[auth] cache_ttl: cannot set up the "
		    "credential cache (out of memory or no randomness)");
		return -1;
	}
	p->auth = true;
	return 0;
}

/* [destinations]: the rule set from both lists and both files. */
static int
policy_load_dest(struct policy *p, const struct policy_spec *s, char *err,
    size_t errlen)
{
	char why[512];

	if ((p->dest = dest_set_new()) == NULL) {
		snprintf(err, errlen, "[destinations]: out of memory");
		return -1;
	}
	if (dest_add_list(p->dest, DEST_ALLOW, s->allow, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "[destinations] allow: %s", why);
		return -1;
	}
	if (dest_add_list(p->dest, DEST_DENY, s->deny, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "[destinations] deny: %s", why);
		return -1;
	}
	if (s->allow_file[0] != '\0' && dest_add_file(p->dest, DEST_ALLOW,
	    s->allow_file, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "[destinations] allow_file: %s", why);
		return -1;
	}
	if (s->deny_file[0] != '\0' && dest_add_file(p->dest, DEST_DENY,
	    s->deny_file, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "[destinations] deny_file: %s", why);
		return -1;
	}
	p->dflt = s->dflt;
	p->internal_allowed = s->internal_allowed;
	return 0;
}

int
policy_load(struct policy *p, const struct policy_spec *s,
    void (*warn)(void *, const char *), void *arg, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if (policy_load_auth(p, s, warn, arg, err, errlen) == -1 ||
	    policy_load_dest(p, s, err, errlen) == -1) {
		policy_free(p);
		return -1;
	}
	(void)dest_warnings(p->dest, warn, arg);
	return 0;
}

void
policy_free(struct policy *p)
{
	users_free(&p->users);
	authcache_free(p->cache);
	dest_set_free(p->dest);
	memset(p, 0, sizeof(*p));
}

bool
policy_name_refused(const struct policy *p, const struct dest_match *m,
    char *why, size_t whylen)
{
	if (m->verdict == DEST_DENY) {
		snprintf(why, whylen, "by deny rule \"%s\"", m->rule);
		return true;
	}
	if (m->verdict == DEST_NONE && p->dflt == DEST_DENY &&
	    !dest_has_addr_allow(p->dest)) {
		snprintf(why, whylen, ": no rule matched, default = deny");
		return true;
	}
	return false;
}

bool
policy_name_allows_alone(const struct policy *p, const struct dest_match *m,
    char *why, size_t whylen)
{
	if (policy_name_refused(p, m, why, whylen))
		return false;
	if (m->verdict == DEST_NONE && p->dflt == DEST_DENY) {
		snprintf(why, whylen, ": no name rule matched, default = deny, "
		    "and the parent resolves the name");
		return false;
	}
	return true;
}

enum policy_verdict
policy_addr_verdict(const struct policy *p, const struct dest_match *name,
    const struct sockaddr *sa, char *why, size_t whylen)
{
	const struct dest_match *decided;
	struct dest_match addr;
	const char *kind;
	unsigned block;
	char text[ADDR_TEXT_MAX];

	dest_match_addr(p->dest, sa, &addr);
	addr_text_port(sa, text, sizeof(text));
	switch (dest_decide(name, &addr, p->dflt, &decided)) {
	case DEST_DENY:
		if (decided != NULL)
			snprintf(why, whylen, "%s refused by deny rule \"%s\"",
			    text, decided->rule);
		else
			snprintf(why, whylen, "%s refused: no rule matched, "
			    "default = deny", text);
		return POLICY_DENY_RULE;
	default:
		break;
	}
	/*
	 * Only an allow CIDR rule that names the address explicitly opens
	 * an internal one: a rule inside its internal block (127.0.0.1,
	 * 169.254.0.0/16), not a wide one that merely covers it (0.0.0.0/0).
	 */
	if (!p->internal_allowed &&
	    (kind = addr_internal_kind(sa, &block)) != NULL &&
	    (addr.verdict != DEST_ALLOW || addr.prefix < block)) {
		snprintf(why, whylen, "%s refused as internal (%s)", text,
		    kind);
		return POLICY_DENY_INTERNAL;
	}
	return POLICY_ALLOW;
}
