/*
 * check_config.c: loading ferry.ini (config.c).
 *
 * Each case writes a small INI file under /tmp with mkstemp() and loads it
 * through config_load(), the same call main() and "ferry -t" make. A good
 * file must give exactly the typed values it says (and the documented
 * defaults for what it leaves out); a bad file must fail with a message
 * naming the file, the section, the key and the value, never fall back to
 * a silent default.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "suites.h"

static char ini_path[64];

/* Write text to a fresh temporary INI file, named in ini_path. */
static void
write_ini(const char *text)
{
	FILE *f;
	int fd;

	strcpy(ini_path, "/tmp/ferry-check-XXXXXX");
	fd = mkstemp(ini_path);
	ck_assert_int_ne(fd, -1);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* Load text through a temporary file; config_load's result, err filled. */
static int
load(const char *text, struct ferry_config *cfg, char *err, size_t errlen)
{
	int rc;

	write_ini(text);
	err[0] = '\0';
	rc = config_load(ini_path, cfg, err, errlen);
	unlink(ini_path);
	return rc;
}

/* Load text that must be good; the caller frees cfg. */
static void
load_good(const char *text, struct ferry_config *cfg)
{
	char err[512];

	ck_assert_msg(load(text, cfg, err, sizeof(err)) == 0,
	    "refused: %s -> %s", text, err);
}

/* Does cfg's whitelist admit the client address text? */
static bool
admits(const struct ferry_config *cfg, const char *client)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, client, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, client, &s6->sin6_addr),
		    1);
		s6->sin6_family = AF_INET6;
	}
	return acl_allows(&cfg->whitelist, (struct sockaddr *)&ss);
}

