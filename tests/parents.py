#!/usr/bin/env python3
"""parents: real parent proxies for ferry's end-to-end tests.

ferry can forward through a parent proxy, HTTP or SOCKS5. The tests of
that drive real parents, never mocks: each class here runs one real
program in the foreground on a kernel-chosen loopback port, in its own
temporary directory, and stops it by the pid it started (SIGTERM, then
SIGKILL after a bound, then whatever is left of the process group it
made: the helpers the program forked). Every wait is bounded.

  Squid(users=None, allow_connect=True, extra=())
      squid (Debian package squid), an HTTP parent. users={"name": "pw"}
      makes a bcrypt htpasswd file (htpasswd -B, apache2-utils) checked by
      squid's basic_ncsa_auth; without users it serves any loopback
      client. CONNECT goes to any port unless allow_connect=False (then
      squid answers 403). extra: more squid.conf lines, put before the
      http_access rules. No disk cache, no memory cache.
      .port .proxy ("http://127.0.0.1:PORT") .proxy_url(user, password)
      .access_log_lines() (not the line of its own start probe)
      .cache_log() .dir .users .start_seconds .stop_seconds
      Only 127.0.0.1 listens; origins may be 127.0.0.0/8 or [::1].

  Dante(users=None)
      danted (Debian package dante-server), a SOCKS5 parent, CONNECT only.
      users={"name": "pw"} turns on socksmethod username, which dante
      checks against the system password database: the users are made
      with useradd and chpasswd (GECOS "ferry test parent") and deleted
      on exit, which needs root; without root, entering raises
      ferrytest.Skip. A name that exists already and is not one of ours
      is refused (RuntimeError), so pick names no system has (ferryp_*)
      and different names in tests that may run at the same time.
      .port .proxy ("socks5h://127.0.0.1:PORT") .proxy_url(user, password)
      .log() .dir .users .start_seconds .stop_seconds
      IPv4 only (external: 127.0.0.1): targets on 127.0.0.0/8.

  Microsocks(user=None, password=None)
      microsocks (Debian package microsocks), a small SOCKS5 parent; with
      user and password it requires RFC 1929 username/password auth of
      its own (no system user). Same attributes as Dante, with .user
      and .password instead of .users; .log() is its stderr.

All are context managers (entering starts, leaving stops and removes the
directory); start() and stop() work too. `python3 tests/parents.py`
checks each with curl alone (no ferry) and ends with "N passed, N failed".
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ferrytest import Skip, free_port, read_text, wait_listening  # noqa

SQUID = os.environ.get("FERRY_SQUID", "/usr/sbin/squid")
NCSA = "/usr/lib/squid/basic_ncsa_auth"
DANTED = os.environ.get("FERRY_DANTED", "/usr/sbin/danted")
MICROSOCKS = os.environ.get("FERRY_MICROSOCKS", "/usr/bin/microsocks")
GECOS = "ferry test parent"
START_TIMEOUT = 20.0  # squid starts in about 0.1 s here; CI may be slower
STOP_TIMEOUT = 10.0
PROBE_LINE = "error:transaction-end-before-headers"


def is_root():
    return os.geteuid() == 0


def _retry(cmd, tries=10, **kw):
    """Run cmd, again after a pause if it fails (useradd and friends fail
    while another test holds the lock on /etc/passwd); the last result."""
    for i in range(tries):
        r = subprocess.run(cmd, capture_output=True, timeout=30, **kw)
        if r.returncode == 0:
            return r
        time.sleep(0.2 * (i + 1))
    return r


def group_members(pgid):
    """The pids of the live (not zombie) processes in process group
    pgid."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may hold spaces
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(name))
    return pids


