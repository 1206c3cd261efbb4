/*
 * explain.c: what the configuration does with a destination (see
 * explain.h).
 *
 *   example.com:80: allowed (no rule matched, default = allow; its
 *       addresses are checked when connecting); route: direct (default)
 *   www.corp.example:80: allowed by rule ".corp.example"; route: parent
 *       corp (rule ".corp.example"): http://proxy1:3128 http://proxy2:3128
 *
 * (one line each; wrapped here).
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "dest.h"
#include "destpat.h"
#include "explain.h"
#include "route.h"
#include "uri.h"

/* The [destinations] verdict on u into buf; true if allowed. */
static bool
explain_verdict(const struct ferry_config *cfg, const struct uri *u,
    const struct route *r, char *buf, size_t cap)
{
	const struct policy *p = &cfg->policy;
	struct dest_match m, am;
	struct sockaddr_storage ss;
	char why[ADDR_TEXT_MAX + DESTPAT_TEXT_MAX + 96];
	bool literal = addr_from_literal(u->host, u->host_len, u->port, &ss);

	dest_match_name(p->dest, u->host, u->host_len, u->port, &m);
	/* A literal's address is known: address rules may allow it. */
	if (r->parent != NULL && !literal ? !policy_name_allows_alone(p, &m,
	    why, sizeof(why)) : policy_name_refused(p, &m, why, sizeof(why))) {
		snprintf(buf, cap, "refused%s%.300s", why[0] == ':' ? "" : " ",
		    why);
		return false;
	}
	if (literal && policy_addr_verdict(p, &m, (const struct sockaddr *)&ss,
	    why, sizeof(why)) != POLICY_ALLOW) {
		snprintf(buf, cap, "refused: %.300s", why);
		return false;
	}
	/* For a literal, an allow CIDR rule may be what let it through. */
	if (literal && m.rule == NULL) {
		dest_match_addr(p->dest, (const struct sockaddr *)&ss, &am);
		m = am;
	}
	if (m.rule != NULL)
		snprintf(buf, cap, "allowed by rule \"%s\"%s", m.rule,
		    literal || r->parent != NULL ? "" : " (its addresses are "
		    "checked too, when connecting)");
	else
		snprintf(buf, cap, "allowed (no rule matched, default = %s%s)",
		    p->dflt == DEST_ALLOW ? "allow" : "deny, an address rule "
		    "may allow", literal || r->parent != NULL ? "" : "; its "
		    "addresses are checked when connecting");
	return true;
}

/* The route r as "direct (default)" or "parent NAME (rule ...): URLs". */
static void
explain_route(const struct route *r, FILE *out)
{
	char name[PARENT_NAME_MAX + 16];
	size_t i;

	fprintf(out, "route: %s (%s%s%s)", route_name(r, name, sizeof(name)),
	    r->rule != NULL ? "rule \"" : "default",
	    r->rule != NULL ? r->rule : "", r->rule != NULL ? "\"" : "");
	if (r->parent == NULL)
		return;
	fputc(':', out);
	for (i = 0; i < r->parent->naddrs; i++)
		fprintf(out, " %s", r->parent->addr[i].text);
}

int
explain_destination(const struct ferry_config *cfg, const char *text,
    FILE *out)
{
	char url[URI_HOST_MAX + 32], verdict[512];
	const char *why = NULL;
	struct route r;
	struct uri u;
	int n;
	bool ok;

	n = snprintf(url, sizeof(url), "http://%s", text);
	if (n < 0 || (size_t)n >= sizeof(url) || uri_parse_absolute(url,
	    (size_t)n, &u, &why) != 0 || u.path_len != 0) {
		fprintf(out, "%s: not a destination: expected HOST, HOST:PORT "
		    "or [IPv6]:PORT%s%s\n", text, why != NULL ? ": " : "",
		    why != NULL ? why : "");
		return -1;
	}
	switch (destpat_literal(u.host, u.host_len)) {
	case DESTPAT_LIT_NUMERIC:
	case DESTPAT_LIT_BAD:
		fprintf(out, "%s: refused with 400: not a valid host name or "
		    "IP address\n", text);
		return 1;
	default:
		break;
	}
	route_lookup(&cfg->routes, u.host, u.host_len, u.port, &r);
	ok = explain_verdict(cfg, &u, &r, verdict, sizeof(verdict));
	fprintf(out, "%s%.*s%s:%u: %s; ", memchr(u.host, ':', u.host_len) ?
	    "[" : "", (int)u.host_len, u.host, memchr(u.host, ':',
	    u.host_len) ? "]" : "", (unsigned)u.port, verdict);
	explain_route(&r, out);
	fputc('\n', out);
	return ok ? 0 : 1;
}
