/*
 * config.c: INI file → struct ferry_config (see config.h).
 *
 * One table lists every key with its type, range and default text. Defaults
 * go through the same parser as file values, so a default can never be
 * something the file could not say. iniparser is only used to read the file:
 * numbers are parsed here because iniparser_getint() accepts "80x" and octal.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <unistd.h>

#include <iniparser.h>
#include <pthread.h>

#include "config.h"
#include "field.h"
#include "inirepeat.h"
#include "num.h"

enum config_type {
	CFG_LISTEN,	/* host:port, [v6]:port or *:port; a list */
	CFG_METRICS,	/* empty, or one address as CFG_LISTEN */
	CFG_TEXT,	/* free text, may be empty */
	CFG_USER,	/* empty, or an existing user name */
	CFG_GROUP,	/* empty, or an existing group name */
	CFG_UINT,	/* decimal in [min, max] */
	CFG_BOOL,	/* yes/no, true/false, on/off, 1/0 */
	CFG_MODE,	/* pool | thread */
	CFG_LEVEL,	/* error | warn | info | debug */
	CFG_PORTS,	/* comma list of ports */
	CFG_NAMES,	/* comma list of header names */
	CFG_LIST,	/* a pattern list, up to CONFIG_LIST_MAX bytes */
	CFG_VERDICT,	/* allow | deny */
	CFG_TOKEN	/* empty, or an HTTP token of CONFIG_NAME_MAX - 1 */
};

struct config_key {
	const char		*key;	/* "section:name", as iniparser spells it */
	enum config_type	 type;
	size_t			 offset;
	unsigned		 min, max;
	const char		*def;
};

#define OFF(field) offsetof(struct ferry_config, field)

