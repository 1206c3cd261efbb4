/*
 * chunked.c: the chunked coding state machine (see chunked.h).
 *
 * chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF, ending with a
 * zero-size chunk, optional trailer fields and a blank line. A size is at
 * most 15 hex digits of value (leading zeros are free), so it can never
 * overflow. Extension and trailer lines are bounded in length and number.
 */
#include <stdbool.h>

#include "chunked.h"
#include "field.h"
#include "num.h"

#define CHUNKED_LINE_MAX	4096
#define CHUNKED_TRAILERS_MAX	100
/*
 * A size above this may not take another digit: sizes stay below 2^60 (15
 * significant hex digits), far inside the int64 range framing.c keeps to.
 */
#define CHUNKED_SIZE_MAX	(UINT64_MAX >> 8)
/* Hex digits in a size, leading zeros included: bounds the line. */
#define CHUNKED_DIGITS_MAX	32

void
chunked_init(struct chunked *c)
{
	c->state = CH_SIZE_START;
	c->remaining = 0;
	c->line_len = 0;
	c->trailers = 0;
}

/* A byte allowed inside an extension or trailer line (not CR/LF/CTL). */
static bool
chunked_line_byte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Count a byte of an extension or trailer line against the cap. */
static enum chunked_result
chunked_line(struct chunked *c, unsigned char ch)
{
	if (!chunked_line_byte(ch) || ++c->line_len > CHUNKED_LINE_MAX)
		return CHUNKED_BAD;
	return CHUNKED_MORE;
}

/* The size line: hex digits, then extensions or CR. */
static enum chunked_result
chunked_size_byte(struct chunked *c, unsigned char ch)
{
	int d = num_hex_digit(ch);

	if (d >= 0) {
		if (c->state == CH_SIZE_START)
			c->line_len = 0;
		if (c->remaining > CHUNKED_SIZE_MAX ||
		    ++c->line_len > CHUNKED_DIGITS_MAX)
			return CHUNKED_BAD;
		c->remaining = c->remaining << 4 | (uint64_t)d;
		c->state = CH_SIZE;
		return CHUNKED_MORE;
	}
	if (c->state == CH_SIZE_START)
		return CHUNKED_BAD;	/* no digit at all */
	if (ch == '\r') {
		c->state = CH_SIZE_LF;
		return CHUNKED_MORE;
	}
	if (ch == ';' || ch == ' ' || ch == '\t') {
		/* BWS before ';' and the extension itself, §7.1.1. */
		c->line_len = ch == ';';
		c->state = CH_EXT;
		return CHUNKED_MORE;
	}
	return CHUNKED_BAD;
}

/* One byte outside chunk data. */
static enum chunked_result
chunked_byte(struct chunked *c, unsigned char ch)
{
	switch (c->state) {
	case CH_SIZE_START:
	case CH_SIZE:
		return chunked_size_byte(c, ch);
	case CH_EXT:
		if (ch == '\r') {
			c->state = CH_SIZE_LF;
			return CHUNKED_MORE;
		}
		/* Only blanks may stand between the size and the ';'. */
		if (c->line_len == 0 && (ch == ' ' || ch == '\t'))
			return CHUNKED_MORE;
		if (c->line_len == 0 && ch != ';')
			return CHUNKED_BAD;
		return chunked_line(c, ch);
	case CH_SIZE_LF:
		if (ch != '\n')
			return CHUNKED_BAD;
		c->state = c->remaining > 0 ? CH_DATA : CH_TRAILER_START;
		return CHUNKED_MORE;
	case CH_DATA_CR:
		c->state = CH_DATA_LF;
		return ch == '\r' ? CHUNKED_MORE : CHUNKED_BAD;
	case CH_DATA_LF:
		c->state = CH_SIZE_START;
		return ch == '\n' ? CHUNKED_MORE : CHUNKED_BAD;
	case CH_TRAILER_START:
		if (ch == '\r') {
			c->state = CH_END_LF;
			return CHUNKED_MORE;
		}
		if (!field_is_tchar(ch) || ++c->trailers > CHUNKED_TRAILERS_MAX)
			return CHUNKED_BAD;
		c->line_len = 1;
		c->state = CH_TRAILER;
		return CHUNKED_MORE;
	case CH_TRAILER:
		if (ch == '\r') {
			c->state = CH_TRAILER_LF;
			return CHUNKED_MORE;
		}
		return chunked_line(c, ch);
	case CH_TRAILER_LF:
		c->state = CH_TRAILER_START;
		return ch == '\n' ? CHUNKED_MORE : CHUNKED_BAD;
	case CH_END_LF:
		if (ch != '\n')
			return CHUNKED_BAD;
		c->state = CH_DONE;
		return CHUNKED_DONE;
	default:
		return CHUNKED_BAD;
	}
}

enum chunked_result
chunked_feed(struct chunked *c, const char *buf, size_t len, size_t *used,
    const char **data, size_t *data_len)
{
	size_t i = 0;

	*data = NULL;
	*data_len = 0;
	while (i < len) {
		enum chunked_result r;

		if (c->state == CH_DATA) {
			size_t n = len - i;

			if (n > c->remaining)
				n = (size_t)c->remaining;
			*data = buf + i;
			*data_len = n;
			c->remaining -= n;
			if (c->remaining == 0)
				c->state = CH_DATA_CR;
			*used = i + n;
			return CHUNKED_MORE;
		}
		r = chunked_byte(c, (unsigned char)buf[i++]);
		if (r != CHUNKED_MORE) {
			*used = i;
			return r;
		}
	}
	*used = i;
	return CHUNKED_MORE;
}

enum chunked_result
chunked_scan(const char *buf, size_t len)
{
	struct chunked c;
	size_t off = 0;

	chunked_init(&c);
	while (off < len) {
		const char *data;
		size_t used, data_len;
		enum chunked_result r;

		r = chunked_feed(&c, buf + off, len - off, &used, &data,
		    &data_len);
		if (r != CHUNKED_MORE)
			return r;
		off += used;
	}
	return CHUNKED_MORE;
}