class Parent:
    """What the parents share: a directory, a process started in its own
    session, a bounded wait for the port and a bounded stop."""

    name = "parent"
    scheme = "http"

    def __init__(self):
        self.host = "127.0.0.1"
        self.port = free_port(self.host)
        # Not under ferrytest.TMP: that one is 0700 root, and a parent
        # run as root drops to nobody, which must write here.
        self.dir = tempfile.mkdtemp(prefix="ferry-%s-" % self.name)
        self.proc = None
        self.start_seconds = None
        self.stop_seconds = None
        self.stderr_path = os.path.join(self.dir, "stderr")

    def command(self):
        raise NotImplementedError

    def prepare(self):
        """Write the config files; called by start()."""

    def cleanup(self):
        """Undo what prepare() did outside self.dir."""

    def diagnostics(self):
        return read_text(self.stderr_path)[-3000:]

    def start(self):
        t0 = time.monotonic()
        try:
            self.prepare()
            with open(self.stderr_path, "wb") as err:
                self.proc = subprocess.Popen(
                    self.command(), stdin=subprocess.DEVNULL,
                    stdout=err, stderr=err, cwd=self.dir,
                    start_new_session=True)
            deadline = t0 + START_TIMEOUT
            while not wait_listening(self.host, self.port, timeout=0.2):
                if self.proc.poll() is not None or \
                        time.monotonic() > deadline:
                    raise RuntimeError(
                        "%s did not listen on %d within %.0f s (exit %s):"
                        "\n%s" % (self.name, self.port, START_TIMEOUT,
                                  self.proc.poll(), self.diagnostics()))
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0
        return self

    def stop(self):
        """SIGTERM to the pid started, SIGKILL after STOP_TIMEOUT, then
        SIGKILL to what is left of the process group it leads (helpers);
        remove the directory. Returns the exit status (None if it never
        started)."""
        t0 = time.monotonic()
        status = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            status = self.proc.returncode
            # The session start() made (its pgid is proc.pid): helpers
            # squid or dante forked and did not end with it; then wait
            # (bounded) until the group is gone.
            # Zombies count as gone: a container's init may be slow to
            # reap the orphans.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            deadline = time.monotonic() + 5
            while group_members(self.proc.pid) and \
                    time.monotonic() < deadline:
                time.sleep(0.02)
            self.proc = None
        try:
            self.cleanup()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.stop_seconds = time.monotonic() - t0
        return status

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def proxy(self):
        return "%s://%s:%d" % (self.scheme, self.host, self.port)

    def proxy_url(self, user=None, password=None):
        """The proxy URL for curl -x, with user:password@ if given."""
        cred = ""
        if user is not None:
            cred = user + (":" + password if password is not None else "")
            cred += "@"
        return "%s://%s%s:%d" % (self.scheme, cred, self.host, self.port)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Squid(Parent):
    """A real squid (squid -N: no daemon, no SMP kids) on 127.0.0.1.

    users: {"name": "password"} for basic auth (407 without or with wrong
    credentials), or None to serve any client on 127.0.0.0/8 without auth.
    allow_connect: False makes squid refuse every CONNECT (403).
    extra: more squid.conf lines, put before the http_access rules.
    """

    name = "squid"
    scheme = "http"

    def __init__(self, users=None, allow_connect=True, extra=()):
        super().__init__()
        self.users = dict(users or {})
        self.allow_connect = allow_connect
        self.extra = list(extra)
        self.conf = os.path.join(self.dir, "squid.conf")
        self.access_log = os.path.join(self.dir, "access.log")
        self.cache_log_path = os.path.join(self.dir, "cache.log")
        self.passwd = os.path.join(self.dir, "passwd")
        self.log_offset = 0

    def prepare(self):
        d = self.dir
        lines = [
            "http_port %s:%d" % (self.host, self.port),
            "visible_hostname ferry-test-squid",
            "pid_filename %s/squid.pid" % d,
            "cache_log %s" % self.cache_log_path,
            "access_log stdio:%s" % self.access_log,
            "cache_store_log none",
            "coredump_dir %s" % d,
            "netdb_filename none",
            "pinger_enable off",
            "cache deny all",
            "cache_mem 0 MB",
            "shutdown_lifetime 0 seconds",
            "dns_timeout 5 seconds",
            "connect_timeout 10 seconds",
            "acl localnet src 127.0.0.0/8 ::1",
            "acl CONNECT method CONNECT",
        ]
        if is_root():
            # squid will not run as root: it drops to this user, which
            # must write the logs and read the password file.
            lines.append("cache_effective_user nobody")
        if self.users:
            with open(self.passwd, "w"):
                pass
            for user, password in self.users.items():
                r = subprocess.run(["htpasswd", "-i", "-B", self.passwd,
                                    user], input=password.encode(),
                                   capture_output=True, timeout=30)
                if r.returncode != 0:
                    raise RuntimeError("htpasswd: %s" % r.stderr)
            lines += [
                "auth_param basic program %s %s" % (NCSA, self.passwd),
                "auth_param basic children 2 startup=1 idle=1",
                "auth_param basic realm ferry-test-squid",
                "auth_param basic credentialsttl 1 second",
                "acl authenticated proxy_auth REQUIRED",
            ]
        lines += self.extra
        lines.append("http_access deny !localnet")
        if not self.allow_connect:
            lines.append("http_access deny CONNECT")
        lines.append("http_access allow authenticated" if self.users
                     else "http_access allow localnet")
        lines.append("http_access deny all")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        if is_root():
            nobody = subprocess.run(["id", "-u", "nobody"],
                                    capture_output=True, text=True)
            uid = int(nobody.stdout)
            for p in [d] + [os.path.join(d, n) for n in os.listdir(d)]:
                os.chown(p, uid, -1)
            if self.users:
                os.chmod(self.passwd, 0o600)

    def command(self):
        return [SQUID, "-N", "-f", self.conf]

    def start(self):
        super().start()
        # The readiness probe connected and closed without a request:
        # squid logs that as "error:transaction-end-before-headers".
        # Wait (bounded) for that line and skip it in access_log_lines().
        deadline = time.monotonic() + 3
        while PROBE_LINE not in read_text(self.access_log) and \
                time.monotonic() < deadline:
            time.sleep(0.02)
        self.log_offset = len(read_text(self.access_log))
        return self

    def diagnostics(self):
        return (read_text(self.stderr_path)[-1500:] +
                read_text(self.cache_log_path)[-3000:])

    def cache_log(self):
        return read_text(self.cache_log_path)

    def access_log_lines(self):
        """The lines of squid's access log so far (squid's native format:
        time elapsed client code/status bytes method URL user
        hierarchy/peer type), oldest first."""
        text = read_text(self.access_log)[self.log_offset:]
        return [line for line in text.splitlines() if line.strip()]


