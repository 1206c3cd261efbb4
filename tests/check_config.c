/*
 * check_config.c: loading ferry.ini (config.c).
 *
 * Each case writes a small INI file to a temporary path and loads it
 * through config_load(), the same call main() makes. A bad file must fail
 * with a message naming the file, the section, the key and the value.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "suites.h"

static char ini_path[64];

/* Write text to a fresh temporary INI file (ini_path). */
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
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Load text; returns config_load's result, message in err. */
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

START_TEST(test_defaults)
{
	struct ferry_config cfg;
	char err[512];
	const struct sockaddr_in *sin;

	ck_assert_msg(load("", &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(cfg.listen, "127.0.0.1:3128");
	sin = (const struct sockaddr_in *)&cfg.listen_addr;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 3128);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	ck_assert_str_eq(cfg.user, "");
	ck_assert_int_eq(cfg.mode, POOL_MODE_POOL);
	ck_assert_uint_eq(cfg.workers, 32);
	ck_assert_uint_eq(cfg.queue, 256);
	ck_assert_uint_eq(cfg.max_clients, 1024);
	ck_assert_uint_eq(cfg.stack_kb, 256);
	ck_assert_uint_eq(cfg.connect_timeout, 5);
	ck_assert_uint_eq(cfg.io_timeout, 60);
	ck_assert_uint_eq(cfg.retries, 2);
	ck_assert_uint_eq(cfg.header_timeout, 15);
	ck_assert_uint_eq(cfg.idle_timeout, 60);
	ck_assert_uint_eq(cfg.max_header_bytes, 32768);
	ck_assert_uint_eq(cfg.max_headers, 100);
	ck_assert_uint_eq(cfg.max_uri_bytes, 8192);
	ck_assert_uint_eq(cfg.nconnect_ports, 1);
	ck_assert_uint_eq(cfg.connect_ports[0], 443);
	ck_assert(config_connect_port_allowed(&cfg, 443));
	ck_assert(!config_connect_port_allowed(&cfg, 80));
	ck_assert(cfg.via);
	ck_assert(!cfg.forwarded_for);
	ck_assert_uint_eq(cfg.nstrip, 0);
	ck_assert_int_eq(cfg.log_level, LOGL_INFO);
	ck_assert_str_eq(cfg.log_target, "stderr");
	/* No [whitelist]: loopback only. */
	ck_assert(cfg.whitelist_default);
	ck_assert_uint_eq(cfg.whitelist.count, 2);
	config_free(&cfg);
}
END_TEST

START_TEST(test_every_key)
{
	struct ferry_config cfg;
	char err[512];
	const struct sockaddr_in6 *sin6;

	ck_assert_msg(load(
	    "; a comment\n"
	    "[server]\nlisten = [::1]:8080\nuser = nobody\n"
	    "pidfile = /run/ferry.pid\n"
	    "[pool]\nmode = thread\nworkers = 4\nqueue = 8\n"
	    "max_clients = 16\nstack_kb = 128\n"
	    "[upstream]\nconnect_timeout = 3\nio_timeout = 30\nretries = 0\n"
	    "[client]\nheader_timeout = 7\nidle_timeout = 9\n"
	    "[limits]\nmax_header_bytes = 16384\nmax_headers = 50\n"
	    "max_uri_bytes = 4096\n"
	    "[connect]\nports = 443, 563,8443\n"
	    "[headers]\nvia = no\nforwarded_for = yes\n"
	    "strip = User-Agent, referer\n"
	    "[log]\nlevel = debug\ntarget = /var/log/ferry.log\n"
	    "[whitelist]\nlocal = 127.0.0.1 ::1\noffice = 192.0.2.0/24\n",
	    &cfg, err, sizeof(err)) == 0, "%s", err);
	sin6 = (const struct sockaddr_in6 *)&cfg.listen_addr;
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 8080);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	ck_assert_str_eq(cfg.user, "nobody");
	ck_assert_str_eq(cfg.pidfile, "/run/ferry.pid");
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
	ck_assert(config_connect_port_allowed(&cfg, 563));
	ck_assert(config_connect_port_allowed(&cfg, 8443));
	ck_assert(!config_connect_port_allowed(&cfg, 80));
	ck_assert(!cfg.via);
	ck_assert(cfg.forwarded_for);
	ck_assert_uint_eq(cfg.nstrip, 2);
	ck_assert(config_strips_header(&cfg, "user-agent", 10));
	ck_assert(config_strips_header(&cfg, "REFERER", 7));
	ck_assert(!config_strips_header(&cfg, "Refere", 6));
	ck_assert(!config_strips_header(&cfg, "Cookie", 6));
	ck_assert_int_eq(cfg.log_level, LOGL_DEBUG);
	ck_assert_str_eq(cfg.log_target, "/var/log/ferry.log");
	ck_assert(!cfg.whitelist_default);
	ck_assert_uint_eq(cfg.whitelist.count, 3);
	config_free(&cfg);
}
END_TEST