static const struct config_key config_keys[] = {
	{ "server:listen", CFG_LISTEN, OFF(listen), 0, 0, "127.0.0.1:3128" },
	{ "server:user", CFG_USER, OFF(user), 0, 0, "" },
	{ "server:group", CFG_GROUP, OFF(group), 0, 0, "" },
	{ "server:pidfile", CFG_TEXT, OFF(pidfile), 0, 0, "" },
	{ "server:drain_timeout", CFG_UINT, OFF(drain_timeout), 0, 3600, "10" },
	{ "pool:mode", CFG_MODE, OFF(mode), 0, 0, "pool" },
	{ "pool:workers", CFG_UINT, OFF(workers), 1, 4096, "32" },
	{ "pool:queue", CFG_UINT, OFF(queue), 1, 65536, "256" },
	{ "pool:max_clients", CFG_UINT, OFF(max_clients), 1, 65536, "1024" },
	{ "pool:stack_kb", CFG_UINT, OFF(stack_kb), 64, 65536, "256" },
	{ "upstream:connect_timeout", CFG_UINT, OFF(connect_timeout), 1, 3600,
	    "5" },
	{ "upstream:io_timeout", CFG_UINT, OFF(io_timeout), 1, 86400, "60" },
	{ "upstream:retries", CFG_UINT, OFF(retries), 0, 10, "2" },
	{ "upstream:keepalive_per_host", CFG_UINT, OFF(keepalive_per_host), 0,
	    1024, "8" },
	{ "upstream:keepalive_max", CFG_UINT, OFF(keepalive_max), 0, 65536,
	    "256" },
	{ "upstream:keepalive_timeout", CFG_UINT, OFF(keepalive_timeout), 1,
	    3600, "30" },
	{ "client:header_timeout", CFG_UINT, OFF(header_timeout), 1, 3600,
	    "15" },
	{ "client:idle_timeout", CFG_UINT, OFF(idle_timeout), 1, 86400, "60" },
	{ "client:min_rate", CFG_UINT, OFF(min_rate), 0, 1048576, "1024" },
	{ "limits:max_header_bytes", CFG_UINT, OFF(max_header_bytes), 1024,
	    1048576, "32768" },
	{ "limits:max_headers", CFG_UINT, OFF(max_headers), 1, 10000, "100" },
	{ "limits:max_uri_bytes", CFG_UINT, OFF(max_uri_bytes), 16, 1048576,
	    "8192" },
	{ "connect:ports", CFG_PORTS, OFF(connect_ports), 0, 0, "443" },
	{ "headers:via", CFG_BOOL, OFF(via), 0, 0, "yes" },
	{ "headers:via_name", CFG_TOKEN, OFF(via_name), 0, 0, "" },
	{ "headers:forwarded_for", CFG_BOOL, OFF(forwarded_for), 0, 0, "no" },
	{ "headers:strip", CFG_NAMES, OFF(strip), 0, 0, "" },
	{ "auth:users", CFG_TEXT, OFF(auth_users), 0, 0, "" },
	{ "auth:realm", CFG_TEXT, OFF(auth_realm), 0, 0, "ferry" },
	{ "auth:cache_ttl", CFG_UINT, OFF(auth_cache_ttl), 0, 86400, "300" },
	{ "destinations:default", CFG_VERDICT, OFF(dest_default), 0, 0,
	    "allow" },
	{ "destinations:allow", CFG_LIST, OFF(dest_allow), 0, 0, "" },
	{ "destinations:deny", CFG_LIST, OFF(dest_deny), 0, 0, "" },
	{ "destinations:allow_file", CFG_TEXT, OFF(dest_allow_file), 0, 0,
	    "" },
	{ "destinations:deny_file", CFG_TEXT, OFF(dest_deny_file), 0, 0, "" },
	{ "destinations:internal", CFG_VERDICT, OFF(dest_internal), 0, 0,
	    "deny" },
	{ "parents:down_after", CFG_UINT, OFF(routes.down_after), 1, 1000,
	    "3" },
	{ "parents:retry_after", CFG_UINT, OFF(routes.retry_after), 1, 86400,
	    "30" },
	{ "proxy_protocol:listen", CFG_TEXT, OFF(proxy_listen), 0, 0, "" },
	{ "proxy_protocol:from", CFG_LIST, OFF(proxy_from_text), 0, 0,
	    "127.0.0.1 ::1" },
	{ "metrics:listen", CFG_METRICS, OFF(metrics_listen), 0, 0, "" },
	{ "metrics:allow", CFG_LIST, OFF(metrics_allow_text), 0, 0,
	    "127.0.0.1 ::1" },
	{ "log:level", CFG_LEVEL, OFF(log_level), 0, 0, "info" },
	{ "log:target", CFG_TEXT, OFF(log_target), 0, 0, "stderr" },
	{ "log:access", CFG_TEXT, OFF(log_access), 0, 0, "" },
};

#define NKEYS nitems(config_keys)

static const char *const config_sections[] = {
	"server", "pool", "upstream", "client", "limits", "connect",
	"headers", "auth", "destinations", "parents", "routes", "metrics",
	"proxy_protocol", "log", "whitelist"
};

/* Format an error as "FILE: [section] key = 'value': why". */
static void __attribute__((format(printf, 5, 6)))
config_error(char *err, size_t errlen, const char *path, const char *key,
    const char *fmt, ...)
{
	char why[256];
	va_list ap;
	const char *colon = strchr(key, ':');

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (colon == NULL)
		snprintf(err, errlen, "%s: [%s]: %s", path, key, why);
	else
		snprintf(err, errlen, "%s: [%.*s] %s: %s", path,
		    (int)(colon - key), key, colon + 1, why);
}

