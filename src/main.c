/*
 * main.c: start-up order, and nothing else.
 *
 *   options → config (-t stops here) → log → signals → listen → pidfile →
 *   drop privileges → pool → accept loop → (signal) → stop pool → exit
 *
 * The config is loaded once and never changes while ferry runs; workers
 * read it through a const pointer.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acceptor.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "pool.h"

#ifndef FERRY_CONFIG_FILE
#define FERRY_CONFIG_FILE "/etc/ferry/ferry.ini"
#endif

/* How long running connections get to finish after a stop signal. */
#define MAIN_STOP_GRACE_MS 5000

static volatile sig_atomic_t main_stop;

static void
main_on_signal(int sig)
{
	(void)sig;
	main_stop = 1;
}

static void
main_usage(FILE *f)
{
	fprintf(f, "usage: ferry [-c FILE] [-f] [-t] [-V] [-h]\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -f       stay in the foreground\n"
	    "  -t       check the configuration and exit\n"
	    "  -V       print the version and exit\n"
	    "  -h       print this help and exit\n", FERRY_CONFIG_FILE);
}

static void
main_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = main_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Everything after the config is loaded; returns the exit status. */
static int
main_serve(const struct ferry_config *cfg)
{
	char err[512];
	struct pool *pool;
	int lfd;

	if (log_open(cfg->log_level, cfg->log_target, err, sizeof(err)) == -1) {
		fprintf(stderr, "ferry: %s\n", err);
		return 1;
	}
	main_signals();
	lfd = acceptor_listen(cfg, err, sizeof(err));
	if (lfd == -1 || daemon_write_pidfile(cfg->pidfile, err,
	    sizeof(err)) == -1 || daemon_drop_privileges(cfg->user, err,
	    sizeof(err)) == -1 || (pool = pool_start(cfg, err,
	    sizeof(err))) == NULL) {
		log_msg(LOGL_ERROR, "%s", err);
		return 1;
	}
	if (cfg->whitelist_default)
		log_msg(LOGL_INFO, "no [whitelist] section: only loopback "
		    "clients (127.0.0.0/8, ::1) may connect");
	log_msg(LOGL_INFO, "ferry %s listening on %s (%s mode, %u %s)",
	    PACKAGE_VERSION, cfg->listen,
	    cfg->mode == POOL_MODE_POOL ? "pool" : "thread",
	    cfg->mode == POOL_MODE_POOL ? cfg->workers : cfg->max_clients,
	    cfg->mode == POOL_MODE_POOL ? "workers" : "threads at most");
	acceptor_run(lfd, cfg, pool, &main_stop);
	log_msg(LOGL_INFO, "stopping");
	close(lfd);
	pool_stop(pool, MAIN_STOP_GRACE_MS);
	daemon_remove_pidfile(cfg->pidfile);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = FERRY_CONFIG_FILE;
	struct ferry_config cfg;
	char err[512];
	bool check_only = false;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:ftVh")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			/* Daemon mode is not built yet: always foreground. */
			break;
		case 't':
			check_only = true;
			break;
		case 'V':
			printf("ferry %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			main_usage(stdout);
			return 0;
		default:
			main_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		main_usage(stderr);
		return 2;
	}
	if (config_load(path, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "ferry: %s\n", err);
		return 1;
	}
	if (check_only) {
		printf("ferry: %s: configuration is valid\n", path);
		config_free(&cfg);
		return 0;
	}
	rc = main_serve(&cfg);
	log_close();
	config_free(&cfg);
	return rc;
}