class Dante(Parent):
    """A real dante-server (danted -N 1, foreground) on 127.0.0.1.

    users: {"name": "password"}: SOCKS5 username/password auth against
    system users made (and removed) here; root only (else Skip).
    """

    name = "dante"
    scheme = "socks5h"

    def __init__(self, users=None):
        super().__init__()
        self.users = dict(users or {})
        self.conf = os.path.join(self.dir, "danted.conf")
        self.logfile = os.path.join(self.dir, "danted.log")
        self.made_users = []

    def prepare(self):
        if self.users:
            if not is_root():
                raise Skip("dante's username method checks system users; "
                           "making them needs root")
            for user, password in self.users.items():
                self.add_user(user, password)
        d = self.dir
        lines = [
            "logoutput: %s" % self.logfile,
            "internal: %s port = %d" % (self.host, self.port),
            "external: %s" % self.host,
            "clientmethod: none",
            "socksmethod: %s" % ("username" if self.users else "none"),
        ]
        if is_root():
            # Reading /etc/shadow for the username method needs root;
            # the rest runs as nobody.
            lines += ["user.privileged: root",
                      "user.unprivileged: nobody"]
        lines += [
            "timeout.negotiate: 10",
            "client pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n}",
            "socks pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n"
            "  command: connect\n  log: error connect disconnect\n}",
            "socks block {\n  from: 0.0.0.0/0 to: 0.0.0.0/0\n"
            "  log: connect error\n}",
        ]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(d, 0o755)

    def add_user(self, user, password):
        r = subprocess.run(["getent", "passwd", user], capture_output=True,
                           text=True, timeout=30)
        if r.returncode == 0 and r.stdout.split(":")[4] != GECOS:
            raise RuntimeError("system user %r exists and is not a ferry "
                               "test user: choose another name" % user)
        if r.returncode != 0:  # else a leftover of ours: reuse it
            r = _retry(["useradd", "-M", "-N", "-c", GECOS, "-d",
                        "/nonexistent", "-s", "/usr/sbin/nologin", user])
            if r.returncode != 0:
                raise RuntimeError("useradd %s: %s" % (user, r.stderr))
        self.made_users.append(user)
        r = _retry(["chpasswd"], input=("%s:%s\n" % (user, password))
                   .encode())
        if r.returncode != 0:
            raise RuntimeError("chpasswd %s: %s" % (user, r.stderr))

    def cleanup(self):
        while self.made_users:
            user = self.made_users.pop()
            _retry(["userdel", user])

    def command(self):
        return [DANTED, "-f", self.conf, "-N", "1", "-p",
                os.path.join(self.dir, "danted.pid")]

    def diagnostics(self):
        return (read_text(self.stderr_path)[-1500:] +
                read_text(self.logfile)[-3000:])

    def log(self):
        return read_text(self.logfile)


