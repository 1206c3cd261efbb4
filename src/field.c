/*
 * field.c: header fields and field-value lists (see field.h).
 *
 * A list element may hold a quoted-string (RFC 9110 §5.6.4) whose commas
 * do not separate elements, so the walk steps over quotes and their
 * backslash escapes rather than splitting on every comma.
 */
#include <string.h>
#include <strings.h>

#include "field.h"

bool
field_is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool
field_name_is(const struct http_field *f, const char *name)
{
	return strlen(name) == f->name_len &&
	    strncasecmp(f->name, name, f->name_len) == 0;
}

bool
field_name_frames(const char *name, size_t len)
{
	static const char *const framing[] = {
		"Host", "Content-Length", "Transfer-Encoding"
	};
	size_t i;

	for (i = 0; i < sizeof(framing) / sizeof(framing[0]); i++)
		if (strlen(framing[i]) == len &&
		    strncasecmp(name, framing[i], len) == 0)
			return true;
	return false;
}

/*
 * Skip from i to the comma ending a list element, stepping over
 * quoted-strings: a comma inside quotes is not a separator. Returns the
 * index of that comma, or len.
 */
static size_t
field_skip_element(const char *value, size_t len, size_t i)
{
	bool quoted = false;

	for (; i < len; i++) {
		if (quoted && value[i] == '\\' && i + 1 < len)
			i++;
		else if (value[i] == '"')
			quoted = !quoted;
		else if (!quoted && value[i] == ',')
			break;
	}
	return i;
}

bool
field_list_next(const char *value, size_t len, size_t *pos,
    const char **token, size_t *token_len)
{
	size_t i = *pos, start;

	while (i < len && (value[i] == ' ' || value[i] == '\t' ||
	    value[i] == ','))
		i++;
	if (i >= len) {
		*pos = len;
		return false;
	}
	start = i;
	while (i < len && field_is_tchar((unsigned char)value[i]))
		i++;
	*token = value + start;
	*token_len = i - start;
	*pos = field_skip_element(value, len, i);
	return true;
}

bool
field_list_has(const char *value, size_t len, const char *token,
    size_t token_len)
{
	const char *t;
	size_t pos = 0, n;

	while (field_list_next(value, len, &pos, &t, &n))
		if (n == token_len && strncasecmp(t, token, token_len) == 0)
			return true;
	return false;
}