/* Parse "a.b.c.d:port", "[v6]:port" or "*:port" s[0..slen) into *l. */
static int
config_parse_listen(const char *s, size_t slen, struct config_listen *l)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	size_t hlen;
	uint64_t port;
	bool bracketed = false;
	struct sockaddr_in *sin = (struct sockaddr_in *)&l->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->addr;

	if (slen >= sizeof(l->text))
		return -1;
	memcpy(l->text, s, slen);
	l->text[slen] = '\0';
	colon = strrchr(l->text, ':');
	if (colon == NULL || num_parse_dec(colon + 1, strlen(colon + 1), 65535,
	    &port) == -1 || port == 0)
		return -1;
	s = l->text;
	hlen = (size_t)(colon - s);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		s++;
		hlen -= 2;
		bracketed = true;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(&l->addr, 0, sizeof(l->addr));
	/* IPv6 only in brackets: "::1:3128" could be an address alone. */
	if ((!bracketed && strcmp(host, "*") == 0) || (bracketed &&
	    inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1)) {
		/* "*" is the IPv6 any address; the listener is dual-stack. */
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		l->len = sizeof(*sin6);
		return 0;
	}
	if (bracketed || inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	l->len = sizeof(*sin);
	return 0;
}

/* One address of a listen list: parsed, and not listed twice. */
static int
config_add_listen(void *ctx, const char *s, size_t len)
{
	struct ferry_config *cfg = ctx;
	struct config_listen *l;
	size_t i;

	if (cfg->nlistens == CONFIG_MAX_LISTEN)
		return -1;
	l = &cfg->listens[cfg->nlistens];
	if (config_parse_listen(s, len, l) == -1)
		return -1;
	for (i = 0; i < cfg->nlistens; i++)
		if (cfg->listens[i].len == l->len &&
		    memcmp(&cfg->listens[i].addr, &l->addr, l->len) == 0)
			return -1;
	cfg->nlistens++;
	return 0;
}

/* Parse a boolean word; -1 if it is none of the accepted spellings. */
static int
config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
			*out = strcasecmp(s, yes[i]) == 0;
			return 0;
		}
	}
	return -1;
}

/*
 * Call item(ctx, p, len) for each comma/space separated item of s; stops at
 * the first item returning -1, and returns -1 then.
 */
static int
config_each_item(const char *s, int (*item)(void *, const char *, size_t),
    void *ctx)
{
	static const char seps[] = " \t,";
	size_t len;

	for (s += strspn(s, seps); *s != '\0'; s += len, s += strspn(s, seps)) {
		len = strcspn(s, seps);
		if (item(ctx, s, len) == -1)
			return -1;
	}
	return 0;
}

static int
config_add_port(void *ctx, const char *s, size_t len)
{
	struct ferry_config *cfg = ctx;
	uint64_t port;

	if (cfg->nconnect_ports == CONFIG_MAX_PORTS ||
	    num_parse_dec(s, len, 65535, &port) == -1 || port == 0)
		return -1;
	cfg->connect_ports[cfg->nconnect_ports++] = (uint16_t)port;
	return 0;
}

static int
config_add_strip(void *ctx, const char *s, size_t len)
{
	struct ferry_config *cfg = ctx;
	size_t i;

	/* Stripping the framing would desync the next hop: refused. */
	if (cfg->nstrip == CONFIG_MAX_STRIP || len >= CONFIG_NAME_MAX ||
	    field_name_frames(s, len))
		return -1;
	for (i = 0; i < len; i++)
		if (!field_is_tchar((unsigned char)s[i]))
			return -1;
	memcpy(cfg->strip[cfg->nstrip], s, len);
	cfg->strip[cfg->nstrip][len] = '\0';
	cfg->nstrip++;
	return 0;
}

/* Copy s into a text field of CONFIG_TEXT_MAX or CONFIG_NAME_MAX bytes. */
static int
config_copy_text(char *dst, size_t cap, const char *s)
{
	if (strlen(s) >= cap)
		return -1;
	strcpy(dst, s);
	return 0;
}