/* Other valid spellings. */
static const char *const good_files[] = {
	"[server]\nlisten = *:3128\n",
	"[server]\nlisten = 0.0.0.0:1\n",
	"[server]\nlisten = [::]:65535\n",
	"[headers]\nvia = off\nforwarded_for = true\n",
	"[headers]\nvia = 0\nforwarded_for = On\n",
	"[connect]\nports =\n",
	"[log]\nlevel = error\n",
	"[log]\nlevel = warn\ntarget = syslog\n",
	"[SERVER]\nLISTEN = 127.0.0.1:3128\n",
	"[whitelist]\n",
	"[upstream]\nretries = 10\n",
};

START_TEST(test_good_file)
{
	struct ferry_config cfg;
	char err[512];

	ck_assert_msg(load(good_files[_i], &cfg, err, sizeof(err)) == 0,
	    "%s: %s", good_files[_i], err);
	config_free(&cfg);
}
END_TEST

/* An empty [whitelist] section admits nobody: no silent default. */
START_TEST(test_empty_whitelist_section)
{
	struct ferry_config cfg;
	char err[512];

	ck_assert(load("[whitelist]\n", &cfg, err, sizeof(err)) == 0);
	ck_assert(!cfg.whitelist_default);
	ck_assert_uint_eq(cfg.whitelist.count, 0);
	config_free(&cfg);
}
END_TEST

