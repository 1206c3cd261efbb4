/*
 * fuzz_cred.c: libFuzzer harness for the Proxy-Authorization parser
 * (cred.c). The input is the field value. Invariants, for every input:
 * - the verdict is one cred_parse() may give (never ABSENT or DUPLICATE);
 * - an accepted value starts with "Basic " in some case, its decoded
 *   bytes are at most 3/4 of the token and at most CRED_DECODED_MAX, the
 *   user is non-empty without ':', and neither half has a control byte;
 * - an accepted value encoded again from its user and password parses to
 *   the same user and password, and that encoding is the input's token
 *   exactly (one spelling per credential).
 */
#include <strings.h>

#include "cred.h"
#include "fuzz.h"

/* "Basic " and the base64 of in[0..n) into a new heap buffer. */
static char *
encode(const char *in, size_t n, size_t *outlen)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = (const unsigned char *)in;
	char *out = malloc(6 + (n + 2) / 3 * 4);
	size_t i, o = 6;

	FUZZ_CHECK(out != NULL);
	memcpy(out, "Basic ", 6);
	for (i = 0; i < n; i += 3) {
		unsigned long b = (unsigned long)u[i] << 16 |
		    (i + 1 < n ? (unsigned long)u[i + 1] << 8 : 0) |
		    (i + 2 < n ? u[i + 2] : 0);

		out[o++] = a[b >> 18 & 63];
		out[o++] = a[b >> 12 & 63];
		out[o++] = i + 1 < n ? a[b >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[b & 63] : '=';
	}
	*outlen = o;
	return out;
}

static void
check_ok(const struct cred *c, const char *v, size_t len)
{
	char joined[CRED_DECODED_MAX];
	struct cred again;
	size_t i, n, token, elen;
	char *e;

	FUZZ_CHECK(len > 6 && strncasecmp(v, "Basic ", 6) == 0);
	for (token = 0; token < len && v[len - 1 - token] != ' '; token++)
		;
	n = c->user_len + 1 + c->password_len;
	FUZZ_CHECK(n <= CRED_DECODED_MAX && n <= token / 4 * 3);
	FUZZ_CHECK(c->user == c->buf && c->user_len > 0);
	FUZZ_CHECK(c->password == c->buf + c->user_len + 1);
	FUZZ_CHECK(memchr(c->user, ':', c->user_len) == NULL);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)c->buf[i] >= 0x20 &&
		    c->buf[i] != 0x7f);
	memcpy(joined, c->user, c->user_len);
	joined[c->user_len] = ':';
	memcpy(joined + c->user_len + 1, c->password, c->password_len);
	e = encode(joined, n, &elen);
	FUZZ_CHECK(elen - 6 == token &&
	    memcmp(e + 6, v + len - token, token) == 0);
	FUZZ_CHECK(cred_parse(e, elen, &again) == CRED_OK);
	FUZZ_CHECK(again.user_len == c->user_len &&
	    memcmp(again.user, c->user, c->user_len) == 0);
	FUZZ_CHECK(again.password_len == c->password_len &&
	    memcmp(again.password, c->password, c->password_len) == 0);
	free(e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cred c;
	char *v = fuzz_copy(data, size, 0);
	enum cred_result r = cred_parse(v, size, &c);

	FUZZ_CHECK(r == CRED_OK || r == CRED_OTHER_SCHEME ||
	    r == CRED_MALFORMED);
	if (r == CRED_OK)
		check_ok(&c, v, size);
	free(v);
	return 0;
}