/* A Via received-by name: a token (RFC 9110 §5.6.2), empty allowed. */
static bool
config_is_token(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!field_is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * The Via name when [headers] via_name is empty: the host name, like
 * squid's visible_hostname, so that each instance of a chain has its own;
 * "ferry" if the host name is no token.
 */
static void
config_default_via_name(struct ferry_config *cfg)
{
	char host[256] = "";

	if (cfg->via_name[0] != '\0')
		return;
	if (gethostname(host, sizeof(host)) == 0 &&
	    host[sizeof(host) - 1] == '\0' && host[0] != '\0' &&
	    config_is_token(host) && strlen(host) < sizeof(cfg->via_name))
		strcpy(cfg->via_name, host);
	else
		strcpy(cfg->via_name, "ferry");
}

/*
 * Parse value s for key k into cfg. Returns 0, or -1 with the reason in
 * why (a short phrase).
 */
static int
config_set(struct ferry_config *cfg, const struct config_key *k,
    const char *s, const char **why)
{
	char *field = (char *)cfg + k->offset;
	uint64_t v;

	switch (k->type) {
	case CFG_LISTEN:
		*why = "expected addresses IPv4:port, [IPv6]:port or *:port, "
		    "each once (at most 16)";
		cfg->nlistens = 0;
		if (config_each_item(s, config_add_listen, cfg) == -1 ||
		    cfg->nlistens == 0)
			return -1;
		return config_copy_text(field, CONFIG_TEXT_MAX, s);
	case CFG_METRICS:
		*why = "expected empty, IPv4:port, [IPv6]:port or *:port";
		if (*s != '\0' && config_parse_listen(s, strlen(s),
		    &cfg->metrics_addr) == -1)
			return -1;
		return config_copy_text(field, CONFIG_TEXT_MAX, s);
	case CFG_TEXT:
		*why = "too long";
		return config_copy_text(field, CONFIG_TEXT_MAX, s);
	case CFG_USER:
		*why = "no such user";
		if (*s != '\0' && getpwnam(s) == NULL)
			return -1;
		return config_copy_text(field, CONFIG_NAME_MAX, s);
	case CFG_GROUP:
		*why = "no such group";
		if (*s != '\0' && getgrnam(s) == NULL)
			return -1;
		return config_copy_text(field, CONFIG_NAME_MAX, s);
	case CFG_UINT:
		*why = "not a whole number in range";
		if (num_parse_dec(s, strlen(s), k->max, &v) == -1 ||
		    v < k->min)
			return -1;
		*(unsigned *)(void *)field = (unsigned)v;
		return 0;
	case CFG_BOOL:
		*why = "expected yes or no";
		return config_parse_bool(s, (bool *)(void *)field);
	case CFG_MODE:
		*why = "expected pool or thread";
		if (strcmp(s, "pool") != 0 && strcmp(s, "thread") != 0)
			return -1;
		cfg->mode = s[0] == 'p' ? POOL_MODE_POOL : POOL_MODE_THREAD;
		return 0;
	case CFG_LEVEL:
		*why = "expected error, warn, info, debug or trace";
		return log_level_parse(s, &cfg->log_level);
	case CFG_PORTS:
		*why = "expected a comma list of ports 1..65535 (at most 32)";
		cfg->nconnect_ports = 0;
		return config_each_item(s, config_add_port, cfg);
	case CFG_NAMES:
		*why = "expected a comma list of header names (at most 32; "
		    "not Host, Content-Length or Transfer-Encoding, which "
		    "frame the request)";
		cfg->nstrip = 0;
		return config_each_item(s, config_add_strip, cfg);
	case CFG_LIST:
		*why = "too long (use allow_file or deny_file)";
		return config_copy_text(field, CONFIG_LIST_MAX, s);
	case CFG_TOKEN:
		*why = "expected a name of letters, digits and .-_ (at most "
		    "63)";
		return config_is_token(s) ? config_copy_text(field,
		    CONFIG_NAME_MAX, s) : -1;
	case CFG_VERDICT:
		*why = "expected allow or deny";
		if (strcmp(s, "allow") != 0 && strcmp(s, "deny") != 0)
			return -1;
		*(enum dest_verdict *)(void *)field = s[0] == 'a' ?
		    DEST_ALLOW : DEST_DENY;
		return 0;
	}
	return -1;
}

/* Error text captured from iniparser's callback (load is single threaded). */
static char config_ini_error[256];

static int
config_ini_errback(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(config_ini_error, sizeof(config_ini_error), fmt, ap);
	va_end(ap);
	return n;
}

static const struct config_key *
config_find_key(const char *key)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(config_keys[i].key, key) == 0)
			return &config_keys[i];
	return NULL;
}

