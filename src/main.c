/*
 * main.c: start-up order, then the signal loop, and nothing else.
 *
 * Path: start-up and signals. No request passes through here: main.c
 * starts the threads that carry them (pool, idle watcher, acceptor), and
 * the metrics endpoint's (metricsd.c), and stops them in order.
 *
 *   options → config (-t stops here) → block signals → fd limit → log
 *   (stderr or syslog) → pidfile check → listen → detach (unless -f) →
 *   (and [metrics] listen) → pidfile → drop privileges → log files →
 *   pool → idle watcher → metrics endpoint → acceptor → "ready" → signal
 *   loop → stop accepting → stop the metrics endpoint → close parked
 *   clients → drain → close idle origin connections → exit
 *
 * Every signal ferry handles is blocked before the first thread starts, so
 * all threads inherit the mask and the main thread alone takes them, one
 * at a time, with sigwait(): no work is ever done in a signal handler.
 *   SIGHUP           reload the config file (connections dispatched
 *                    from then on use it)
 *   SIGUSR1          reopen the log files (after logrotate moved them)
 *   SIGTERM, SIGINT  stop accepting, let running connections finish for up
 *                    to [server] drain_timeout seconds, exit 0
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acceptor.h"
#include "admit.h"
#include "config.h"
#include "daemon.h"
#include "explain.h"
#include "io.h"
#include "log.h"
#include "metrics.h"
#include "metricsd.h"
#include "parent.h"
#include "park.h"
#include "pool.h"
#include "reuse.h"
#include "serve.h"

#ifndef FERRY_CONFIG_FILE
#define FERRY_CONFIG_FILE "/etc/ferry/ferry.ini"
#endif

/*
 * What main_start() leaves running for main_run(). boot is a config
 * reference of main's own, released at exit; main_run() stops the pool
 * and the acceptor.
 */
struct main_state {
	char			 path[PATH_MAX];	/* absolute: we chdir / */
	const struct ferry_config *boot;	/* the config we started with */
	struct pool		*pool;
	struct acceptor		 acceptor;
	struct metricsd		 metricsd;
	bool			 metricsd_on;	/* [metrics] listen set */
};

static void
main_usage(FILE *f)
{
	fprintf(f, "usage: ferry [-c FILE] [-f] [-t [HOST[:PORT]...]] [-v] "
	    "[-V] [-h]\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -f       stay in the foreground\n"
	    "  -t       check the configuration and exit; with destinations,\n"
	    "           print the rules' verdict and the route of each\n"
	    "  -v       log debug lines; twice, trace every connection's "
	    "stages\n"
	    "  -V       print the version and exit\n"
	    "  -h       print this help and exit\n", FERRY_CONFIG_FILE);
}

/* The signals the loop takes; blocked everywhere else. */
static void
main_signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

