/*
 * fuzz_socks5.c: libFuzzer harness for the SOCKS5 reply parsers
 * (socks5.c). The input is a parent's reply, given to all three parsers:
 * the method selection (as if either method had been offered), the
 * username/password reply and the CONNECT reply. Invariants, for every
 * input, each parse from an exact-size heap copy (ASan sees a read past
 * the end):
 * - every prefix gives PARTIAL or already the whole input's verdict, so
 *   however the bytes arrive the verdict is the same;
 * - the two-byte replies are decided by their first two bytes alone, and
 *   DONE/DENIED say exactly what those bytes say;
 * - a CONNECT reply PARTIAL asks for more than it has and never more than
 *   SOCKS5_REPLY_MAX (nor, once the whole is DONE, more than the reply);
 *   DONE comes with the length ATYP gives, within the input, and the
 *   reply alone, cut at that length, parses to the same verdict;
 * - reading the way the driver reads, exactly *need bytes at a time,
 *   reaches the same verdict.
 */
#include "fuzz.h"
#include "socks5.h"

/* Prefixes checked: the parsers never look past the longest reply. */
#define PREFIX_MAX	(SOCKS5_REPLY_MAX + 2)

static enum socks5_result
method_at(const uint8_t *data, size_t len, bool auth, uint8_t *m)
{
	uint8_t *b = (uint8_t *)fuzz_copy(data, len, 0);
	enum socks5_result r = socks5_parse_method(b, len, auth, m);

	free(b);
	return r;
}

static enum socks5_result
auth_at(const uint8_t *data, size_t len, uint8_t *st)
{
	uint8_t *b = (uint8_t *)fuzz_copy(data, len, 0);
	enum socks5_result r = socks5_parse_auth(b, len, st);

	free(b);
	return r;
}

static enum socks5_result
reply_at(const uint8_t *data, size_t len, size_t *need, uint8_t *rep)
{
	uint8_t *b = (uint8_t *)fuzz_copy(data, len, 0);
	enum socks5_result r = socks5_parse_reply(b, len, need, rep);

	free(b);
	return r;
}

static void
check_method(const uint8_t *data, size_t size, bool auth)
{
	uint8_t m = 0, pm = 0, offered = auth ? SOCKS5_METHOD_USERPASS :
	    SOCKS5_METHOD_NONE;
	enum socks5_result r = method_at(data, size, auth, &m), pr;
	size_t k;

	if (size >= 1 && data[0] != 5)
		FUZZ_CHECK(r == SOCKS5_BAD);
	else if (size < 2)
		FUZZ_CHECK(r == SOCKS5_PARTIAL);
	else
		FUZZ_CHECK(m == data[1] && r == (data[1] == offered ?
		    SOCKS5_DONE : SOCKS5_DENIED));
	for (k = 0; k < size && k < PREFIX_MAX; k++) {
		pr = method_at(data, k, auth, &pm);
		FUZZ_CHECK(pr == SOCKS5_PARTIAL || pr == r);
		FUZZ_CHECK(k < 2 || pr == r);
	}
}

static void
check_auth(const uint8_t *data, size_t size)
{
	uint8_t st = 0, pst = 0;
	enum socks5_result r = auth_at(data, size, &st), pr;
	size_t k;

	if (size >= 1 && data[0] != 1)
		FUZZ_CHECK(r == SOCKS5_BAD);
	else if (size < 2)
		FUZZ_CHECK(r == SOCKS5_PARTIAL);
	else
		FUZZ_CHECK(st == data[1] && r == (data[1] == 0 ?
		    SOCKS5_DONE : SOCKS5_DENIED));
	for (k = 0; k < size && k < PREFIX_MAX; k++) {
		pr = auth_at(data, k, &pst);
		FUZZ_CHECK(pr == SOCKS5_PARTIAL || pr == r);
		FUZZ_CHECK(k < 2 || pr == r);
	}
}

/* The length a complete reply starting like data has, per its ATYP. */
static size_t
reply_len(const uint8_t *data)
{
	switch (data[3]) {
	case 1:
		return 10;
	case 4:
		return 22;
	default:
		return 7 + (size_t)data[4];
	}
}

/* Read as socks5_handshake() reads: exactly up to *need each time. */
static void
check_stepwise(const uint8_t *data, size_t size, enum socks5_result r,
    size_t need)
{
	size_t got = 0, n = 0;
	uint8_t rep = 0;
	enum socks5_result sr;

	while ((sr = reply_at(data, got, &n, &rep)) == SOCKS5_PARTIAL) {
		FUZZ_CHECK(n > got && n <= SOCKS5_REPLY_MAX);
		if (got == size)
			break;
		got = n < size ? n : size;
	}
	if (sr != SOCKS5_PARTIAL)
		FUZZ_CHECK(sr == r);
	if (sr == SOCKS5_DONE)
		FUZZ_CHECK(n == need && got == need);
}

static void
check_reply(const uint8_t *data, size_t size)
{
	size_t need = 0, pneed, k;
	uint8_t rep = 0, prep;
	enum socks5_result r = reply_at(data, size, &need, &rep), pr;

	FUZZ_CHECK(r != SOCKS5_DENIED);
	if (r == SOCKS5_PARTIAL)
		FUZZ_CHECK(need > size && need <= SOCKS5_REPLY_MAX);
	if (r == SOCKS5_DONE) {
		FUZZ_CHECK(size >= 5 && need <= size);
		FUZZ_CHECK(data[0] == 5 && data[2] == 0);
		FUZZ_CHECK(data[3] == 1 || data[3] == 3 || data[3] == 4);
		FUZZ_CHECK(data[3] != 3 || data[4] != 0);
		FUZZ_CHECK(need == reply_len(data) && rep == data[1]);
		/* The reply alone: nothing after it was needed. */
		pr = reply_at(data, need, &pneed, &prep);
		FUZZ_CHECK(pr == SOCKS5_DONE && pneed == need && prep == rep);
	}
	for (k = 0; k < size && k < PREFIX_MAX; k++) {
		pneed = 0;
		pr = reply_at(data, k, &pneed, &prep);
		if (pr == SOCKS5_PARTIAL) {
			FUZZ_CHECK(pneed > k && pneed <= SOCKS5_REPLY_MAX);
			FUZZ_CHECK(r != SOCKS5_DONE || pneed <= need);
			continue;
		}
		FUZZ_CHECK(pr == r);
		if (r == SOCKS5_DONE)
			FUZZ_CHECK(pneed == need && prep == rep);
	}
	check_stepwise(data, size, r, need);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_method(data, size, false);
	check_method(data, size, true);
	check_auth(data, size);
	check_reply(data, size);
	return 0;
}
