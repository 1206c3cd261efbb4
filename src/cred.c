/*
 * cred.c: Basic credentials from a Proxy-Authorization value (see cred.h).
 *
 * One pass over the value with an explicit state, in the manner of
 * http_lex(): scheme, spaces, base64 quartets, padding. Each quartet is
 * decoded as soon as it is complete, so the output can never be more than
 * 3/4 of the input, and the cap is checked before a byte is written. Owns
 * nothing; calls only field.c.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "cred.h"

enum cred_state {
	CS_SCHEME,	/* in the auth-scheme token */
	CS_SPACE,	/* in the 1*SP after "Basic" */
	CS_DATA,	/* in base64 characters */
	CS_PAD		/* after the first '=' */
};

/* The 6-bit value of a base64 character (RFC 4648 §4), or -1. */
static int
cred_b64(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Write the bytes of the n (2..4) sextets in q[] to out->buf at *used.
 * Returns -1 if they would pass CRED_DECODED_MAX or if the bits after
 * the last whole byte are not zero (RFC 4648 §3.5: a second spelling).
 */
static int
cred_flush(struct cred *out, size_t *used, const uint8_t q[4], int n)
{
	uint32_t bits;
	size_t bytes = (size_t)n - 1;

	if (*used + bytes > CRED_DECODED_MAX)
		return -1;
	bits = (uint32_t)q[0] << 18 | (uint32_t)q[1] << 12 |
	    (uint32_t)q[2] << 6 | q[3];
	if ((n == 2 && (bits & 0xffff) != 0) || (n == 3 && (bits & 0xff) != 0))
		return -1;
	out->buf[(*used)++] = (char)(bits >> 16);
	if (bytes > 1)
		out->buf[(*used)++] = (char)(bits >> 8 & 0xff);
	if (bytes > 2)
		out->buf[(*used)++] = (char)(bits & 0xff);
	return 0;
}

/*
 * Split out->buf[0..used) at its first ':' into user and password.
 * RFC 7617 §2: no control characters in either; the user is not empty.
 */
static enum cred_result
cred_split(struct cred *out, size_t used)
{
	const char *colon;
	size_t i;

	for (i = 0; i < used; i++) {
		unsigned char c = (unsigned char)out->buf[i];

		if (c < 0x20 || c == 0x7f)
			return CRED_MALFORMED;
	}
	colon = memchr(out->buf, ':', used);
	if (colon == NULL || colon == out->buf)
		return CRED_MALFORMED;
	out->user = out->buf;
	out->user_len = (size_t)(colon - out->buf);
	out->password = colon + 1;
	out->password_len = used - out->user_len - 1;
	return CRED_OK;
}

/* True if value[0..n) is the scheme name "Basic", in any case. */
static bool
cred_is_basic(const char *value, size_t n)
{
	return n == 5 && strncasecmp(value, "Basic", 5) == 0;
}

/* The base64 decoder's state between bytes. */
struct cred_dec {
	uint8_t	q[4];		/* sextets of the quartet being read */
	int	nq;		/* sextets (and pads) in it so far */
	size_t	used;		/* bytes decoded into out->buf */
	size_t	token;		/* base64 characters seen */
};

/*
 * One byte c of the token68, in state CS_DATA or CS_PAD; *st may move to
 * CS_PAD. Returns 0, or -1 if c makes the token invalid.
 */
static int
cred_token_byte(struct cred_dec *d, enum cred_state *st, unsigned char c,
    struct cred *out)
{
	int v;

	if (++d->token > CRED_TOKEN_MAX)
		return -1;
	if (*st == CS_PAD) {
		/* Only a second '=' completing the quartet may follow. */
		if (c != '=' || d->nq != 3)
			return -1;
		d->nq++;
		return 0;
	}
	if (c == '=') {
		/* Padding ends a quartet of 2 or 3 sextets. */
		if (d->nq < 2 || cred_flush(out, &d->used, d->q, d->nq) == -1)
			return -1;
		d->nq++;
		*st = CS_PAD;
		return 0;
	}
	if ((v = cred_b64(c)) == -1)
		return -1;
	d->q[d->nq++] = (uint8_t)v;
	if (d->nq == 4) {
		if (cred_flush(out, &d->used, d->q, 4) == -1)
			return -1;
		memset(d->q, 0, sizeof(d->q));
		d->nq = 0;
	}
	return 0;
}

/* The verdict when the value ends in state st. */
static enum cred_result
cred_end(const char *value, size_t len, enum cred_state st,
    const struct cred_dec *d, struct cred *out)
{
	switch (st) {
	case CS_SCHEME:
		/* "Basic" alone has no token68; any other scheme is not ours. */
		if (len == 0 || cred_is_basic(value, len))
			return CRED_MALFORMED;
		return CRED_OTHER_SCHEME;
	case CS_SPACE:
		return CRED_MALFORMED;
	case CS_DATA:
		if (d->nq != 0)
			return CRED_MALFORMED;
		break;
	case CS_PAD:
		if (d->nq != 4)
			return CRED_MALFORMED;
		break;
	}
	return cred_split(out, d->used);
}

enum cred_result
cred_parse(const char *value, size_t len, struct cred *out)
{
	enum cred_state st = CS_SCHEME;
	struct cred_dec d;
	size_t i;

	memset(&d, 0, sizeof(d));
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		switch (st) {
		case CS_SCHEME:
			if (field_is_tchar(c))
				break;
			if (c != ' ' || i == 0)
				return CRED_MALFORMED;
			/* Another scheme's parameters are not ours to read. */
			if (!cred_is_basic(value, i))
				return CRED_OTHER_SCHEME;
			st = CS_SPACE;
			break;
		case CS_SPACE:
			/* RFC 9110 §11.4: 1*SP, so several, but never a tab. */
			if (c == ' ')
				break;
			st = CS_DATA;
			if (cred_token_byte(&d, &st, c, out) == -1)
				return CRED_MALFORMED;
			break;
		case CS_DATA:
		case CS_PAD:
			if (cred_token_byte(&d, &st, c, out) == -1)
				return CRED_MALFORMED;
			break;
		}
	}
	return cred_end(value, len, st, &d, out);
}

enum cred_result
cred_find(const struct http_field *fields, size_t count,
    const struct http_field **found)
{
	size_t i;

	*found = NULL;
	for (i = 0; i < count; i++) {
		if (!field_name_is(&fields[i], "Proxy-Authorization"))
			continue;
		if (*found != NULL) {
			*found = NULL;
			return CRED_DUPLICATE;
		}
		*found = &fields[i];
	}
	return *found != NULL ? CRED_OK : CRED_ABSENT;
}