/* Bad files, with the words the message must contain besides the path. */
static const struct {
	const char	*text;
	const char	*section;
	const char	*key;
	const char	*value;
} bad_files[] = {
	{ "[bogus]\nkey = 1\n", "[bogus]", NULL, NULL },
	{ "[server]\nlisen = 127.0.0.1:3128\n", "[server]", "lisen",
	    "127.0.0.1:3128" },
	{ "[server]\nlisten = 127.0.0.1\n", "[server]", "listen",
	    "127.0.0.1" },
	{ "[server]\nlisten = 127.0.0.1:0\n", "[server]", "listen",
	    "127.0.0.1:0" },
	{ "[server]\nlisten = 127.0.0.1:65536\n", "[server]", "listen",
	    "127.0.0.1:65536" },
	{ "[server]\nlisten = 127.0.0.1:80x\n", "[server]", "listen",
	    "127.0.0.1:80x" },
	{ "[server]\nlisten = ::1:3128\n", "[server]", "listen",
	    "::1:3128" },
	{ "[server]\nlisten = [127.0.0.1]:3128\n", "[server]", "listen",
	    "[127.0.0.1]:3128" },
	{ "[server]\nlisten = example.com:3128\n", "[server]", "listen",
	    "example.com:3128" },
	{ "[server]\nuser = no-such-user-ferry\n", "[server]", "user",
	    "no-such-user-ferry" },
	{ "[pool]\nmode = fork\n", "[pool]", "mode", "fork" },
	{ "[pool]\nworkers = 80x\n", "[pool]", "workers", "80x" },
	{ "[pool]\nworkers = 0\n", "[pool]", "workers", "0" },
	{ "[pool]\nworkers = -1\n", "[pool]", "workers", "-1" },
	{ "[pool]\nworkers = 0x10\n", "[pool]", "workers", "0x10" },
	{ "[pool]\nworkers = 99999999999999999999\n", "[pool]", "workers",
	    "99999999999999999999" },
	{ "[pool]\nqueue =\n", "[pool]", "queue", NULL },
	{ "[pool]\nstack_kb = 8\n", "[pool]", "stack_kb", "8" },
	{ "[upstream]\nretries = 11\n", "[upstream]", "retries", "11" },
	{ "[upstream]\nio_timeout = 1.5\n", "[upstream]", "io_timeout",
	    "1.5" },
	{ "[client]\nheader_timeout = 0\n", "[client]", "header_timeout",
	    "0" },
	{ "[limits]\nmax_header_bytes = 100\n", "[limits]",
	    "max_header_bytes", "100" },
	{ "[connect]\nports = 443, 0\n", "[connect]", "ports", "443, 0" },
	{ "[connect]\nports = 65536\n", "[connect]", "ports", "65536" },
	{ "[connect]\nports = 443x\n", "[connect]", "ports", "443x" },
	{ "[headers]\nvia = maybe\n", "[headers]", "via", "maybe" },
	{ "[headers]\nstrip = Bad Name:\n", "[headers]", "strip",
	    "Bad Name:" },
	{ "[log]\nlevel = verbose\n", "[log]", "level", "verbose" },
	{ "[whitelist]\nlocal = 300.1.1.1\n", "[whitelist]", "local",
	    "300.1.1.1" },
	{ "[whitelist]\nlocal = 127.0.0.1 10.0.0.0/33\n", "[whitelist]",
	    "local", "10.0.0.0/33" },
};

START_TEST(test_bad_file)
{
	struct ferry_config cfg;
	char err[512];

	ck_assert_msg(load(bad_files[_i].text, &cfg, err, sizeof(err)) == -1,
	    "accepted: %s", bad_files[_i].text);
	ck_assert_msg(strstr(err, ini_path) != NULL, "no path: %s", err);
	ck_assert_msg(strstr(err, bad_files[_i].section) != NULL,
	    "no section: %s", err);
	if (bad_files[_i].key != NULL)
		ck_assert_msg(strstr(err, bad_files[_i].key) != NULL,
		    "no key: %s", err);
	if (bad_files[_i].value != NULL)
		ck_assert_msg(strstr(err, bad_files[_i].value) != NULL,
		    "no value: %s", err);
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
}
END_TEST

/* The example config the package ships loads as it is. */
START_TEST(test_shipped_config)
{
	struct ferry_config cfg;
	char path[512], err[512];
	const char *srcdir = getenv("FERRY_SRCDIR");

	if (srcdir != NULL)
		snprintf(path, sizeof(path), "%s/etc/ferry.ini", srcdir);
	else
		snprintf(path, sizeof(path), "%s/../etc/ferry.ini",
		    TEST_SRCDIR);
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_str_eq(cfg.listen, "127.0.0.1:3128");
	ck_assert(!cfg.whitelist_default);
	ck_assert(cfg.whitelist.count >= 2);
	ck_assert(config_connect_port_allowed(&cfg, 443));
	config_free(&cfg);
}
END_TEST

Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_every_key);
	tcase_add_loop_test(tc, test_good_file, 0,
	    (int)(sizeof(good_files) / sizeof(good_files[0])));
	tcase_add_test(tc, test_empty_whitelist_section);
	tcase_add_loop_test(tc, test_bad_file, 0,
	    (int)(sizeof(bad_files) / sizeof(bad_files[0])));
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_shipped_config);
	suite_add_tcase(s, tc);
	return s;
}