START_TEST(test_defaults)
{
	struct ferry_config cfg;
	const struct sockaddr_in *sin;

	load_good("", &cfg);
	ck_assert_str_eq(cfg.listen, "127.0.0.1:3128");
	sin = (const struct sockaddr_in *)&cfg.listens[0].addr;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(cfg.listens[0].len, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(ntohs(sin->sin_port), 3128);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	ck_assert_str_eq(cfg.user, "");
	ck_assert_str_eq(cfg.group, "");
	ck_assert_str_eq(cfg.pidfile, "");
	ck_assert_uint_eq(cfg.drain_timeout, 10);
	ck_assert_int_eq(cfg.mode, POOL_MODE_POOL);
	ck_assert_uint_eq(cfg.workers, 32);
	ck_assert_uint_eq(cfg.queue, 256);
	ck_assert_uint_eq(cfg.max_clients, 1024);
	ck_assert_uint_eq(cfg.stack_kb, 256);
	ck_assert_uint_eq(cfg.connect_timeout, 5);
	ck_assert_uint_eq(cfg.io_timeout, 60);
	ck_assert_uint_eq(cfg.retries, 2);
	ck_assert_uint_eq(cfg.keepalive_per_host, 8);
	ck_assert_uint_eq(cfg.keepalive_max, 256);
	ck_assert_uint_eq(cfg.keepalive_timeout, 30);
	ck_assert_uint_eq(cfg.header_timeout, 15);
	ck_assert_uint_eq(cfg.idle_timeout, 60);
	ck_assert_uint_eq(cfg.max_header_bytes, 32768);
	ck_assert_uint_eq(cfg.max_headers, 100);
	ck_assert_uint_eq(cfg.max_uri_bytes, 8192);
	ck_assert_uint_eq(cfg.nconnect_ports, 1);
	ck_assert_uint_eq(cfg.connect_ports[0], 443);
	ck_assert(cfg.via);
	{
		char host[256] = "";

		/* The default Via name is the host name (a token here). */
		ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
		ck_assert_str_eq(cfg.via_name, host);
	}
	ck_assert(!cfg.forwarded_for);
	ck_assert_uint_eq(cfg.nstrip, 0);
	ck_assert_int_eq(cfg.log_level, LOGL_INFO);
	ck_assert_str_eq(cfg.log_target, "stderr");
	ck_assert_str_eq(cfg.log_access, "");
	/* No auth, every destination but internal addresses. */
	ck_assert(!cfg.policy.auth);
	ck_assert_str_eq(cfg.policy.realm, "ferry");
	ck_assert_uint_eq(cfg.auth_cache_ttl, 300);
	ck_assert_ptr_nonnull(cfg.policy.dest);
	ck_assert_uint_eq(dest_count(cfg.policy.dest), 0);
	ck_assert_int_eq(cfg.policy.dflt, DEST_ALLOW);
	ck_assert(!cfg.policy.internal_allowed);
	ck_assert_uint_eq(cfg.nwarnings, 0);
	config_free(&cfg);
}
END_TEST

/* A relative rules file is found beside the config file, not in ".". */
START_TEST(test_policy_relative_path)
{
	char deny[64], text[256], err[512];
	struct ferry_config cfg;
	FILE *f;
	int fd;

	strcpy(deny, "/tmp/ferry-deny-XXXXXX");
	fd = mkstemp(deny);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs("# two rules\nads.test\n.track.test\n", f);
	ck_assert_int_eq(fclose(f), 0);
	/* The INI goes to /tmp too (write_ini()); name the file bare. */
	snprintf(text, sizeof(text), "[destinations]\ndeny_file = %s\n",
	    deny + 5);
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_msg(load(text, &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(dest_count(cfg.policy.dest), 2);
	ck_assert_str_eq(cfg.dest_deny_file, deny);
	config_free(&cfg);
	unlink(deny);
}
END_TEST

/* [auth] and [destinations] build the policy; warnings are kept. */
START_TEST(test_policy_keys)
{
	struct ferry_config cfg;

	load_good("[auth]\nrealm = \"Office proxy\"\ncache_ttl = 0\n"
	    "[destinations]\ndefault = deny\ninternal = allow\n"
	    "allow = .corp.test 10.0.0.0/8 [2001:db8::]/32:443\n"
	    "deny = *:25 ads.corp.test ads.corp.test\n", &cfg);
	ck_assert_str_eq(cfg.policy.realm, "Office proxy");
	ck_assert_uint_eq(cfg.auth_cache_ttl, 0);
	ck_assert_int_eq(cfg.policy.dflt, DEST_DENY);
	ck_assert(cfg.policy.internal_allowed);
	ck_assert_uint_eq(dest_count(cfg.policy.dest), 6);
	/* The same deny twice: a rule that never applies. */
	ck_assert_uint_eq(cfg.nwarnings, 1);
	ck_assert_msg(strstr(cfg.warnings, "ads.corp.test") != NULL, "%s",
	    cfg.warnings);
	ck_assert_ptr_nonnull(strchr(cfg.warnings, '\n'));
	config_free(&cfg);
}
END_TEST

/* No [whitelist] section: loopback clients only, v4 and v6. */
START_TEST(test_default_whitelist)
{
	struct ferry_config cfg;

	load_good("[pool]\nworkers = 2\n", &cfg);
	ck_assert(cfg.whitelist_default);
	ck_assert(admits(&cfg, "127.0.0.1"));
	ck_assert(admits(&cfg, "127.255.0.9"));
	ck_assert(admits(&cfg, "::1"));
	ck_assert(admits(&cfg, "::ffff:127.0.0.1"));
	ck_assert(!admits(&cfg, "128.0.0.1"));
	ck_assert(!admits(&cfg, "192.0.2.1"));
	ck_assert(!admits(&cfg, "::2"));
	ck_assert(!admits(&cfg, "2001:db8::1"));
	config_free(&cfg);
}
END_TEST

START_TEST(test_every_key)
{
	struct ferry_config cfg;
	const struct sockaddr_in6 *sin6;

	load_good(
	    "; a comment\n"
	    "# another comment\n"
	    "[server]\nlisten = [::1]:8080\nuser = root\ngroup = root\n"
	    "pidfile = /run/ferry.pid\ndrain_timeout = 0\n"
	    "[pool]\nmode = thread\nworkers = 4\nqueue = 8\n"
	    "max_clients = 16\nstack_kb = 128\n"
	    "[upstream]\nconnect_timeout = 3\nio_timeout = 30\nretries = 0\n"
	    "[client]\nheader_timeout = 7\nidle_timeout = 9\n"
	    "[limits]\nmax_header_bytes = 16384\nmax_headers = 50\n"
	    "max_uri_bytes = 4096\n"
	    "[connect]\nports = 443, 563,8443\n"
	    "[headers]\nvia = no\nforwarded_for = yes\n"
	    "via_name = edge-1.example\nstrip = User-Agent, referer\n"
	    "[log]\nlevel = debug\ntarget = /var/log/ferry.log\n"
	    "access = /var/log/ferry/access.log\n"
	    "[whitelist]\nlocal = 127.0.0.1 ::1\noffice = 192.0.2.0/24\n",
	    &cfg);
	ck_assert_str_eq(cfg.listen, "[::1]:8080");
	sin6 = (const struct sockaddr_in6 *)&cfg.listens[0].addr;
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(cfg.listens[0].len, sizeof(struct sockaddr_in6));
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 8080);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	ck_assert_str_eq(cfg.user, "root");
	ck_assert_str_eq(cfg.group, "root");
	ck_assert_str_eq(cfg.pidfile, "/run/ferry.pid");
	ck_assert_uint_eq(cfg.drain_timeout, 0);
	ck_assert_int_eq(cfg.mode, POOL_MODE_THREAD);
	ck_assert_uint_eq(cfg.workers, 4);
	ck_assert_uint_eq(cfg.queue, 8);
	ck_assert_uint_eq(cfg.max_clients, 16);
	ck_assert_uint_eq(cfg.stack_kb, 128);
	ck_assert_uint_eq(cfg.connect_timeout, 3);
	ck_assert_uint_eq(cfg.io_timeout, 30);
	ck_assert_uint_eq(cfg.retries, 0);
	ck_assert_uint_eq(cfg.header_timeout, 7);
	ck_assert_uint_eq(cfg.idle_timeout, 9);
	ck_assert_uint_eq(cfg.max_header_bytes, 16384);
	ck_assert_uint_eq(cfg.max_headers, 50);
	ck_assert_uint_eq(cfg.max_uri_bytes, 4096);
	ck_assert_uint_eq(cfg.nconnect_ports, 3);
	ck_assert_uint_eq(cfg.connect_ports[0], 443);
	ck_assert_uint_eq(cfg.connect_ports[1], 563);
	ck_assert_uint_eq(cfg.connect_ports[2], 8443);
	ck_assert(!cfg.via);
	ck_assert_str_eq(cfg.via_name, "edge-1.example");
	ck_assert(cfg.forwarded_for);
	ck_assert_uint_eq(cfg.nstrip, 2);
	ck_assert_str_eq(cfg.strip[0], "User-Agent");
	ck_assert_str_eq(cfg.strip[1], "referer");
	ck_assert_int_eq(cfg.log_level, LOGL_DEBUG);
	ck_assert_str_eq(cfg.log_target, "/var/log/ferry.log");
	ck_assert_str_eq(cfg.log_access, "/var/log/ferry/access.log");
	/* Both labels count; nothing else does. */
	ck_assert(!cfg.whitelist_default);
	ck_assert_uint_eq(cfg.whitelist.count, 3);
	ck_assert(admits(&cfg, "127.0.0.1"));
	ck_assert(admits(&cfg, "::1"));
	ck_assert(admits(&cfg, "192.0.2.254"));
	ck_assert(!admits(&cfg, "127.0.0.2"));
	ck_assert(!admits(&cfg, "192.0.3.1"));
	config_free(&cfg);
}
END_TEST

/* Unsigned keys: a file, the field it sets and the value it must hold. */
#define U(f) offsetof(struct ferry_config, f)
static const struct {
	const char	*text;
	size_t		 field;
	unsigned	 want;
} uint_cases[] = {
	{ "[pool]\nworkers = 1\n", U(workers), 1 },
	{ "[pool]\nworkers = 4096\n", U(workers), 4096 },
	/* Plain decimal: a leading zero is not octal. */
	{ "[pool]\nworkers = 010\n", U(workers), 10 },
	{ "[pool]\nworkers = 0009\n", U(workers), 9 },
	{ "[pool]\nworkers = \"7\"\n", U(workers), 7 },
	{ "[pool]\nworkers =   12   \n", U(workers), 12 },
	{ "[pool]\nworkers = 5 ; why five\n", U(workers), 5 },
	/* Section and key names are case-insensitive (see ferry.ini). */
	{ "[POOL]\nWorkers = 9\n", U(workers), 9 },
	/* A file edited on Windows. */
	{ "[pool]\r\nworkers = 6\r\n", U(workers), 6 },
	{ "[pool]\nqueue = 65536\n", U(queue), 65536 },
	{ "[pool]\nmax_clients = 1\n", U(max_clients), 1 },
	{ "[pool]\nstack_kb = 64\n", U(stack_kb), 64 },
	{ "[pool]\nstack_kb = 65536\n", U(stack_kb), 65536 },
	{ "[upstream]\nconnect_timeout = 3600\n", U(connect_timeout), 3600 },
	{ "[upstream]\nio_timeout = 86400\n", U(io_timeout), 86400 },
	{ "[upstream]\nretries = 10\n", U(retries), 10 },
	{ "[upstream]\nkeepalive_per_host = 0\n", U(keepalive_per_host), 0 },
	{ "[upstream]\nkeepalive_per_host = 1024\n", U(keepalive_per_host),
	    1024 },
	{ "[upstream]\nkeepalive_max = 65536\n", U(keepalive_max), 65536 },
	{ "[upstream]\nkeepalive_timeout = 1\n", U(keepalive_timeout), 1 },
	{ "[server]\ndrain_timeout = 3600\n", U(drain_timeout), 3600 },
	{ "[client]\nheader_timeout = 1\n", U(header_timeout), 1 },
	{ "[client]\nidle_timeout = 86400\n", U(idle_timeout), 86400 },
	{ "[limits]\nmax_header_bytes = 1024\n", U(max_header_bytes), 1024 },
	{ "[limits]\nmax_header_bytes = 1048576\n", U(max_header_bytes),
	    1048576 },
	{ "[limits]\nmax_headers = 10000\n", U(max_headers), 10000 },
	{ "[limits]\nmax_uri_bytes = 16\n", U(max_uri_bytes), 16 },
};
#undef U

START_TEST(test_uint)
{
	struct ferry_config cfg;
	const unsigned *v;

	load_good(uint_cases[_i].text, &cfg);
	v = (const unsigned *)(const void *)((const char *)&cfg +
	    uint_cases[_i].field);
	ck_assert_uint_eq(*v, uint_cases[_i].want);
	config_free(&cfg);
}
END_TEST

/* Listen values: the text, then the family, port and address it means. */
static const struct {
	const char	*value;
	int		 family;
	unsigned	 port;
	const char	*addr;
} listen_cases[] = {
	{ "127.0.0.1:3128", AF_INET, 3128, "127.0.0.1" },
	{ "[::1]:3128", AF_INET6, 3128, "::1" },
	{ "0.0.0.0:1", AF_INET, 1, "0.0.0.0" },
	{ "[::]:65535", AF_INET6, 65535, "::" },
	/* "*" is every address, served by a dual-stack IPv6 socket. */
	{ "*:3128", AF_INET6, 3128, "::" },
	{ "[::ffff:127.0.0.1]:80", AF_INET6, 80, "::ffff:127.0.0.1" },
	{ "[2001:db8::1]:8080", AF_INET6, 8080, "2001:db8::1" },
	{ "127.0.0.1:03128", AF_INET, 3128, "127.0.0.1" },
};

START_TEST(test_listen)
{
	struct ferry_config cfg;
	char text[128], got[INET6_ADDRSTRLEN];
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;

	snprintf(text, sizeof(text), "[server]\nlisten = %s\n",
	    listen_cases[_i].value);
	load_good(text, &cfg);
	s4 = (const struct sockaddr_in *)&cfg.listens[0].addr;
	s6 = (const struct sockaddr_in6 *)&cfg.listens[0].addr;
	ck_assert_int_eq(cfg.listens[0].addr.ss_family, listen_cases[_i].family);
	if (listen_cases[_i].family == AF_INET) {
		ck_assert_uint_eq(cfg.listens[0].len, sizeof(*s4));
		ck_assert_uint_eq(ntohs(s4->sin_port), listen_cases[_i].port);
		ck_assert_ptr_nonnull(inet_ntop(AF_INET, &s4->sin_addr, got,
		    sizeof(got)));
	} else {
		ck_assert_uint_eq(cfg.listens[0].len, sizeof(*s6));
		ck_assert_uint_eq(ntohs(s6->sin6_port),
		    listen_cases[_i].port);
		ck_assert_ptr_nonnull(inet_ntop(AF_INET6, &s6->sin6_addr, got,
		    sizeof(got)));
	}
	ck_assert_str_eq(got, listen_cases[_i].addr);
	ck_assert_str_eq(cfg.listen, listen_cases[_i].value);
	ck_assert_uint_eq(cfg.nlistens, 1);
	ck_assert_str_eq(cfg.listens[0].text, listen_cases[_i].value);
	config_free(&cfg);
}
END_TEST

/* Several addresses, blank or comma separated: one socket each. */
START_TEST(test_listen_list)
{
	struct ferry_config cfg;
	char text[1024];
	size_t i;

	load_good("[server]\nlisten = 127.0.0.1:3128 [::1]:3128,"
	    "127.0.0.2:8080\n", &cfg);
	ck_assert_uint_eq(cfg.nlistens, 3);
	ck_assert_str_eq(cfg.listens[0].text, "127.0.0.1:3128");
	ck_assert_str_eq(cfg.listens[1].text, "[::1]:3128");
	ck_assert_str_eq(cfg.listens[2].text, "127.0.0.2:8080");
	ck_assert_int_eq(cfg.listens[1].addr.ss_family, AF_INET6);
	config_free(&cfg);
	/* Sixteen at most. */
	strcpy(text, "[server]\nlisten =");
	for (i = 0; i < CONFIG_MAX_LISTEN; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    " 127.0.0.1:%zu", 1000 + i);
	strcat(text, "\n");
	load_good(text, &cfg);
	ck_assert_uint_eq(cfg.nlistens, CONFIG_MAX_LISTEN);
	config_free(&cfg);
}
END_TEST

/* Boolean spellings, any case. */
static const struct {
	const char	*value;
	bool		 want;
} bool_cases[] = {
	{ "yes", true }, { "no", false }, { "true", true },
	{ "false", false }, { "on", true }, { "off", false },
	{ "1", true }, { "0", false }, { "YES", true }, { "Off", false },
	{ "True", true },
};

START_TEST(test_bool)
{
	struct ferry_config cfg;
	char text[128];

	snprintf(text, sizeof(text),
	    "[headers]\nvia = %s\nforwarded_for = %s\n", bool_cases[_i].value,
	    bool_cases[_i].value);
	load_good(text, &cfg);
	ck_assert(cfg.via == bool_cases[_i].want);
	ck_assert(cfg.forwarded_for == bool_cases[_i].want);
	config_free(&cfg);
}
END_TEST

static const struct {
	const char	*value;
	enum log_level	 want;
} level_cases[] = {
	{ "error", LOGL_ERROR }, { "warn", LOGL_WARN }, { "info", LOGL_INFO },
	{ "debug", LOGL_DEBUG },
};

START_TEST(test_log_level)
{
	struct ferry_config cfg;
	char text[128];

	snprintf(text, sizeof(text), "[log]\nlevel = %s\ntarget = syslog\n",
	    level_cases[_i].value);
	load_good(text, &cfg);
	ck_assert_int_eq(cfg.log_level, level_cases[_i].want);
	ck_assert_str_eq(cfg.log_target, "syslog");
	config_free(&cfg);
}
END_TEST

/* Port lists: separators, and an empty list forbids every CONNECT. */
START_TEST(test_connect_ports)
{
	struct ferry_config cfg;

	load_good("[connect]\nports = 443,,8443 ,\t1, 65535\n", &cfg);
	ck_assert_uint_eq(cfg.nconnect_ports, 4);
	ck_assert(config_connect_port_allowed(&cfg, 443));
	ck_assert(config_connect_port_allowed(&cfg, 8443));
	ck_assert(config_connect_port_allowed(&cfg, 1));
	ck_assert(config_connect_port_allowed(&cfg, 65535));
	ck_assert(!config_connect_port_allowed(&cfg, 0));
	ck_assert(!config_connect_port_allowed(&cfg, 80));
	ck_assert(!config_connect_port_allowed(&cfg, 444));
	ck_assert(!config_connect_port_allowed(&cfg, 8442));
	config_free(&cfg);

	load_good("[connect]\nports =\n", &cfg);
	ck_assert_uint_eq(cfg.nconnect_ports, 0);
	ck_assert(!config_connect_port_allowed(&cfg, 443));
	ck_assert(!config_connect_port_allowed(&cfg, 0));
	config_free(&cfg);

	/* ';' starts a comment (ferry.ini says so): only 443 is read. */
	load_good("[connect]\nports = 443;8443\n", &cfg);
	ck_assert_uint_eq(cfg.nconnect_ports, 1);
	ck_assert(!config_connect_port_allowed(&cfg, 8443));
	config_free(&cfg);

	/* 32 ports is the documented most. */
	load_good("[connect]\nports = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,"
	    "16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32\n", &cfg);
	ck_assert_uint_eq(cfg.nconnect_ports, 32);
	ck_assert(config_connect_port_allowed(&cfg, 32));
	ck_assert(!config_connect_port_allowed(&cfg, 33));
	config_free(&cfg);
}
END_TEST

/* The strip list matches whole names, any case. */
START_TEST(test_strip_names)
{
	struct ferry_config cfg;
	char name63[64];

	load_good("[headers]\nstrip = Cookie,user-agent X-Secret\n", &cfg);
	ck_assert_uint_eq(cfg.nstrip, 3);
	ck_assert(config_strips_header(&cfg, "cookie", 6));
	ck_assert(config_strips_header(&cfg, "COOKIE", 6));
	ck_assert(config_strips_header(&cfg, "User-Agent", 10));
	ck_assert(config_strips_header(&cfg, "x-secret", 8));
	/* Lengths count: no prefix and no longer-name matches. */
	ck_assert(!config_strips_header(&cfg, "Cooki", 5));
	ck_assert(!config_strips_header(&cfg, "Cookies", 7));
	ck_assert(!config_strips_header(&cfg, "Cookie2", 7));
	/* Only len bytes of name count. */
	ck_assert(config_strips_header(&cfg, "Cookie2", 6));
	ck_assert(!config_strips_header(&cfg, "", 0));
	ck_assert(!config_strips_header(&cfg, "Host", 4));
	config_free(&cfg);

	/* The longest name that fits (63 bytes) is kept whole. */
	memset(name63, 'x', 63);
	name63[63] = '\0';
	{
		char text[128];

		snprintf(text, sizeof(text), "[headers]\nstrip = %s\n",
		    name63);
		load_good(text, &cfg);
	}
	ck_assert_uint_eq(cfg.nstrip, 1);
	ck_assert(config_strips_header(&cfg, name63, 63));
	config_free(&cfg);

	/* Nothing stripped by default. */
	load_good("", &cfg);
	ck_assert(!config_strips_header(&cfg, "Cookie", 6));
	config_free(&cfg);
}
END_TEST

/* Whitelist: labels add up, even across repeated sections. */
START_TEST(test_whitelist_labels)
{
	struct ferry_config cfg;

	load_good("[whitelist]\na = 192.0.2.1\nb = 2001:db8::/32, 10.0.0.0/8\n"
	    "[pool]\nworkers = 1\n[whitelist]\nc = 198.51.100.7\n", &cfg);
	ck_assert(!cfg.whitelist_default);
	ck_assert_uint_eq(cfg.whitelist.count, 4);
	ck_assert(admits(&cfg, "192.0.2.1"));
	ck_assert(admits(&cfg, "2001:db8:1::1"));
	ck_assert(admits(&cfg, "10.1.1.1"));
	ck_assert(admits(&cfg, "198.51.100.7"));
	/* Listing other clients drops the loopback default. */
	ck_assert(!admits(&cfg, "127.0.0.1"));
	ck_assert(!admits(&cfg, "::1"));
	config_free(&cfg);
}
END_TEST

/* An empty [whitelist] section admits nobody: no silent default. */
START_TEST(test_empty_whitelist_section)
{
	struct ferry_config cfg;

	load_good("[whitelist]\n", &cfg);
	ck_assert(!cfg.whitelist_default);
	ck_assert_uint_eq(cfg.whitelist.count, 0);
	ck_assert(!admits(&cfg, "127.0.0.1"));
	config_free(&cfg);

	load_good("[whitelist]\nnobody =\n", &cfg);
	ck_assert(!cfg.whitelist_default);
	ck_assert_uint_eq(cfg.whitelist.count, 0);
	ck_assert(!admits(&cfg, "::1"));
	config_free(&cfg);
}
END_TEST

#define LONG32 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define LONG64 LONG32 LONG32
#define LONG256 LONG64 LONG64 LONG64 LONG64

/*
 * Bad files, with the words the message must contain besides the path:
 * the section in brackets, the key and the value as written (NULL when
 * there is none to name).
 */
static const struct {
	const char	*text;
	const char	*section;
	const char	*key;
	const char	*value;
} bad_files[] = {
	/* Structure. */
	{ "[bogus]\nkey = 1\n", "[bogus]", NULL, NULL },
	{ "[bogus]\n", "[bogus]", NULL, NULL },
	{ "[server]\nlisen = 127.0.0.1:3128\n", "[server]", "lisen",
	    "127.0.0.1:3128" },
	{ "[pool]\nthreads = 4\n", "[pool]", "threads", "4" },
	/* A key outside every section belongs to no known section. */
	{ "workers = 3\n[pool]\n", "[", "workers", "3" },
	/* [server] */
	{ "[server]\nlisten = 127.0.0.1:1 127.0.0.1:1\n", "[server]",
	    "listen", "127.0.0.1:1 127.0.0.1:1" },
	{ "[server]\nlisten = 127.0.0.1:1 bogus\n", "[server]", "listen",
	    "bogus" },
	{ "[server]\nlisten = 127.0.0.1:1 127.0.0.1:2 127.0.0.1:3 "
	    "127.0.0.1:4 127.0.0.1:5 127.0.0.1:6 127.0.0.1:7 127.0.0.1:8 "
	    "127.0.0.1:9 127.0.0.1:10 127.0.0.1:11 127.0.0.1:12 127.0.0.1:13 "
	    "127.0.0.1:14 127.0.0.1:15 127.0.0.1:16 127.0.0.1:17\n",
	    "[server]", "listen", "127.0.0.1:17" },
	{ "[server]\nlisten = 127.0.0.1\n", "[server]", "listen",
	    "127.0.0.1" },
	{ "[server]\nlisten = 127.0.0.1:0\n", "[server]", "listen",
	    "127.0.0.1:0" },
	{ "[server]\nlisten = 127.0.0.1:65536\n", "[server]", "listen",
	    "127.0.0.1:65536" },
	{ "[server]\nlisten = [::1]:0\n", "[server]", "listen", "[::1]:0" },
	{ "[server]\nlisten = [::1]:65536\n", "[server]", "listen",
	    "[::1]:65536" },
	{ "[server]\nlisten = *:0\n", "[server]", "listen", "*:0" },
	{ "[server]\nlisten = 127.0.0.1:80x\n", "[server]", "listen",
	    "127.0.0.1:80x" },
	{ "[server]\nlisten = 127.0.0.1:-1\n", "[server]", "listen",
	    "127.0.0.1:-1" },
	{ "[server]\nlisten = 127.0.0.1:\n", "[server]", "listen",
	    "127.0.0.1:" },
	{ "[server]\nlisten = :3128\n", "[server]", "listen", ":3128" },
	{ "[server]\nlisten = 256.0.0.1:3128\n", "[server]", "listen",
	    "256.0.0.1:3128" },
	{ "[server]\nlisten = ::1:3128\n", "[server]", "listen",
	    "::1:3128" },
	{ "[server]\nlisten = [::1]\n", "[server]", "listen", "[::1]" },
	{ "[server]\nlisten = [::1]:3128x\n", "[server]", "listen",
	    "[::1]:3128x" },
	{ "[server]\nlisten = [127.0.0.1]:3128\n", "[server]", "listen",
	    "[127.0.0.1]:3128" },
	{ "[server]\nlisten = [*]:3128\n", "[server]", "listen",
	    "[*]:3128" },
	{ "[server]\nlisten = [fe80::1%lo]:3128\n", "[server]", "listen",
	    "[fe80::1%lo]:3128" },
	{ "[server]\nlisten = example.com:3128\n", "[server]", "listen",
	    "example.com:3128" },
	{ "[server]\nlisten = 127.0.0.1:3128:1\n", "[server]", "listen",
	    "127.0.0.1:3128:1" },
	{ "[server]\nlisten =\n", "[server]", "listen", NULL },
	{ "[server]\nuser = no-such-user-ferry\n", "[server]", "user",
	    "no-such-user-ferry" },
	{ "[server]\ngroup = no-such-group-ferry\n", "[server]", "group",
	    "no-such-group-ferry" },
	{ "[server]\ndrain_timeout = 3601\n", "[server]", "drain_timeout",
	    "3601" },
	{ "[server]\ndrain_timeout = -1\n", "[server]", "drain_timeout",
	    "-1" },
	{ "[log]\naccess = /" LONG256 "\n", "[log]", "access", LONG64 },
	{ "[server]\npidfile = /" LONG256 "\n", "[server]", "pidfile",
	    LONG64 },
	/* [pool] */
	{ "[pool]\nmode = fork\n", "[pool]", "mode", "fork" },
	{ "[pool]\nmode =\n", "[pool]", "mode", NULL },
	{ "[pool]\nworkers = 80x\n", "[pool]", "workers", "80x" },
	{ "[pool]\nworkers = 0\n", "[pool]", "workers", "0" },
	{ "[pool]\nworkers = 4097\n", "[pool]", "workers", "4097" },
	{ "[pool]\nworkers = -1\n", "[pool]", "workers", "-1" },
	{ "[pool]\nworkers = +5\n", "[pool]", "workers", "+5" },
	{ "[pool]\nworkers = 0x10\n", "[pool]", "workers", "0x10" },
	{ "[pool]\nworkers = 1e3\n", "[pool]", "workers", "1e3" },
	{ "[pool]\nworkers = 5 5\n", "[pool]", "workers", "5 5" },
	{ "[pool]\nworkers = 4294967296\n", "[pool]", "workers",
	    "4294967296" },
	{ "[pool]\nworkers = 99999999999999999999\n", "[pool]", "workers",
	    "99999999999999999999" },
	{ "[pool]\nqueue =\n", "[pool]", "queue", NULL },
	{ "[pool]\nqueue = \"\"\n", "[pool]", "queue", NULL },
	{ "[pool]\nqueue = 65537\n", "[pool]", "queue", "65537" },
	{ "[pool]\nmax_clients = 0\n", "[pool]", "max_clients", "0" },
	{ "[pool]\nstack_kb = 63\n", "[pool]", "stack_kb", "63" },
	{ "[pool]\nstack_kb = 65537\n", "[pool]", "stack_kb", "65537" },
	/* [upstream] and [client] */
	{ "[upstream]\nconnect_timeout = 0\n", "[upstream]",
	    "connect_timeout", "0" },
	{ "[upstream]\nconnect_timeout = 3601\n", "[upstream]",
	    "connect_timeout", "3601" },
	{ "[upstream]\nio_timeout = 1.5\n", "[upstream]", "io_timeout",
	    "1.5" },
	{ "[upstream]\nio_timeout = 86401\n", "[upstream]", "io_timeout",
	    "86401" },
	{ "[upstream]\nretries = 11\n", "[upstream]", "retries", "11" },
	{ "[upstream]\nretries = -0\n", "[upstream]", "retries", "-0" },
	{ "[upstream]\nkeepalive_per_host = 1025\n", "[upstream]",
	    "keepalive_per_host", "1025" },
	{ "[upstream]\nkeepalive_max = 65537\n", "[upstream]",
	    "keepalive_max", "65537" },
	{ "[upstream]\nkeepalive_timeout = 0\n", "[upstream]",
	    "keepalive_timeout", "0" },
	{ "[client]\nheader_timeout = 0\n", "[client]", "header_timeout",
	    "0" },
	{ "[client]\nidle_timeout = 0\n", "[client]", "idle_timeout", "0" },
	{ "[client]\nidle_timeout = 60s\n", "[client]", "idle_timeout",
	    "60s" },
	/* [limits] */
	{ "[limits]\nmax_header_bytes = 1023\n", "[limits]",
	    "max_header_bytes", "1023" },
	{ "[limits]\nmax_header_bytes = 1048577\n", "[limits]",
	    "max_header_bytes", "1048577" },
	{ "[limits]\nmax_headers = 0\n", "[limits]", "max_headers", "0" },
	{ "[limits]\nmax_headers = 10001\n", "[limits]", "max_headers",
	    "10001" },
	{ "[limits]\nmax_uri_bytes = 15\n", "[limits]", "max_uri_bytes",
	    "15" },
	/* [connect] */
	{ "[connect]\nports = 443, 0\n", "[connect]", "ports", "443, 0" },
	{ "[connect]\nports = 65536\n", "[connect]", "ports", "65536" },
	{ "[connect]\nports = 443x\n", "[connect]", "ports", "443x" },
	{ "[connect]\nports = -443\n", "[connect]", "ports", "-443" },
	{ "[connect]\nports = 0x1bb\n", "[connect]", "ports", "0x1bb" },
	{ "[connect]\nports = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,"
	    "19,20,21,22,23,24,25,26,27,28,29,30,31,32,33\n", "[connect]",
	    "ports", "31,32,33" },
	/* [headers] */
	{ "[headers]\nvia = maybe\n", "[headers]", "via", "maybe" },
	{ "[headers]\nvia =\n", "[headers]", "via", NULL },
	{ "[headers]\nvia_name = a b\n", "[headers]", "via_name", "a b" },
	{ "[headers]\nvia_name = a,b\n", "[headers]", "via_name", "a,b" },
	{ "[headers]\nvia_name = " LONG64 "\n", "[headers]", "via_name",
	    LONG64 },
	{ "[headers]\nforwarded_for = 2\n", "[headers]", "forwarded_for",
	    "2" },
	{ "[headers]\nforwarded_for = yess\n", "[headers]", "forwarded_for",
	    "yess" },
	{ "[headers]\nstrip = Bad Name:\n", "[headers]", "strip",
	    "Bad Name:" },
	{ "[headers]\nstrip = X-(a)\n", "[headers]", "strip", "X-(a)" },
	/* the framing: stripping it would desync the next hop */
	{ "[headers]\nstrip = Cookie, TRANSFER-ENCODING\n", "[headers]",
	    "strip", "TRANSFER-ENCODING" },
	{ "[headers]\nstrip = content-length\n", "[headers]", "strip",
	    "content-length" },
	{ "[headers]\nstrip = Host\n", "[headers]", "strip", "Host" },
	{ "[headers]\nstrip = " LONG64 "\n", "[headers]", "strip", LONG64 },
	{ "[headers]\nstrip = a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,"
	    "w,x,y,z,A1,B1,C1,D1,E1,F1,G1\n", "[headers]", "strip", "F1,G1" },
	/* [log] */
	{ "[log]\nlevel = verbose\n", "[log]", "level", "verbose" },
	{ "[log]\nlevel =\n", "[log]", "level", NULL },
	{ "[log]\nlevel = 3\n", "[log]", "level", "3" },
	{ "[log]\ntarget = /" LONG256 "\n", "[log]", "target", LONG64 },
	/* [whitelist] */
	{ "[whitelist]\nlocal = 300.1.1.1\n", "[whitelist]", "local",
	    "300.1.1.1" },
	{ "[whitelist]\nlocal = 127.0.0.1 10.0.0.0/33\n", "[whitelist]",
	    "local", "10.0.0.0/33" },
	{ "[whitelist]\nv6 = ::1/129\n", "[whitelist]", "v6", "::1/129" },
	{ "[whitelist]\nlocal = localhost\n", "[whitelist]", "local",
	    "localhost" },
	{ "[whitelist]\nlocal = 127.0.0.1/\n", "[whitelist]", "local",
	    "127.0.0.1/" },
	/* [auth] and [destinations] */
	{ "[auth]\nrealm = a\"b\n", "[auth]", "realm", NULL },
	{ "[auth]\ncache_ttl = 86401\n", "[auth]", "cache_ttl", "86401" },
	{ "[auth]\nusers = /nonexistent/users\n", "[auth]", "users",
	    "/nonexistent/users" },
	{ "[auth]\npassword = x\n", "[auth]", "password", NULL },
	{ "[destinations]\ndefault = block\n", "[destinations]",
	    "default", "block" },
	{ "[destinations]\ninternal = yes\n", "[destinations]",
	    "internal", "yes" },
	{ "[destinations]\ndeny = good.test *.bad.test\n",
	    "[destinations]", "deny", "*.bad.test" },
	{ "[destinations]\nallow = 10.0.0.0/33\n", "[destinations]",
	    "allow", "10.0.0.0/33" },
	{ "[destinations]\ndeny_file = /nonexistent/deny\n",
	    "[destinations]", "deny_file", "/nonexistent/deny" },
};

START_TEST(test_bad_file)
{
	struct ferry_config cfg;
	char err[1024], rest[1024];
	const char *at;

	ck_assert_msg(load(bad_files[_i].text, &cfg, err, sizeof(err)) == -1,
	    "accepted: %s", bad_files[_i].text);
	at = strstr(err, ini_path);
	ck_assert_msg(at != NULL, "no path: %s", err);
	/*
	 * Look for the other words outside the path: the random part of the
	 * temporary name could hold a short value such as "3" by chance.
	 */
	snprintf(rest, sizeof(rest), "%.*s%s", (int)(at - err), err,
	    at + strlen(ini_path));
	ck_assert_msg(strstr(rest, bad_files[_i].section) != NULL,
	    "no section %s: %s", bad_files[_i].section, err);
	if (bad_files[_i].key != NULL)
		ck_assert_msg(strstr(rest, bad_files[_i].key) != NULL,
		    "no key %s: %s", bad_files[_i].key, err);
	if (bad_files[_i].value != NULL)
		ck_assert_msg(strstr(rest, bad_files[_i].value) != NULL,
		    "no value %s: %s", bad_files[_i].value, err);
	/* On failure cfg holds nothing to free. */
	ck_assert_ptr_null(cfg.whitelist.entries);
	ck_assert_uint_eq(cfg.whitelist.count, 0);
}
END_TEST

/* Files iniparser cannot read at all: the message still names the file. */
static const char *const unreadable_files[] = {
	"[pool]\ngarbage line\n",
	"[pool\nworkers = 5\n",
	"[pool]\nworkers\n",
};

START_TEST(test_syntax_error)
{
	struct ferry_config cfg;
	char err[1024];

	ck_assert_msg(load(unreadable_files[_i], &cfg, err, sizeof(err)) ==
	    -1, "accepted: %s", unreadable_files[_i]);
	ck_assert_msg(strstr(err, ini_path) != NULL, "no path: %s", err);
}
END_TEST

/*
 * A key set twice in one section: iniparser keeps the last line and
 * drops the first without a word, so ferry refuses the file, naming the
 * key and both lines. Sections of the same name are one section; names
 * are compared as iniparser compares them, trimmed and in any case.
 */
static const struct {
	const char	*text;
	const char	*want;		/* NULL: the file is good */
} repeat_cases[] = {
	{ "[destinations]\ndeny = .a.example\ndeny = .b.example\n",
	    "[destinations] deny: given twice, on lines 2 and 3" },
	{ "[Destinations]\nDENY = .a.example\n[pool]\nworkers = 2\n"
	    "[destinations]\n  deny  = .b.example\n",
	    "[destinations] deny: given twice, on lines 2 and 6" },
	{ "[whitelist]\nlan = 10.0.0.0/8\n; lan = 192.168.0.0/16\n"
	    "lan = 172.16.0.0/12\n", "[whitelist] lan: given twice, on "
	    "lines 2 and 4" },
	/* The same name in two sections is two keys. */
	{ "[server]\nlisten = 127.0.0.1:3128\n[metrics]\n"
	    "listen = 127.0.0.1:9128\n", NULL },
	/* A value that goes on in the next line is one line. */
	{ "[destinations]\ndeny = .a.example \\\n  .b.example\n"
	    "allow = .c.example\n", NULL },
	/* "[]" names no section: the one before goes on. */
	{ "[server]\nlisten = 127.0.0.1:3128\n[]\n"
	    "listen = 127.0.0.1:3129\n", "[server] listen: given twice, on "
	    "lines 2 and 4" },
	/* The name ends at the first "]". */
	{ "[pool]x]\nworkers = 2\n[pool]\nworkers = 3\n",
	    "[pool] workers: given twice, on lines 2 and 4" },
	/* A line still going on at the end is dropped, as iniparser does. */
	{ "[destinations]\ndeny = .a.example\ndeny = .b.example \\\n",
	    NULL },
};

START_TEST(test_repeated_key)
{
	struct ferry_config cfg;
	char err[1024];
	int rc = load(repeat_cases[_i].text, &cfg, err, sizeof(err));

	if (repeat_cases[_i].want == NULL) {
		ck_assert_msg(rc == 0, "refused: %s", err);
		config_free(&cfg);
		return;
	}
	ck_assert_msg(rc == -1, "accepted: %s", repeat_cases[_i].text);
	ck_assert_msg(strstr(err, repeat_cases[_i].want) != NULL, "%s", err);
}
END_TEST

/* A whitelist that fails after good labels leaves nothing allocated. */
START_TEST(test_failure_frees)
{
	struct ferry_config cfg;
	char err[512];

	ck_assert_int_eq(load("[whitelist]\na = 127.0.0.1 ::1\n"
	    "b = 10.0.0.0/8\nc = bogus\n", &cfg, err, sizeof(err)), -1);
	ck_assert_ptr_null(cfg.whitelist.entries);
	ck_assert_uint_eq(cfg.whitelist.count, 0);
	ck_assert_ptr_nonnull(strstr(err, "bogus"));
}
END_TEST

/* A message longer than the buffer is cut, terminated, and not spilled. */
START_TEST(test_small_err_buffer)
{
	struct ferry_config cfg;
	char err[32];

	memset(err, 'Z', sizeof(err));
	write_ini("[pool]\nworkers = 80x\n");
	ck_assert_int_eq(config_load(ini_path, &cfg, err, 16), -1);
	unlink(ini_path);
	ck_assert_uint_eq(strlen(err), 15);
	ck_assert_int_eq(err[16], 'Z');
}
END_TEST

START_TEST(test_missing_file)
{
	struct ferry_config cfg;
	char err[512];

	ck_assert_int_eq(config_load("/nonexistent/ferry.ini", &cfg, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent/ferry.ini") != NULL, "%s",
	    err);
	ck_assert_int_eq(config_load("", &cfg, err, sizeof(err)), -1);
}
END_TEST

/*
 * "-c /etc/ferry" (a directory, not the file in it) must not load as an
 * empty file would: that would start ferry on pure defaults, silently.
 */
START_TEST(test_directory_refused)
{
	struct ferry_config cfg;
	char dir[] = "/tmp/ferry-check-dir-XXXXXX";
	char err[512] = "";
	int rc;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	rc = config_load(dir, &cfg, err, sizeof(err));
	ck_assert_int_eq(rmdir(dir), 0);
	if (rc == 0)
		config_free(&cfg);
	ck_assert_msg(rc == -1, "a directory loaded as a config file");
	ck_assert_msg(strstr(err, dir) != NULL, "no path: %s", err);
}
END_TEST

/* Where etc/ferry.ini is: $FERRY_SRCDIR, else next to this source file. */
static void
shipped_path(char *path, size_t cap)
{
	const char *srcdir = getenv("FERRY_SRCDIR");
#ifndef TEST_SRCDIR
	const char *slash = strrchr(__FILE__, '/');
#endif

	if (srcdir != NULL && *srcdir != '\0') {
		snprintf(path, cap, "%s/etc/ferry.ini", srcdir);
		return;
	}
#ifdef TEST_SRCDIR
	snprintf(path, cap, "%s/../etc/ferry.ini", TEST_SRCDIR);
#else
	if (slash == NULL)
		snprintf(path, cap, "../etc/ferry.ini");
	else
		snprintf(path, cap, "%.*s/../etc/ferry.ini",
		    (int)(slash - __FILE__), __FILE__);
#endif
}

/* Load text into a new snapshot (one reference), which must succeed. */
static struct ferry_config *
new_good(const char *text)
{
	struct ferry_config *cfg;
	char err[512];

	write_ini(text);
	cfg = config_new(ini_path, err, sizeof(err));
	unlink(ini_path);
	ck_assert_msg(cfg != NULL, "refused: %s -> %s", text, err);
	return cfg;
}

/*
 * The live snapshot: acquire hands out the current one; a reload swaps it
 * and a holder of the old one keeps reading it until it lets go. ASan
 * catches a use after free, and a leak if the last release does not free.
 */
START_TEST(test_snapshot_lifetime)
{
	struct ferry_config *a = new_good("[pool]\nworkers = 3\n");
	struct ferry_config *b = new_good("[pool]\nworkers = 5\n");
	const struct ferry_config *held, *now;

	config_set_live(a);
	held = config_acquire();
	ck_assert_ptr_eq(held, a);
	ck_assert_uint_eq(atomic_load(&a->refs), 2);
	config_set_live(b);
	/* The live reference to a is gone; ours keeps it whole. */
	ck_assert_uint_eq(atomic_load(&held->refs), 1);
	ck_assert_uint_eq(held->workers, 3);
	ck_assert(admits(held, "127.0.0.1"));
	now = config_acquire();
	ck_assert_ptr_eq(now, b);
	ck_assert_uint_eq(now->workers, 5);
	config_release(held);
	config_release(now);
	config_set_live(NULL);
	ck_assert_ptr_null(config_acquire());
	config_release(NULL);
}
END_TEST

/* A file that does not load gives no snapshot and leaks nothing. */
START_TEST(test_snapshot_bad_file)
{
	char err[512];

	write_ini("[pool]\nworkers = many\n");
	ck_assert_ptr_null(config_new(ini_path, err, sizeof(err)));
	unlink(ini_path);
	ck_assert_msg(strstr(err, "workers") != NULL, "%s", err);
}
END_TEST

/* How many keys a ", " list names. */
static size_t
count_keys(const char *list)
{
	size_t n = list[0] != '\0';

	for (; *list != '\0'; list++)
		n += *list == ',';
	return n;
}

/* Restart-only keys are named when they differ; others are not. */
START_TEST(test_restart_keys)
{
	static const struct {
		const char	*text;
		const char	*named;	/* "" if none */
	} cases[] = {
		{ "[server]\nlisten = 127.0.0.1:3128\n", "" },
		{ "[upstream]\nretries = 0\n[log]\nlevel = debug\n"
		    "[whitelist]\nx = 192.0.2.1\n[server]\ndrain_timeout = 1\n",
		    "" },
		{ "[server]\nlisten = 127.0.0.1:3129\n", "[server] listen" },
		{ "[server]\nuser = root\n", "[server] user" },
		{ "[server]\nuser = root\ngroup = root\n",
		    "[server] user, [server] group" },
		{ "[server]\npidfile = /run/x.pid\n", "[server] pidfile" },
		{ "[pool]\nmode = thread\nworkers = 2\nqueue = 3\n"
		    "max_clients = 4\nstack_kb = 128\n", "[pool] mode, "
		    "[pool] workers, [pool] queue, [pool] max_clients, "
		    "[pool] stack_kb" },
	};
	struct ferry_config *base = new_good("");
	char out[256];
	size_t i, n;

	for (i = 0; i < NELEM(cases); i++) {
		struct ferry_config *b = new_good(cases[i].text);

		n = config_restart_keys_changed(base, b, out, sizeof(out));
		ck_assert_msg(strcmp(out, cases[i].named) == 0,
		    "%s: named \"%s\"", cases[i].text, out);
		ck_assert_uint_eq(n, count_keys(cases[i].named));
		config_release(b);
	}
	config_release(base);
}
END_TEST

/*
 * Values holding ';' or '#', which start a comment (ferry.ini(5) and the
 * shipped file document this): iniparser 4.1 cuts an unquoted value at
 * the first of them, and takes a value in double or single quotes whole,
 * without the quotes, ignoring what follows the closing one. [log]
 * access is free text, so it shows exactly what ferry gets.
 */
static const struct {
	const char	*line;
	const char	*want;
} quote_cases[] = {
	/* The example of ferry.ini(5) and etc/ferry.ini. */
	{ "access = \"/var/log/ferry;#1.log\"", "/var/log/ferry;#1.log" },
	{ "access = '/var/log/ferry#main.log'", "/var/log/ferry#main.log" },
	{ "access = '/var/log/a#b;c.log'", "/var/log/a#b;c.log" },
	{ "access = \"/var/log/x;y.log\" ; a comment", "/var/log/x;y.log" },
	{ "access = \"/var/log/x#y.log\"# a comment", "/var/log/x#y.log" },
	{ "ACCESS   =   \"/tmp/#\"", "/tmp/#" },
	/* One kind of quote inside the other; blanks inside are kept. */
	{ "access = \"/tmp/it's;here\"", "/tmp/it's;here" },
	{ "access = '/tmp/say \"hi\"#1'", "/tmp/say \"hi\"#1" },
	{ "access = \"  /tmp/spaced;  \"", "  /tmp/spaced;  " },
	{ "access = \"\"", "" },
	{ "access = ''", "" },
	/* Unquoted, the comment starts at the first ';' or '#'. */
	{ "access = /var/log/x;y.log", "/var/log/x" },
	{ "access = /var/log/x#y.log", "/var/log/x" },
	{ "access = /var/log/x.log   # the access log", "/var/log/x.log" },
	/* A quote must open the value to count. */
	{ "access = a \"b;c\"", "a \"b" },
};

START_TEST(test_quoted_value)
{
	struct ferry_config cfg;
	char text[256];

	snprintf(text, sizeof(text), "[log]\n%s\n", quote_cases[_i].line);
	load_good(text, &cfg);
	ck_assert_str_eq(cfg.log_access, quote_cases[_i].want);
	config_free(&cfg);
}
END_TEST

/* The same for every free-text key: [server] pidfile, [log] target. */
START_TEST(test_quoted_text_keys)
{
	struct ferry_config cfg;

	load_good("[server]\npidfile = \"/run/ferry;1#a.pid\"\n"
	    "[log]\ntarget = '/var/log/ferry#main;1.log'\n", &cfg);
	ck_assert_str_eq(cfg.pidfile, "/run/ferry;1#a.pid");
	ck_assert_str_eq(cfg.log_target, "/var/log/ferry#main;1.log");
	config_free(&cfg);
}
END_TEST

/* The example config the package ships loads as it is. */
START_TEST(test_shipped_config)
{
	struct ferry_config cfg;
	char path[PATH_MAX], err[512];

	shipped_path(path, sizeof(path));
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "%s",
	    err);
	/* It states the documented defaults. */
	ck_assert_str_eq(cfg.listen, "127.0.0.1:3128");
	ck_assert_int_eq(cfg.mode, POOL_MODE_POOL);
	ck_assert_uint_eq(cfg.workers, 32);
	ck_assert_uint_eq(cfg.queue, 256);
	ck_assert_uint_eq(cfg.max_header_bytes, 32768);
	ck_assert(cfg.via);
	ck_assert(!cfg.forwarded_for);
	ck_assert_int_eq(cfg.log_level, LOGL_INFO);
	ck_assert(config_connect_port_allowed(&cfg, 443));
	ck_assert(!config_connect_port_allowed(&cfg, 80));
	ck_assert(!cfg.whitelist_default);
	ck_assert(admits(&cfg, "127.0.0.1"));
	ck_assert(admits(&cfg, "::1"));
	ck_assert(!admits(&cfg, "127.0.0.12"));
	ck_assert(!admits(&cfg, "192.0.2.1"));
	config_free(&cfg);
}
END_TEST

Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_default_whitelist);
	tcase_add_test(tc, test_policy_keys);
	tcase_add_test(tc, test_policy_relative_path);
	tcase_add_test(tc, test_every_key);
	tcase_add_test(tc, test_snapshot_lifetime);
	tcase_add_test(tc, test_snapshot_bad_file);
	tcase_add_test(tc, test_restart_keys);
	tcase_add_loop_test(tc, test_uint, 0, NELEM(uint_cases));
	tcase_add_loop_test(tc, test_listen, 0, NELEM(listen_cases));
	tcase_add_test(tc, test_listen_list);
	tcase_add_loop_test(tc, test_bool, 0, NELEM(bool_cases));
	tcase_add_loop_test(tc, test_log_level, 0, NELEM(level_cases));
	tcase_add_test(tc, test_connect_ports);
	tcase_add_test(tc, test_strip_names);
	tcase_add_test(tc, test_whitelist_labels);
	tcase_add_test(tc, test_empty_whitelist_section);
	tcase_add_loop_test(tc, test_bad_file, 0, NELEM(bad_files));
	tcase_add_loop_test(tc, test_syntax_error, 0,
	    NELEM(unreadable_files));
	tcase_add_test(tc, test_failure_frees);
	tcase_add_test(tc, test_small_err_buffer);
	tcase_add_test(tc, test_missing_file);
	tcase_add_loop_test(tc, test_repeated_key, 0, NELEM(repeat_cases));
	tcase_add_test(tc, test_directory_refused);
	tcase_add_test(tc, test_shipped_config);
	tcase_add_loop_test(tc, test_quoted_value, 0, NELEM(quote_cases));
	tcase_add_test(tc, test_quoted_text_keys);
	suite_add_tcase(s, tc);
	return s;
}