static bool
config_known_section(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < nitems(config_sections); i++)
		if (strlen(config_sections[i]) == len &&
		    strncmp(config_sections[i], name, len) == 0)
			return true;
	return false;
}

/*
 * A [parents] NAME = URLs or [routes] NAME = patterns line: names are the
 * admin's, so any key that is not one of the table's is one of these.
 */
static int
config_route_entry(struct ferry_config *cfg, const char *key,
    const char *val, char *err, size_t errlen)
{
	const char *colon = strchr(key, ':');
	char why[768];
	int rc;

	if (key[0] == 'p')
		rc = route_add_parent(&cfg->routes, colon + 1, val, why,
		    sizeof(why));
	else
		rc = route_add_line(&cfg->routes, colon + 1, val, why,
		    sizeof(why));
	if (rc == -1)
		snprintf(err, errlen, "%s: [%.*s] %s", cfg->path,
		    (int)(colon - key), key, why);
	return rc;
}

/*
 * Check one dictionary entry (a section name, or "section:key") and apply
 * it. Whitelist entries are labels, so any key is fine there.
 */
static int
config_apply_entry(struct ferry_config *cfg, const char *key,
    const char *val, char *err, size_t errlen)
{
	const char *colon = strchr(key, ':');
	const struct config_key *k;
	const char *why = NULL;
	char aclerr[160];

	if (!config_known_section(key, colon ? (size_t)(colon - key) :
	    strlen(key))) {
		if (colon != NULL)
			config_error(err, errlen, cfg->path, key,
			    "'%s': unknown section", val != NULL ? val : "");
		else
			config_error(err, errlen, cfg->path, key,
			    "unknown section");
		return -1;
	}
	if (colon == NULL)
		return 0;
	if (val == NULL)
		val = "";
	if (strncmp(key, "whitelist:", 10) == 0) {
		if (acl_add_list(&cfg->whitelist, val, aclerr,
		    sizeof(aclerr)) == 0)
			return 0;
		config_error(err, errlen, cfg->path, key, "'%s': %s", val,
		    aclerr);
		return -1;
	}
	k = config_find_key(key);
	if (k == NULL && (strncmp(key, "parents:", 8) == 0 ||
	    strncmp(key, "routes:", 7) == 0))
		return config_route_entry(cfg, key, val, err, errlen);
	if (k == NULL) {
		config_error(err, errlen, cfg->path, key, "'%s': unknown key",
		    val);
		return -1;
	}
	if (config_set(cfg, k, val, &why) == -1) {
		config_error(err, errlen, cfg->path, key, "'%s': %s", val,
		    why);
		return -1;
	}
	return 0;
}

/* Apply every default, then every entry of d. */
static int
config_apply(struct ferry_config *cfg, const dictionary *d, char *err,
    size_t errlen)
{
	const char *why = NULL;
	ssize_t i;
	size_t k;

	for (k = 0; k < NKEYS; k++) {
		if (config_set(cfg, &config_keys[k], config_keys[k].def,
		    &why) == -1) {
			config_error(err, errlen, "default", config_keys[k].key,
			    "%s", why);
			return -1;
		}
	}
	/* Iterate the raw entries: this also sees keys before any section. */
	for (i = 0; i < d->size; i++) {
		if (d->key[i] == NULL)
			continue;
		if (config_apply_entry(cfg, d->key[i], d->val[i], err,
		    errlen) == -1)
			return -1;
	}
	cfg->whitelist_default = iniparser_find_entry(d, "whitelist") == 0;
	return 0;
}

/* policy_load()'s warning callback: keep the line in cfg->warnings. */
static void
config_warn(void *arg, const char *msg)
{
	struct ferry_config *cfg = arg;
	size_t len = strlen(cfg->warnings);

	cfg->nwarnings++;
	if (strlen(msg) + 2 <= sizeof(cfg->warnings) - len)
		snprintf(cfg->warnings + len, sizeof(cfg->warnings) - len,
		    "%s\n", msg);
}

