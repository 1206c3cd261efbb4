/*
 * cred.h: the Proxy-Authorization field (RFC 9110 §11.6.2) read as Basic
 * credentials (RFC 7617): scheme, strict base64, user and password.
 *
 * Path: after the whitelist and before the destination rules, for every
 * request, plain or CONNECT (issue 16 §1). Not wired in yet.
 *
 * Pure and allocation-free: the decoded bytes go into the caller's
 * struct cred. It checks syntax only; whether the password is right is
 * users.c's business. Any thread.
 *
 * What the caller answers:
 * - CRED_OK: verify user and password; a wrong pair is 407.
 * - CRED_ABSENT, CRED_OTHER_SCHEME: no credentials ferry can use, 407
 *   with Proxy-Authenticate: Basic (a client that sent only Bearer or
 *   Negotiate learns that Basic is offered).
 * - CRED_MALFORMED: 407 too, not 400. The field is well framed (the head
 *   parsed); only the credentials inside it are bad, and RFC 9110 §11.6.2
 *   treats unacceptable credentials as a failed login, as squid does. A
 *   400 would make browsers give up instead of asking the user again, and
 *   would keep the attempt out of the failed-login log line fail2ban reads.
 * - CRED_DUPLICATE (cred_find() only): 400. Two fields are ambiguous:
 *   another hop could pick the other one.
 */
#ifndef FERRY_CRED_H
#define FERRY_CRED_H

#include <stddef.h>

#include "field.h"

/* Longest decoded user:password; a longer one is CRED_MALFORMED. */
#define CRED_DECODED_MAX	1024
/* Longest base64 text: 4 characters per 3 decoded bytes, rounded up. */
#define CRED_TOKEN_MAX		((size_t)(CRED_DECODED_MAX + 2) / 3 * 4)

enum cred_result {
	CRED_OK,		/* Basic credentials, decoded */
	CRED_ABSENT,		/* no Proxy-Authorization field */
	CRED_OTHER_SCHEME,	/* a scheme other than Basic */
	CRED_MALFORMED,		/* Basic, but not valid credentials */
	CRED_DUPLICATE		/* more than one Proxy-Authorization field */
};

/*
 * Decoded credentials. user and password point into buf (owned by the
 * struct, so copying the struct breaks them: keep it where it was filled).
 * Neither holds a control byte (RFC 7617 §2 forbids them; a NUL would
 * also cut the password short inside crypt(), the way DES cut squid's at
 * 8). user is non-empty and holds no ':'; password may hold ':' and be
 * empty. Neither is NUL-terminated.
 */
struct cred {
	char		 buf[CRED_DECODED_MAX];
	const char	*user;
	size_t		 user_len;
	const char	*password;
	size_t		 password_len;
};

/*
 * Read value[0..len), a Proxy-Authorization field value (borrowed, need not
 * be NUL-terminated; the head parser has trimmed its surrounding
 * whitespace). credentials = auth-scheme [ 1*SP token68 ] (RFC 9110 §11.4):
 * the scheme is matched without regard to case, then one or more spaces
 * (a tab is malformed), then base64 of RFC 4648 §4 exactly: its alphabet
 * only, length a multiple of 4, '=' only as the final padding, padding
 * bits zero (so each credential has one spelling), nothing after it.
 * Returns CRED_OK with *out filled, CRED_OTHER_SCHEME or CRED_MALFORMED
 * (never CRED_ABSENT or CRED_DUPLICATE); *out is undefined unless CRED_OK.
 * Reads no byte outside value[0..len), whatever the input.
 */
enum cred_result cred_parse(const char *value, size_t len, struct cred *out);

/*
 * Find the Proxy-Authorization field among fields[0..count) (a parsed
 * head's, borrowed). Returns CRED_OK with *found set to it, CRED_ABSENT
 * (*found NULL) or CRED_DUPLICATE if there are two or more (*found NULL).
 */
enum cred_result cred_find(const struct http_field *fields, size_t count,
    const struct http_field **found);

#endif
