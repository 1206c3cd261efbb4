/*
 * fuzz_parent.c: libFuzzer harness for the parent proxy URL reader
 * (parent_parse_url(), percent-decoding included). The input is one URL.
 * Invariants, for every input:
 * - a refused URL has a reason, and the reason quotes nothing that
 *   stood before an '@' (a user, a password);
 * - an accepted one has a port, a host, a log text of its scheme without
 *   '@', credentials of at most 255 bytes with no control byte and a
 *   user without ':', a Basic value exactly for HTTP with credentials;
 * - the same address, written again with every credential byte
 *   percent-encoded, reads back to the same address (one meaning per
 *   URL), and a SOCKS5 URL of it too.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "parent.h"

/* Append "%XX" for each byte of s[0..n) to out at *o. */
static void
encode(char *out, size_t *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		out[(*o)++] = '%';
		out[(*o)++] = hex[(unsigned char)s[i] >> 4];
		out[(*o)++] = hex[(unsigned char)s[i] & 15];
	}
}

/* a written back as a URL, every credential byte encoded. */
static size_t
rewrite(const struct parent_addr *a, char *out)
{
	size_t o;
	bool v6 = strchr(a->host, ':') != NULL;

	o = (size_t)sprintf(out, "%s://", a->kind == PARENT_HTTP ? "http" :
	    "socks5");
	if (a->has_cred) {
		encode(out, &o, a->user, a->user_len);
		out[o++] = ':';
		encode(out, &o, a->pass, a->pass_len);
		out[o++] = '@';
	}
	o += (size_t)sprintf(out + o, "%s%s%s:%u", v6 ? "[" : "", a->host,
	    v6 ? "]" : "", (unsigned)a->port);
	return o;
}

static void
check_accepted(const struct parent_addr *a)
{
	size_t i;

	FUZZ_CHECK(a->port > 0);
	FUZZ_CHECK(a->host[0] != '\0');
	FUZZ_CHECK(strchr(a->text, '@') == NULL);
	FUZZ_CHECK(strncmp(a->text, a->kind == PARENT_HTTP ? "http://" :
	    "socks5://", a->kind == PARENT_HTTP ? 7 : 9) == 0);
	FUZZ_CHECK(a->user_len <= PARENT_CRED_MAX &&
	    a->pass_len <= PARENT_CRED_MAX);
	for (i = 0; i < a->user_len; i++)
		FUZZ_CHECK((unsigned char)a->user[i] >= 0x20 &&
		    a->user[i] != 0x7f && a->user[i] != ':');
	for (i = 0; i < a->pass_len; i++)
		FUZZ_CHECK((unsigned char)a->pass[i] >= 0x20 &&
		    a->pass[i] != 0x7f);
	FUZZ_CHECK(!a->has_cred || a->user_len > 0);
	FUZZ_CHECK((a->basic[0] != '\0') == (a->has_cred &&
	    a->kind == PARENT_HTTP));
	FUZZ_CHECK(a->kind != PARENT_SOCKS5 || !a->has_cred ||
	    a->pass_len > 0);
}

/*
 * For a refused URL: nothing that stood before an '@' (a user, a
 * password) is in the message, which writes "...@" for it.
 */
static void
check_no_password(const char *in, size_t size, const char *err)
{
	const char *at;

	if (memchr(in, '@', size) == NULL)
		return;
	for (at = strchr(err, '@'); at != NULL; at = strchr(at + 1, '@'))
		FUZZ_CHECK(at - err >= 3 && memcmp(at - 3, "...", 3) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct parent_addr a, b;
	static char out[4096], err[512];
	char *in = fuzz_copy(data, size, 0);
	size_t n;

	if (parent_parse_url(in, size, &a, err, sizeof(err)) == -1) {
		FUZZ_CHECK(err[0] != '\0');
		check_no_password(in, size, err);
		free(in);
		return 0;
	}
	check_accepted(&a);
	n = rewrite(&a, out);
	FUZZ_CHECK(parent_parse_url(out, n, &b, err, sizeof(err)) == 0);
	FUZZ_CHECK(b.kind == a.kind && b.port == a.port &&
	    strcmp(b.host, a.host) == 0 && b.has_cred == a.has_cred &&
	    b.user_len == a.user_len && b.pass_len == a.pass_len &&
	    memcmp(b.user, a.user, a.user_len) == 0 &&
	    memcmp(b.pass, a.pass, a.pass_len) == 0 &&
	    strcmp(b.basic, a.basic) == 0 && strcmp(b.text, a.text) == 0);
	free(in);
	return 0;
}