static void
main_block_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	main_signal_set(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void
main_log_listening(const struct ferry_config *cfg, unsigned long fds)
{
	if (cfg->whitelist_default)
		log_msg(LOGL_INFO, "no [whitelist] section: only loopback "
		    "clients (127.0.0.0/8, ::1) may connect");
	log_msg(LOGL_INFO, "ferry %s listening on %s (%s mode, %u %s)",
	    PACKAGE_VERSION, cfg->listen,
	    cfg->mode == POOL_MODE_POOL ? "pool" : "thread",
	    cfg->mode == POOL_MODE_POOL ? cfg->workers : cfg->max_clients,
	    cfg->mode == POOL_MODE_POOL ? "workers" : "threads at most");
	log_msg(LOGL_INFO, "open files limit: %lu (about %lu connections)",
	    fds, fds / 2);
}

/*
 * Report a start-up failure: in the log, and to the admin who started
 * ferry (through the pipe once detached, else on stderr unless the log is
 * already there).
 */
static void
main_fail(int ready, const char *err)
{
	log_msg(LOGL_ERROR, "%s", err);
	if (ready >= 0)
		daemon_ready(ready, err);
	else if (!log_on_stderr())
		fprintf(stderr, "ferry: %s\n", err);
}

/*
 * Start the pool in the shape of cfg's [pool] keys, running serve_job()
 * (serve.c) on each admitted connection (admit.c). 0, or -1 with err.
 */
static int
main_start_pool(struct main_state *st, const struct ferry_config *cfg,
    char *err, size_t errlen)
{
	struct pool_shape shape = {
		.thread_per_job = cfg->mode == POOL_MODE_THREAD,
		.workers = cfg->workers,
		.queue = cfg->queue,
		.max_threads = cfg->max_clients,
		.stack_bytes = cfg->stack_kb * 1024UL,
	};

	st->pool = pool_start(&shape, serve_job, sizeof(struct admit_job), err,
	    errlen);
	if (st->pool == NULL)
		return -1;
	return 0;
}

/*
 * The scrape-time gauges (metrics.h): the pool's load, park.c's and
 * reuse.c's counts, and the health of the live config's parents. Runs on
 * the metrics thread.
 */
static void
main_gauges(void *arg, struct metrics_gauges *g)
{
	const struct main_state *st = arg;
	const struct ferry_config *cfg;
	const struct parent *p;
	uint64_t now = io_now_ms();
	unsigned running;
	size_t queued, i, j;

	pool_load(st->pool, &running, &queued);
	g->busy = running;
	g->queued = queued;
	g->parked = park_count();
	g->clients = g->parked + g->busy + g->queued;
	g->pooled = reuse_count();
	cfg = config_acquire();
	for (i = 0; cfg != NULL && i < cfg->routes.nparents; i++) {
		p = &cfg->routes.parents[i];
		for (j = 0; j < p->naddrs; j++) {
			if (parent_addr_up(&p->addr[j], now))
				g->parents_up++;
			else
				g->parents_down++;
		}
	}
	config_release(cfg);
}

/*
 * Start the metrics endpoint on lfd (-1: [metrics] listen is empty, so
 * nothing starts). 0, or -1 with err (lfd closed).
 */
static int
main_start_metrics(struct main_state *st, int lfd, char *err, size_t errlen)
{
	if (lfd == -1)
		return 0;
	metrics_set_gauges(main_gauges, st);
	if (metricsd_start(&st->metricsd, lfd, &st->boot->metrics_allow, err,
	    errlen) == -1) {
		close(lfd);
		return -1;
	}
	st->metricsd_on = true;
	log_msg(LOGL_INFO, "metrics on http://%s/metrics",
	    st->boot->metrics_listen);
	return 0;
}

/*
 * Say each warning of the load of cfg (config.h): to stderr as
 * "ferry: warning: ..." for -t, else to the log at warn.
 */
static void
main_warnings(const struct ferry_config *cfg, bool to_stderr)
{
	const char *line = cfg->warnings, *end;
	size_t kept = 0;

	for (; (end = strchr(line, '\n')) != NULL; line = end + 1, kept++) {
		if (to_stderr)
			fprintf(stderr, "ferry: warning: %.*s\n",
			    (int)(end - line), line);
		else
			log_msg(LOGL_WARN, "config warning: %.*s",
			    (int)(end - line), line);
	}
	if (kept < cfg->nwarnings) {
		if (to_stderr)
			fprintf(stderr, "ferry: warning: %zu more warnings\n",
			    cfg->nwarnings - kept);
		else
			log_msg(LOGL_WARN, "config warning: %zu more warnings",
			    cfg->nwarnings - kept);
	}
}

/*
 * The descriptor from which the watcher starts closing silent and idle
 * clients (park_fd_pressure()): the open files limit less what ferry
 * needs besides client connections, at most half of it: per connection
 * being served, an origin connection and a splice pipe (two); the kept
 * origin connections; and a margin for listeners, logs and the like.
 */
static unsigned long
main_fd_line(const struct ferry_config *cfg, unsigned long limit)
{
	unsigned long served = cfg->mode == POOL_MODE_THREAD ?
	    cfg->max_clients : cfg->workers;
	unsigned long reserve = served * 3 + cfg->keepalive_max + 64;

	if (reserve > limit / 2)
		reserve = limit / 2;
	return limit - reserve;
}

/*
 * After the switch to [server] user: read the config again, with its
 * users and pattern files, as every reload will. Else a file only root
 * may read (a users file left mode 600, say) lets ferry start but fails
 * every reload, which keeps the old rules (a removed user keeps working)
 * while the admin's "reload" command, checking as root, says all is well.
 */
static int
main_check_rereadable(const struct main_state *st, char *err, size_t errlen)
{
	struct ferry_config *again;
	char why[320];	/* with the words around it, fits err's 512 */

	if (st->boot->user[0] == '\0')
		return 0;	/* no switch: read as at start */
	again = config_new(st->path, why, sizeof(why));
	if (again == NULL) {
		snprintf(err, errlen, "as user %s, ferry cannot read its "
		    "configuration again, as each reload must: %s",
		    st->boot->user, why);
		return -1;
	}
	config_release(again);
	return 0;
}

/*
 * Everything up to serving. Returns 0, or -1 after reporting the error.
 *
 * Log files are opened only once ferry runs as its final user, so that
 * the same user can open them again after rotation and on reload; until
 * then messages go to stderr (or to syslog, if that is the target).
 */
static int
main_start(struct main_state *st, bool foreground)
{
	const struct ferry_config *cfg = st->boot;
	bool to_syslog = strcmp(cfg->log_target, "syslog") == 0;
	unsigned long fds;
	char err[512];
	int mfd = -1, ready = -1;

	fds = daemon_raise_fd_limit();
	(void)log_open(cfg->log_level, to_syslog ? "syslog" : "stderr", "",
	    err, sizeof(err));
	if (daemon_pidfile_check(cfg->pidfile, err, sizeof(err)) == -1 ||
	    acceptor_listen(&st->acceptor, cfg, err, sizeof(err)) == -1)
		goto fail;
	if (cfg->metrics_listen[0] != '\0' && (mfd = metricsd_listen(
	    (const struct sockaddr *)&cfg->metrics_addr.addr,
	    cfg->metrics_addr.len, cfg->metrics_listen, err,
	    sizeof(err))) == -1)
		goto fail;
	if (!foreground && (ready = daemon_detach(err, sizeof(err))) == -1)
		goto fail;
	if (daemon_write_pidfile(cfg->pidfile, err, sizeof(err)) == -1)
		goto fail;
	if (daemon_drop_privileges(cfg->user, cfg->group, err,
	    sizeof(err)) == -1 ||
	    main_check_rereadable(st, err, sizeof(err)) == -1 ||
	    log_open(cfg->log_level, cfg->log_target, cfg->log_access, err,
	    sizeof(err)) == -1 ||
	    main_start_pool(st, cfg, err, sizeof(err)) == -1 ||
	    park_start(st->pool, cfg->max_clients, main_fd_line(cfg, fds), err,
	    sizeof(err)) == -1)
		goto fail_pidfile;
	/* Before the acceptor runs, so no request line precedes these. */
	main_warnings(cfg, false);
	main_log_listening(cfg, fds);
	if (main_start_metrics(st, mfd, err, sizeof(err)) == -1)
		goto fail_pidfile;
	if (acceptor_start(&st->acceptor, err, sizeof(err)) == -1)
		goto fail_pidfile;
	daemon_ready(ready, NULL);
	return 0;
fail_pidfile:
	daemon_remove_pidfile(cfg->pidfile);
fail:
	acceptor_close(&st->acceptor);
	main_fail(ready, err);
	return -1;
}

/*
 * SIGHUP: load the file again. On success new connections get the new
 * snapshot and the logs follow the new [log] keys; running connections
 * keep theirs. On any failure the running config stays, whole.
 */
static void
main_reload(const struct main_state *st)
{
	struct ferry_config *cfg;
	char err[512], changed[256];

	cfg = config_new(st->path, err, sizeof(err));
	if (cfg == NULL || log_open(cfg->log_level, cfg->log_target,
	    cfg->log_access, err, sizeof(err)) == -1) {
		log_msg(LOGL_ERROR, "reload failed, the running config "
		    "stays: %s", err);
		config_release(cfg);
		metrics_reload(false);
		return;
	}
	if (config_restart_keys_changed(st->boot, cfg, changed,
	    sizeof(changed)) > 0)
		log_msg(LOGL_WARN, "reload: %s changed, which takes a "
		    "restart; the running value stays", changed);
	config_keep_restart_keys(cfg, st->boot);
	main_warnings(cfg, false);
	config_set_live(cfg);
	metrics_reload(true);
	log_msg(LOGL_INFO, "reloaded %s", st->path);
}

/* Take signals until one says stop. */
static void
main_wait_for_stop(const struct main_state *st)
{
	char err[512];
	sigset_t set;
	int sig;

	main_signal_set(&set);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP)
			main_reload(st);
		else if (sig == SIGUSR1 && log_reopen(err, sizeof(err)) == -1)
			log_msg(LOGL_ERROR, "reopening logs: %s", err);
		else if (sig == SIGUSR1)
			log_msg(LOGL_INFO, "log files reopened");
		else
			return;
	}
}

