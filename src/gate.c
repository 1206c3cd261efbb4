/*
 * gate.c: credentials and the destination's name (see gate.h).
 *
 * A login is checked the cheap way first: parse the field (cred.c), then
 * ask the cache (authcache.c); only a miss pays the password hash
 * (users.c), and only a success is remembered. A failed login is logged
 * at warn in one fixed form, for fail2ban:
 *
 *   auth failed: client ADDR user "NAME": REASON
 *
 * with NAME escaped (access_escape()) so that no name can forge the rest
 * of the line, and the password never written anywhere.
 */
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "cred.h"
#include "destpat.h"
#include "gate.h"
#include "io.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"

/* The value of a 407's Proxy-Authenticate, with ferry's realm. */
#define GATE_CHALLENGE_MAX	(POLICY_REALM_MAX + 64)

/* Answer 407, asking for Basic credentials in the configured realm. */
static void
gate_challenge(struct conn *c)
{
	char field[GATE_CHALLENGE_MAX];

	metrics_refused(METRICS_REFUSED_CREDENTIALS);
	snprintf(field, sizeof(field), "Proxy-Authenticate: Basic "
	    "realm=\"%s\", charset=\"UTF-8\"\r\n", conn_rules(c)->policy.realm);
	conn_refuse(c, 407, "This proxy needs a user name and password.",
	    field);
}

/* The failed-login line (see the top of the file), and the 407. */
static void
gate_login_failed(struct conn *c, const char *user, size_t len,
    const char *reason)
{
	char name[ACCESS_USER_MAX];

	access_escape(user, len, name);
	log_msg(LOGL_WARN, "auth failed: client %s user \"%s\": %s",
	    c->client_ip, name, reason);
	/* The name is in the line above: the log line need not repeat it. */
	snprintf(c->x.why, sizeof(c->x.why), "auth failed: %s", reason);
	gate_challenge(c);
}

/* Whether cr's user and password are right: the cache, else the hash. */
static bool
gate_verify(struct conn *c, const struct cred *cr)
{
	const struct policy *p = &conn_rules(c)->policy;
	uint64_t now = io_now_ms();

	if (authcache_hit(p->cache, cr->user, cr->user_len, cr->password,
	    cr->password_len, now)) {
		trace_stage(&c->trace, "auth: user \"%.*s\" verified (cached)",
		    (int)cr->user_len, cr->user);
		return true;
	}
	if (!users_verify(&p->users, cr->user, cr->user_len, cr->password,
	    cr->password_len))
		return false;
	authcache_store(p->cache, cr->user, cr->user_len, cr->password,
	    cr->password_len, now);
	trace_stage(&c->trace, "auth: user \"%.*s\" verified (hashed, %llu "
	    "ms)", (int)cr->user_len, cr->user,
	    (unsigned long long)(io_now_ms() - now));
	return true;
}

/* [auth]: true if the request carries a known user's right password. */
static bool
gate_auth(struct conn *c)
{
	const struct policy *p = &conn_rules(c)->policy;
	const struct http_field *f = NULL;
	enum cred_result r;
	struct cred cr;
	bool ok;

	if (!p->auth)
		return true;
	r = cred_find(c->x.req.fields, c->x.req.nfields, &f);
	if (r == CRED_DUPLICATE) {
		snprintf(c->x.why, sizeof(c->x.why), "two Proxy-Authorization "
		    "fields");
		conn_fail(c, 400, "The request has more than one "
		    "Proxy-Authorization field.");
		return false;
	}
	if (r == CRED_OK)
		r = cred_parse(f->value, f->value_len, &cr);
	switch (r) {
	case CRED_OK:
		break;
	case CRED_MALFORMED:
		explicit_bzero(&cr, sizeof(cr));
		gate_login_failed(c, "-", 1, "malformed credentials");
		return false;
	default:
		/* The normal first request of a client: no failure. */
		snprintf(c->x.why, sizeof(c->x.why), "no Basic credentials: "
		    "asked for them");
		gate_challenge(c);
		return false;
	}
	ok = gate_verify(c, &cr);
	if (!ok)
		gate_login_failed(c, cr.user, cr.user_len,
		    users_has(&p->users, cr.user, cr.user_len) ?
		    "wrong password" : "unknown user");
	else if (cr.user_len < sizeof(c->x.user)) {
		/* users.c names fit; cred.c refuses control bytes. */
		memcpy(c->x.user, cr.user, cr.user_len);
		c->x.user[cr.user_len] = '\0';
	}
	/* The password in clear stays on this stack no longer. */
	explicit_bzero(&cr, sizeof(cr));
	return ok;
}

/* [destinations]: the host as written, before any DNS. */
static bool
gate_destination(struct conn *c)
{
	const struct uri *u = &c->x.req.uri;
	char detail[URI_HOST_MAX + 96], why[DESTPAT_TEXT_MAX + 32];

	switch (destpat_literal(u->host, u->host_len)) {
	case DESTPAT_LIT_NUMERIC:
		snprintf(c->x.why, sizeof(c->x.why), "numeric host in a form "
		    "other than four decimal octets");
		conn_fail(c, 400, "The host is not a valid IP address.");
		return false;
	case DESTPAT_LIT_BAD:
		/* The rules could not read it, so no rule may be skipped. */
		snprintf(c->x.why, sizeof(c->x.why), "host is no valid name: "
		    "labels of 1 to 63 letters, digits, '-' or '_'");
		conn_fail(c, 400, "The host is not a valid host name.");
		return false;
	default:
		break;
	}
	dest_match_name(conn_rules(c)->policy.dest, u->host, u->host_len, u->port,
	    &c->x.dest_name);
	if (policy_name_refused(&conn_rules(c)->policy, &c->x.dest_name, why,
	    sizeof(why))) {
		snprintf(c->x.why, sizeof(c->x.why), "destination refused%s%s",
		    why[0] == ':' ? "" : " ", why);
		metrics_refused(METRICS_REFUSED_DESTINATION);
		conn_refuse(c, 403, conn_denied_detail(c, detail,
		    sizeof(detail)), NULL);
		return false;
	}
	if (c->x.dest_name.rule != NULL)
		trace_stage(&c->trace, "destination %.*s allowed so far by "
		    "name rule \"%s\"", (int)u->authority_len, u->authority,
		    c->x.dest_name.rule);
	return true;
}

bool
gate_check(struct conn *c)
{
	return gate_auth(c) && gate_destination(c);
}
