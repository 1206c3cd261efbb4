/*
 * field.h: header fields (RFC 9110 §5): the record a parser fills in for
 * each one, names compared without regard to case, and the
 * comma-separated lists many field values are (§5.6.1).
 *
 * Path: parse, and every later step that reads a field of a parsed head
 * (rewrite, the loop check, chunked trailers).
 *
 * A leaf: it calls nothing of ferry's, so the parsers above it can share
 * it without calling each other. Everything here is pure: any thread.
 */
#ifndef FERRY_FIELD_H
#define FERRY_FIELD_H

#include <stdbool.h>
#include <stddef.h>

/* One header field. Both pointers borrow the buffer that was parsed. */
struct http_field {
	const char	*name;
	size_t		 name_len;
	const char	*value;		/* without surrounding whitespace */
	size_t		 value_len;
};

/* RFC 9110 §5.6.2 token character. */
bool field_is_tchar(unsigned char c);

/* Case-insensitive compare of f's name with a NUL-terminated name. */
bool field_name_is(const struct http_field *f, const char *name);

/*
 * Is name[0..len) (any case) Host, Content-Length or Transfer-Encoding:
 * a field that frames or routes a message, so that removing it would
 * change what the next hop reads as the message? Neither a Connection
 * option nor [headers] strip may remove one.
 */
bool field_name_frames(const char *name, size_t len);

/*
 * The next element of the comma-separated list value[0..len) from *pos:
 * its leading token in *token (pointing into value) and *token_len (0 if
 * it starts with no token), *pos moved past it. Empty elements are
 * skipped; quoted commas do not separate. Returns false at the end of the
 * list.
 */
bool field_list_next(const char *value, size_t len, size_t *pos,
    const char **token, size_t *token_len);

/*
 * True if the comma-separated list value[0..len) contains token (any case),
 * e.g. "close" in "keep-alive, Close". Elements may carry ";params".
 */
bool field_list_has(const char *value, size_t len, const char *token,
    size_t token_len);

#endif