/* Serve until a stop signal, then drain. Returns the exit status. */
static int
main_run(struct main_state *st)
{
	const struct ferry_config *cfg;
	unsigned drain, left;
	uint64_t deadline;
	size_t parked;

	main_wait_for_stop(st);
	acceptor_stop(&st->acceptor);
	/* Before the pool goes: the gauges read it at each scrape. */
	if (st->metricsd_on)
		metricsd_stop(&st->metricsd);
	cfg = config_acquire();
	drain = cfg->drain_timeout;
	config_release(cfg);
	/* One drain_timeout for both: parked clients first, then the pool. */
	deadline = io_now_ms() + drain * 1000ULL;
	log_msg(LOGL_INFO, "stopping: no new connections, draining for up "
	    "to %u s", drain);
	parked = park_stop(drain * 1000);
	log_msg(LOGL_INFO, "stopping: %zu idle keep-alive connection(s) "
	    "and unfinished request head(s) closed", parked);
	left = pool_stop(st->pool, (unsigned)io_ms_left(deadline));
	reuse_clear();
	if (left > 0)
		log_msg(LOGL_WARN, "drain_timeout reached: %u connection(s) "
		    "cut", left);
	daemon_remove_pidfile(st->boot->pidfile);
	log_msg(LOGL_INFO, "stopped");
	return 0;
}