class Microsocks(Parent):
    """microsocks on 127.0.0.1: SOCKS5, with -u/-P auth if user given."""

    name = "microsocks"
    scheme = "socks5h"

    def __init__(self, user=None, password=None):
        super().__init__()
        if (user is None) != (password is None):
            raise ValueError("microsocks needs both user and password")
        self.user = user
        self.password = password

    def command(self):
        cmd = [MICROSOCKS, "-i", self.host, "-p", str(self.port)]
        if self.user is not None:
            cmd += ["-u", self.user, "-P", self.password]
        return cmd

    def log(self):
        return read_text(self.stderr_path)


# ---------------------------------------------------------------------
# Self-test: each parent proxies for curl, without ferry.

def _selftest():
    from ferrytest import TMP, Origin, Suite, curl, make_cert
    suite = Suite("parents")
    state = {}

    def cert():
        if "cert" not in state:
            state["cert"] = make_cert()
        return state["cert"]

    def code(r):
        return r.stdout.decode().strip()

    def connect_code(url, proxy):
        """The status the proxy answered to curl's CONNECT."""
        r = curl("-k", "-o", "/dev/null", "-w", "%{http_connect}", url,
                 proxy=proxy)
        return code(r)

    def timing(p):
        print("     %s: started in %.2f s, stopped in %.2f s"
              % (p.name, p.start_seconds, p.stop_seconds))

    def refused_port():
        return free_port()

    @suite.test
    def squid_plain_get():
        with Origin() as o:
            s = Squid()
            with s:
                r = curl(o.url("/hello"), proxy=s.proxy)
                assert r.returncode == 0, r.stderr
                assert r.stdout == b"hello\n", r.stdout
                r = curl(o.url("/echo"), proxy=s.proxy)
                echo = r.stdout.decode("latin-1")
                print("     squid sends the origin:\n       " +
                      "\n       ".join(echo.split("\r\n")[:12]))
                assert "Via: 1.1 ferry-test-squid (squid/" in echo, echo
                lines = s.access_log_lines()
                assert len(lines) == 2, lines  # not the start probe
                assert "/hello" in lines[0], lines
                print("     access log: %s" % lines[-1])
            timing(s)

    @suite.test
    def squid_auth():
        with Origin() as o, Squid(users={"alice": "s3cret pw",
                                         "bob": "other:1"}) as s:
            r = curl(o.url("/hello"), proxy=s.proxy_url("alice",
                                                        "s3cret%20pw"))
            assert r.returncode == 0 and r.stdout == b"hello\n", r
            r = curl("--proxy-user", "bob:other:1", o.url("/hello"),
                     proxy=s.proxy)
            assert r.returncode == 0 and r.stdout == b"hello\n", r
            for url in (s.proxy_url("alice", "wrong"), s.proxy):
                r = curl("-o", "/dev/null", "-w", "%{http_code}",
                         o.url("/hello"), proxy=url)
                assert code(r) == "407", (url, r)
            r = curl("-i", o.url("/hello"), proxy=s.proxy_url("x", "y"))
            head = r.stdout.split(b"\r\n\r\n")[0].decode("latin-1")
            print("     wrong credentials:\n       " +
                  "\n       ".join(head.split("\r\n")))
            assert 'Proxy-Authenticate: Basic realm="ferry-test-squid"' \
                in head, head
            # CONNECT asks for credentials too
            c = connect_code("https://127.0.0.1:%d/" % o.port,
                             s.proxy_url("alice", "nope"))
            assert c == "407", c
            assert any(" alice " in ln for ln in s.access_log_lines()), \
                s.access_log_lines()

    @suite.test
    def squid_connect_tls():
        with Origin(tls=cert()) as o, Squid(users={"carol": "pw1"}) as s:
            r = curl("-k", o.url("/hello"),
                     proxy=s.proxy_url("carol", "pw1"))
            assert r.returncode == 0 and r.stdout == b"hello\n", r
            with Squid() as s2:
                r = curl("-k", o.url("/hello"), proxy=s2.proxy)
                assert r.returncode == 0 and r.stdout == b"hello\n", r
                c = connect_code("https://127.0.0.1:%d/" % refused_port(),
                                 s2.proxy)
                print("     CONNECT to a closed port: %s" % c)
                assert c == "503", c
                r = curl("-o", "/dev/null", "-w", "%{http_code}",
                         "http://127.0.0.1:%d/" % refused_port(),
                         proxy=s2.proxy)
                print("     GET to a closed port: %s" % code(r))
                assert code(r) == "503", r
        with Origin(tls=cert()) as o, Squid(allow_connect=False) as s:
            c = connect_code(o.url("/hello"), s.proxy)
            print("     CONNECT refused by http_access: %s" % c)
            assert c == "403", c

    def socks_checks(p, user=None, password=None):
        with Origin() as o:
            if user is None:
                r = curl("--socks5-hostname", "127.0.0.1:%d" % p.port,
                         o.url("/hello"))
                assert r.returncode == 0 and r.stdout == b"hello\n", r
                r = curl("--socks5", "127.0.0.1:%d" % p.port,
                         o.url("/hello"))
                assert r.returncode == 0 and r.stdout == b"hello\n", r
            else:
                r = curl(o.url("/hello"), proxy=p.proxy_url(user, password))
                assert r.returncode == 0 and r.stdout == b"hello\n", r
                r = curl(o.url("/hello"), proxy=p.proxy_url(user, "bad"))
                assert r.returncode != 0, r
                print("     wrong password: curl exit %d: %s"
                      % (r.returncode, r.stderr.decode().strip()))
                r = curl("--socks5-hostname", "127.0.0.1:%d" % p.port,
                         o.url("/hello"))
                assert r.returncode != 0, r
                print("     no credentials: curl exit %d: %s"
                      % (r.returncode, r.stderr.decode().strip()))
            with Origin(tls=cert()) as t:
                r = curl("-k", t.url("/hello"),
                         proxy=p.proxy_url(user, password))
                assert r.returncode == 0 and r.stdout == b"hello\n", r
            r = curl(o.url("/hello").replace(str(o.port),
                                             str(refused_port())),
                     proxy=p.proxy_url(user, password))
            print("     closed target port: curl exit %d: %s"
                  % (r.returncode, r.stderr.decode().strip()))
            assert r.returncode != 0, r

    @suite.test
    def dante_no_auth():
        p = Dante()
        with p:
            socks_checks(p)
        timing(p)

    @suite.test
    def dante_auth():
        p = Dante(users={"ferryp_dan": "d4nte pw"})
        with p:
            socks_checks(p, "ferryp_dan", "d4nte%20pw")
        timing(p)
        r = subprocess.run(["getent", "passwd", "ferryp_dan"],
                           capture_output=True)
        assert r.returncode != 0, "the system user was not removed"

    @suite.test
    def microsocks_no_auth():
        p = Microsocks()
        with p:
            socks_checks(p)
        timing(p)

    @suite.test
    def microsocks_auth():
        p = Microsocks("mia", "m1cro")
        with p:
            socks_checks(p, "mia", "m1cro")
        timing(p)

    @suite.test
    def stop_leaves_nothing():
        for p in (Squid(users={"u": "p"}), Dante(), Microsocks()):
            with p:
                pid = p.proc.pid
                d = p.dir
            assert not os.path.exists(d), d
            assert not os.path.exists("/proc/%d" % pid), pid
            assert not group_members(pid), group_members(pid)

    for prog in (SQUID, DANTED, MICROSOCKS):
        if not os.access(prog, os.X_OK):
            print("%s is missing (apt-get install squid dante-server "
                  "microsocks)" % prog)
    status = suite.run()
    shutil.rmtree(TMP, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(_selftest())