/*
 * A file named by a key, made absolute against the config file's folder
 * if relative: a daemon reloads after chdir("/"), where a path relative
 * to the folder it was started from would name another file. "" stays.
 */
static int
config_file_path(const struct ferry_config *cfg, char *path)
{
	const char *slash = strrchr(cfg->path, '/');
	char rel[CONFIG_TEXT_MAX];
	int n;

	if (path[0] == '\0' || path[0] == '/' || slash == NULL)
		return 0;
	strcpy(rel, path);
	n = snprintf(path, CONFIG_TEXT_MAX, "%.*s/%s",
	    (int)(slash - cfg->path), cfg->path, rel);
	return n > 0 && n < CONFIG_TEXT_MAX ? 0 : -1;
}

/* Build the [auth] and [destinations] policy from the keys just read. */
static int
config_load_policy(struct ferry_config *cfg, char *err, size_t errlen)
{
	struct policy_spec s = {
		.users = cfg->auth_users, .realm = cfg->auth_realm,
		.cache_ttl = cfg->auth_cache_ttl,
		.allow = cfg->dest_allow, .deny = cfg->dest_deny,
		.allow_file = cfg->dest_allow_file,
		.deny_file = cfg->dest_deny_file,
		.dflt = cfg->dest_default,
		.internal_allowed = cfg->dest_internal == DEST_ALLOW
	};
	char why[768];

	if (config_file_path(cfg, cfg->auth_users) == -1 ||
	    config_file_path(cfg, cfg->dest_allow_file) == -1 ||
	    config_file_path(cfg, cfg->dest_deny_file) == -1) {
		snprintf(err, errlen, "%s: a file path of [auth] or "
		    "[destinations] is too long once made absolute", cfg->path);
		return -1;
	}

	if (policy_load(&cfg->policy, &s, config_warn, cfg, why,
	    sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s", cfg->path, why);
	return -1;
}

/* Without a [whitelist] section only loopback clients may connect. */
static int
config_default_whitelist(struct ferry_config *cfg, char *err, size_t errlen)
{
	return acl_add_list(&cfg->whitelist, "127.0.0.0/8 ::1", err, errlen);
}

/*
 * [proxy_protocol]: its listen addresses join [server]'s (each once, 16
 * in all), marked to expect a PROXY header; from is an address list.
 */
static int
config_proxy_protocol(struct ferry_config *cfg, char *err, size_t errlen)
{
	size_t first = cfg->nlistens, i;
	char why[160];

	if (config_each_item(cfg->proxy_listen, config_add_listen, cfg) ==
	    -1) {
		config_error(err, errlen, cfg->path, "proxy_protocol:listen",
		    "'%s': expected addresses IPv4:port, [IPv6]:port or "
		    "*:port, none also in [server] listen (16 in all)",
		    cfg->proxy_listen);
		return -1;
	}
	for (i = first; i < cfg->nlistens; i++)
		cfg->listens[i].proxy = true;
	if (acl_add_list(&cfg->proxy_from, cfg->proxy_from_text, why,
	    sizeof(why)) == 0)
		return 0;
	config_error(err, errlen, cfg->path, "proxy_protocol:from", "'%s': %s",
	    cfg->proxy_from_text, why);
	return -1;
}

/* [metrics] allow, as the whitelist's entries are read. */
static int
config_metrics_allow(struct ferry_config *cfg, char *err, size_t errlen)
{
	char why[160];

	if (acl_add_list(&cfg->metrics_allow, cfg->metrics_allow_text, why,
	    sizeof(why)) == 0)
		return 0;
	config_error(err, errlen, cfg->path, "metrics:allow", "'%s': %s",
	    cfg->metrics_allow_text, why);
	return -1;
}

int
config_load(const char *path, struct ferry_config *cfg, char *err,
    size_t errlen)
{
	dictionary *d = NULL;
	struct inirepeat rep;
	struct stat st;
	char why[1024];
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	if (config_copy_text(cfg->path, sizeof(cfg->path), path) == -1) {
		snprintf(err, errlen, "config path too long");
		return -1;
	}
	/* iniparser would read a directory as an empty file: all defaults. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (inirepeat_find(path, &rep) == 1) {
		config_error(err, errlen, path, rep.key, "given twice, on "
		    "lines %u and %u (only the last would count): put every "
		    "value on one line", rep.first, rep.again);
		goto out;
	}
	config_ini_error[0] = '\0';
	iniparser_set_error_callback(config_ini_errback);
	d = iniparser_load(path);
	if (d == NULL) {
		snprintf(err, errlen, "%s: cannot load: %s", path,
		    config_ini_error[0] ? config_ini_error :
		    "missing or unreadable");
		goto out;
	}
	if (config_apply(cfg, d, err, errlen) == -1)
		goto out;
	if (cfg->whitelist_default &&
	    config_default_whitelist(cfg, err, errlen) == -1)
		goto out;
	if (cfg->group[0] != '\0' && cfg->user[0] == '\0') {
		config_error(err, errlen, cfg->path, "server:group",
		    "'%s': needs [server] user", cfg->group);
		goto out;
	}
	if (config_load_policy(cfg, err, errlen) == -1 ||
	    config_metrics_allow(cfg, err, errlen) == -1 ||
	    config_proxy_protocol(cfg, err, errlen) == -1)
		goto out;
	config_default_via_name(cfg);
	if (route_finish(&cfg->routes, config_warn, cfg, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", cfg->path, why);
		goto out;
	}
	rc = 0;
out:
	if (d != NULL)
		iniparser_freedict(d);
	if (rc == -1)
		config_free(cfg);
	return rc;
}

void
config_free(struct ferry_config *cfg)
{
	acl_free(&cfg->whitelist);
	acl_free(&cfg->metrics_allow);
	acl_free(&cfg->proxy_from);
	policy_free(&cfg->policy);
	route_free(&cfg->routes);
}

bool
config_connect_port_allowed(const struct ferry_config *cfg, uint16_t port)
{
	size_t i;

	for (i = 0; i < cfg->nconnect_ports; i++)
		if (cfg->connect_ports[i] == port)
			return true;
	return false;
}

bool
config_strips_header(const struct ferry_config *cfg, const char *name,
    size_t len)
{
	size_t i;

	for (i = 0; i < cfg->nstrip; i++)
		if (strlen(cfg->strip[i]) == len &&
		    strncasecmp(cfg->strip[i], name, len) == 0)
			return true;
	return false;
}

/* --- the live snapshot (SIGHUP reload) --- */

static pthread_mutex_t config_live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ferry_config *config_live;
/* config_live's generation, readable without the lock. */
static atomic_ulong config_live_gen;

struct ferry_config *
config_new(const char *path, char *err, size_t errlen)
{
	struct ferry_config *cfg = malloc(sizeof(*cfg));

	if (cfg == NULL) {
		snprintf(err, errlen, "out of memory for the config");
		return NULL;
	}
	if (config_load(path, cfg, err, errlen) == -1) {
		free(cfg);
		return NULL;
	}
	atomic_init(&cfg->refs, 1);
	return cfg;
}

void
config_set_live(struct ferry_config *cfg)
{
	struct ferry_config *old;

	pthread_mutex_lock(&config_live_lock);
	old = config_live;
	if (cfg != NULL)
		cfg->generation = (old != NULL ? old->generation : 0) + 1;
	config_live = cfg;
	atomic_store(&config_live_gen, cfg != NULL ? cfg->generation : 0);
	pthread_mutex_unlock(&config_live_lock);
	config_release(old);
}

unsigned long
config_live_generation(void)
{
	return atomic_load(&config_live_gen);
}

const struct ferry_config *
config_acquire(void)
{
	struct ferry_config *cfg;

	/* Under the lock, so a reload cannot free it between load and +1. */
	pthread_mutex_lock(&config_live_lock);
	cfg = config_live;
	if (cfg != NULL)
		atomic_fetch_add(&cfg->refs, 1);
	pthread_mutex_unlock(&config_live_lock);
	return cfg;
}

const struct ferry_config *
config_retain(const struct ferry_config *cfg)
{
	/* NOLINTNEXTLINE(performance-no-int-to-ptr) */
	struct ferry_config *own = (struct ferry_config *)(uintptr_t)cfg;

	atomic_fetch_add(&own->refs, 1);
	return cfg;
}

void
config_release(const struct ferry_config *cfg)
{
	/*
	 * The snapshot is immutable except for refs, which is atomic; the
	 * cast through uintptr_t drops const without -Wcast-qual noise.
	 */
	/* NOLINTNEXTLINE(performance-no-int-to-ptr) */
	struct ferry_config *own = (struct ferry_config *)(uintptr_t)cfg;

	if (own == NULL || atomic_fetch_sub(&own->refs, 1) != 1)
		return;
	config_free(own);
	free(own);
}

/* Append name to the comma list in out. */
static void
config_note_key(char *out, size_t outlen, size_t *n, const char *name)
{
	size_t len = strlen(out);

	snprintf(out + len, outlen - len, "%s%s", *n > 0 ? ", " : "", name);
	(*n)++;
}

size_t
config_restart_keys_changed(const struct ferry_config *a,
    const struct ferry_config *b, char *out, size_t outlen)
{
	size_t n = 0;

	out[0] = '\0';
	if (strcmp(a->listen, b->listen) != 0)
		config_note_key(out, outlen, &n, "[server] listen");
	if (strcmp(a->user, b->user) != 0)
		config_note_key(out, outlen, &n, "[server] user");
	if (strcmp(a->group, b->group) != 0)
		config_note_key(out, outlen, &n, "[server] group");
	if (strcmp(a->pidfile, b->pidfile) != 0)
		config_note_key(out, outlen, &n, "[server] pidfile");
	if (strcmp(a->metrics_listen, b->metrics_listen) != 0)
		config_note_key(out, outlen, &n, "[metrics] listen");
	if (strcmp(a->proxy_listen, b->proxy_listen) != 0)
		config_note_key(out, outlen, &n, "[proxy_protocol] listen");
	if (strcmp(a->metrics_allow_text, b->metrics_allow_text) != 0)
		config_note_key(out, outlen, &n, "[metrics] allow");
	if (a->mode != b->mode)
		config_note_key(out, outlen, &n, "[pool] mode");
	if (a->workers != b->workers)
		config_note_key(out, outlen, &n, "[pool] workers");
	if (a->queue != b->queue)
		config_note_key(out, outlen, &n, "[pool] queue");
	if (a->max_clients != b->max_clients)
		config_note_key(out, outlen, &n, "[pool] max_clients");
	if (a->stack_kb != b->stack_kb)
		config_note_key(out, outlen, &n, "[pool] stack_kb");
	return n;
}

void
config_keep_restart_keys(struct ferry_config *cfg,
    const struct ferry_config *boot)
{
	memcpy(cfg->listen, boot->listen, sizeof(cfg->listen));
	memcpy(cfg->listens, boot->listens, sizeof(cfg->listens));
	cfg->nlistens = boot->nlistens;
	memcpy(cfg->user, boot->user, sizeof(cfg->user));
	memcpy(cfg->group, boot->group, sizeof(cfg->group));
	memcpy(cfg->pidfile, boot->pidfile, sizeof(cfg->pidfile));
	memcpy(cfg->proxy_listen, boot->proxy_listen,
	    sizeof(cfg->proxy_listen));
	memcpy(cfg->metrics_listen, boot->metrics_listen,
	    sizeof(cfg->metrics_listen));
	cfg->metrics_addr = boot->metrics_addr;
	cfg->mode = boot->mode;
	cfg->workers = boot->workers;
	cfg->queue = boot->queue;
	cfg->max_clients = boot->max_clients;
	cfg->stack_kb = boot->stack_kb;
}