/*
 * -c FILE made absolute, so that a reload after chdir("/") finds it. Not
 * resolved: if FILE is a symbolic link, a reload reads what it points to
 * then (a link a deployment tool moves to a new file), and a relative
 * path in the file is taken from the link's folder, where the admin
 * wrote it.
 */
static int
main_config_path(const char *arg, char *path)
{
	char cwd[PATH_MAX];
	int n;

	if (arg[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		n = snprintf(path, PATH_MAX, "%s", arg);
	else
		n = snprintf(path, PATH_MAX, "%s/%s", cwd, arg);
	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

int
main(int argc, char **argv)
{
	static struct main_state st;
	struct ferry_config *live;
	const char *arg = FERRY_CONFIG_FILE;
	bool check_only = false, foreground = false;
	unsigned verbose = 0;
	char err[512];
	int ch, rc, fd;

	/*
	 * Make sure fds 0-2 are open: started with one closed, the listening
	 * socket would take its number, and detaching (stdio to /dev/null)
	 * would silently replace it.
	 */
	do
		fd = open("/dev/null", O_RDWR);
	while (fd >= 0 && fd <= 2);
	if (fd > 2)
		close(fd);

	while ((ch = getopt(argc, argv, "c:ftvVh")) != -1) {
		switch (ch) {
		case 'c':
			arg = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 't':
			check_only = true;
			break;
		case 'v':
			verbose++;
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
	if (optind != argc && !check_only) {
		main_usage(stderr);
		return 2;
	}
	if (verbose > 0)
		log_set_floor(verbose > 1 ? LOGL_TRACE : LOGL_DEBUG);
	if (main_config_path(arg, st.path) == -1) {
		fprintf(stderr, "ferry: %s: path too long\n", arg);
		return 1;
	}
	live = config_new(st.path, err, sizeof(err));
	if (live == NULL) {
		fprintf(stderr, "ferry: %s\n", err);
		return 1;
	}
	if (check_only) {
		main_warnings(live, true);
		printf("ferry: %s: configuration is valid\n", arg);
		/* Destinations named after the options: a bad one is exit 2. */
		for (rc = 0; optind < argc; optind++)
			if (explain_destination(live, argv[optind], stdout) < 0)
				rc = 2;
		config_release(live);
		return rc;
	}
	main_block_signals();
	metrics_init();
	config_set_live(live);
	st.boot = config_acquire();
	rc = main_start(&st, foreground) == 0 ? main_run(&st) : 1;
	config_set_live(NULL);
	config_release(st.boot);
	log_close();
	return rc;
}
