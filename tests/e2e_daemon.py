#!/usr/bin/env python3
"""e2e_daemon: ferry as a long-running system daemon.

Detaching without -f (and telling the truth in the exit status), the
pidfile rules (stale, live, removed on exit), SIGHUP reload (new
connections get the new config, running ones keep theirs, a broken file
changes nothing), SIGTERM drain, SIGUSR1 log reopening, the access log's
format, and the drop to user and group.
"""
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from ferrytest import (FERRY_BIN, TMP, Ferry, Origin, Script, Suite, body_of,
                       echo, free_port, raw, read_response, read_text,
                       status_of, wait_for, write_ini)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from origin import pattern  # noqa: E402

suite = Suite("daemon")


def get(o, path="/hello"):
    """A GET asking ferry to close after the answer (raw() reads until
    the close)."""
    return (b"GET http://%s%s HTTP/1.1\r\nHost: %s\r\nConnection: close"
            b"\r\n\r\n"
            % (o.authority.encode(), path.encode(), o.authority.encode()))


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not alive either (it is not ours to reap if detached).
    try:
        with open("/proc/%d/stat" % pid) as st:
            return st.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def pids_running(ini):
    """Pids of the processes whose command line names this INI file."""
    pids = []
    for name in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                if ini.encode() in f.read().split(b"\0") and alive(int(name)):
                    pids.append(int(name))
        except (OSError, ValueError):
            pass
    return pids


def read_pid(path):
    with open(path) as f:
        return int(f.read().strip())


class Daemon:
    """ferry started without -f: it detaches; the pidfile says where it
    went. stop() sends SIGTERM and waits for it to go away."""

    def __init__(self, extra=None):
        self.dir = tempfile.mkdtemp(dir=TMP)
        self.port = free_port()
        self.pidfile = os.path.join(self.dir, "ferry.pid")
        self.logfile = os.path.join(self.dir, "ferry.log")
        self.ini = os.path.join(self.dir, "ferry.ini")
        sections = {
            "server": {"listen": "127.0.0.1:%d" % self.port,
                       "pidfile": self.pidfile},
            "log": {"level": "info", "target": self.logfile},
            "destinations": {"allow": "127.0.0.1"},  # the loopback origin
        }
        for name, keys in (extra or {}).items():
            sections.setdefault(name, {}).update(keys)
        write_ini(self.ini, sections)
        self.pid = None

    def start(self):
        """Run ferry; returns the CompletedProcess of the starting one."""
        r = subprocess.run([FERRY_BIN, "-c", self.ini], capture_output=True,
                           timeout=15)
        if r.returncode == 0:
            self.pid = read_pid(self.pidfile)
        return r

    def log(self):
        return read_text(self.logfile)

    def stop(self):
        if self.pid is not None and alive(self.pid):
            os.kill(self.pid, signal.SIGTERM)
            assert wait_for(lambda: not alive(self.pid), 10), self.log()


@suite.test
def detaches_and_exits_0_once_serving():
    d = Daemon()
    try:
        t0 = time.monotonic()
        r = d.start()
        assert r.returncode == 0, r
        assert r.stdout == b"" and r.stderr == b"", r
        assert time.monotonic() - t0 < 5
        pid = d.pid
        # It serves as soon as the starter returned: no sleep needed.
        with Origin() as o:
            resp = raw(d.port, get(o))
            assert status_of(resp) == 200 and body_of(resp) == b"hello\n"
        with open("/proc/%d/stat" % pid) as st:
            fields = st.read().split(") ", 1)[1].split()
        ppid, sid = int(fields[1]), int(fields[3])
        assert ppid != os.getpid(), ppid  # not our child: detached
        assert sid != pid and sid != os.getsid(0), (sid, pid)
        assert os.readlink("/proc/%d/cwd" % pid) == "/"
        for fd in (0, 1, 2):
            assert os.readlink("/proc/%d/fd/%d" % (pid, fd)) == \
                "/dev/null", fd
        d.stop()
        assert not os.path.exists(d.pidfile)
        assert "stopped" in d.log(), d.log()
        # Every line names the detached process, not the one that forked
        # it (log.c reads the pid once per log_open()).
        pids = set(re.findall(r" ferry\[(\d+)\] ", d.log()))
        assert pids == {str(pid)}, (pids, pid, d.log())
    finally:
        d.stop()


@suite.test
def start_failures_exit_1_with_the_reason():
    # Before detaching: the port is taken.
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        d = Daemon({"server": {"listen": "127.0.0.1:%d" % port}})
        r = d.start()
        assert r.returncode == 1, r
        assert b"127.0.0.1:%d" % port in r.stderr, r.stderr
    # After detaching: the daemon's own error comes back through the
    # starter, which exits 1 (an init script must not say "started").
    d = Daemon({"server": {"pidfile": "/nonexistent-dir/ferry.pid"}})
    r = d.start()
    assert r.returncode == 1, r
    assert b"cannot write pidfile /nonexistent-dir/ferry.pid" in r.stderr, \
        r.stderr
    assert wait_for(lambda: not listening(d.port)), "daemon left running"


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), 0.5):
            return True
    except OSError:
        return False


@suite.test
def live_pidfile_stops_a_second_ferry():
    d = Daemon()
    try:
        assert d.start().returncode == 0
        # Same pidfile, another port: refused, and the first one stays.
        d2 = Daemon({"server": {"pidfile": d.pidfile}})
        r = d2.start()
        assert r.returncode == 1, r
        assert b"already running (pid %d" % d.pid in r.stderr, r.stderr
        assert not listening(d2.port)
        assert read_pid(d.pidfile) == d.pid
        assert alive(d.pid)
    finally:
        d.stop()


@suite.test
def two_ferries_started_together_one_wins_the_pidfile():
    # Both pass the pidfile check before either writes it; the file then
    # appears whole (link of a written temp file), so the second always
    # finds the first's pid, never an empty file it would take for a
    # leftover and replace. 10 rounds, each bounded by Daemon.start().
    for _ in range(10):
        a = Daemon()
        b = Daemon({"server": {"pidfile": a.pidfile}})
        procs = [subprocess.Popen([FERRY_BIN, "-c", d.ini],
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for d in (a, b)]
        codes = [p.wait(15) for p in procs]
        errs = [p.stderr.read() for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        try:
            assert sorted(codes) == [0, 1], (codes, errs)
            assert b"already running" in errs[codes.index(1)], errs
            winner = (a, b)[codes.index(0)]
            winner.pid = read_pid(a.pidfile)
            assert alive(winner.pid) and listening(winner.port)
            # The loser got past the check and bound its port before the
            # pidfile stopped it: it lets go as it exits.
            loser = (a, b)[codes.index(1)]
            assert wait_for(lambda: not listening(loser.port), 5)
            assert [n for n in os.listdir(a.dir) if ".pid." in n] == [], \
                os.listdir(a.dir)
        finally:
            # Both may have detached (the bug this catches): stop each
            # by the pid of the process running its own INI file.
            for d in (a, b):
                for pid in pids_running(d.ini):
                    d.pid = pid
                    d.stop()


@suite.test
def stale_pidfiles_are_replaced():
    # A crashed ferry's pid (now dead), garbage, an empty file, and a pid
    # reused by another program: none of them is a running ferry.
    dead = subprocess.Popen(["true"])
    dead.wait()
    for content in ("%d\n" % dead.pid, "garbage\n", "",
                    "%d\n" % os.getpid()):
        d = Daemon()
        with open(d.pidfile, "w") as f:
            f.write(content)
        try:
            r = d.start()
            assert r.returncode == 0, (content, r)
            assert d.pid != os.getpid() and alive(d.pid)
        finally:
            d.stop()
        assert not os.path.exists(d.pidfile), content


# --- SIGHUP ---

@suite.test
def reload_changes_the_whitelist_for_new_connections():
    with Origin() as o, Ferry({"whitelist": {"a": "127.0.0.1"}}) as f:
        r = raw(f.port, get(o), source="127.0.0.2")
        assert status_of(r) == 403, r[:100]
        f.reload({"whitelist": {"a": "127.0.0.1 127.0.0.2"}})
        r = raw(f.port, get(o), source="127.0.0.2")
        assert status_of(r) == 200, r[:100]
        f.reload({"whitelist": {"a": "127.0.0.2"}})
        r = raw(f.port, get(o))
        assert status_of(r) == 403, r[:100]


@suite.test
def reload_follows_a_config_link_moved_to_a_new_file():
    # -c names a symbolic link that a deployment tool moves to a new file
    # and then reloads: the reload reads the new file, not the one the
    # link named at start.
    with Origin() as o:
        f = Ferry({"whitelist": {"a": "127.0.0.1 127.0.0.2"}})
        first, second = f.ini, os.path.join(f.dir, "second.ini")
        os.rename(first, second)
        f.configure({"whitelist": {"a": "127.0.0.1"}})
        link = os.path.join(f.dir, "current.ini")
        os.symlink("ferry.ini", link)
        f.ini = link
        with f:
            r = raw(f.port, get(o), source="127.0.0.2")
            assert status_of(r) == 403, r[:100]
            os.symlink("second.ini", link + ".new")
            os.replace(link + ".new", link)
            f.proc.send_signal(signal.SIGHUP)
            assert wait_for(lambda: "reloaded %s" % link in f.log()), \
                f.log()[-1000:]
            r = raw(f.port, get(o), source="127.0.0.2")
            assert status_of(r) == 200, r[:100]


@suite.test
def reload_refuses_an_open_connection_whatever_it_sends_next():
    # A keep-alive connection admitted under the old whitelist meets the
    # new one on its next request: a 403, also when that head is
    # malformed (not the 400 that tells a listed client what is wrong).
    with Origin() as o, Ferry({"whitelist": {"a": "127.0.0.1"}}) as f:
        for bad in (False, True):
            with socket.create_connection(("127.0.0.1", f.port), 5) as s:
                s.settimeout(5)
                s.sendall(get(o).replace(b"close", b"keep-alive"))
                first = read_response(s)
                assert status_of(first) == 200, first[:100]
                f.reload({"whitelist": {"a": "127.0.0.2"}})
                s.sendall(b"GET / HTTP/1.1\r\nBad Field: x\r\n\r\n" if bad
                          else get(o))
                r = read_response(s)
                assert status_of(r) == 403, (bad, r[:200])
                assert b"may not use this proxy" in r, r[:400]
            f.reload({"whitelist": {"a": "127.0.0.1"}})


@suite.test
def broken_file_keeps_the_running_config():
    with Origin() as o, Ferry({"whitelist": {"a": "127.0.0.1 127.0.0.2"}}) \
            as f:
        pid = f.proc.pid
        for broken in ("[pool]\nworkers = many\n",
                       "[whitelist]\na = 127.0.0.999\n",
                       "[nonsense]\nx = 1\n",
                       "[log]\ntarget = /nonexistent-dir/ferry.log\n"):
            f.reload(broken, expect="reload failed")
            assert f.alive() and f.proc.pid == pid
            # The old whitelist still holds, for both clients.
            for src in ("127.0.0.1", "127.0.0.2"):
                r = raw(f.port, get(o), source=src)
                assert status_of(r) == 200, (broken, src, r[:100])
        log = f.log()
        assert "workers" in log and "127.0.0.999" in log, log[-3000:]
        assert "nonexistent-dir" in log, log[-2000:]
        f.configure({"whitelist": {"a": "127.0.0.1 127.0.0.2"}})


@suite.test
def running_download_survives_a_reload():
    # The download starts under a config that allows 127.0.0.1; a reload
    # takes that right away. New requests from 127.0.0.1 get 403, but the
    # running one keeps its snapshot and completes, byte for byte.
    size = 20 << 20
    with Origin() as o, Ferry({"whitelist": {"a": "127.0.0.1"}}) as f:
        s = socket.create_connection(("127.0.0.1", f.port), 10)
        with s:
            s.sendall(get(o, "/big?size=%d" % size))
            got = s.recv(65536)
            assert b" 200 " in got.split(b"\r\n")[0], got[:100]
            f.reload({"whitelist": {"a": "127.0.0.2"}})
            assert status_of(raw(f.port, get(o))) == 403
            s.settimeout(10)
            while True:
                data = s.recv(1 << 20)
                if not data:
                    break
                got += data
        body = body_of(got)
        assert len(body) == size, len(body)
        assert hashlib.sha256(body).digest() == \
            hashlib.sha256(pattern(size)).digest()


@suite.test
def restart_only_keys_are_named_and_kept():
    with Origin() as o, Ferry() as f:
        other = free_port()
        f.reload({"server": {"listen": "127.0.0.1:%d" % other},
                  "pool": {"workers": 3}})
        log = f.log()
        assert re.search(r"warn: reload: \[server\] listen, \[pool\] workers "
                         r"changed, which takes a restart", log), log[-2000:]
        assert status_of(raw(f.port, get(o))) == 200
        assert not listening(other)
        f.configure()


@suite.test
def reload_applies_log_settings():
    with Origin() as o, Ferry({"log": {"level": "error"}}) as f:
        assert status_of(raw(f.port, get(o))) == 200
        time.sleep(0.2)
        assert " GET " not in f.log(), f.log()
        access = os.path.join(f.dir, "access.log")
        f.reload({"log": {"level": "info", "access": access}})
        assert status_of(raw(f.port, get(o))) == 200
        assert wait_for(lambda: " GET " in f.log()), f.log()
        assert wait_for(lambda: os.path.exists(access) and
                        '"GET ' in open(access).read())


# --- SIGTERM, SIGUSR1 ---

@suite.test
def sigterm_drains_running_requests_and_refuses_new_ones():
    with Origin() as o:
        f = Ferry().start()
        result = {}

        def slow():
            # /slowbody sends 30 bytes at 50 ms each: 1.5 s in flight.
            result["r"] = raw(f.port, get(o, "/slowbody?size=30"),
                              timeout=10)

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.4)
        f.proc.send_signal(signal.SIGTERM)
        # The listening socket closes at once: new clients are refused.
        assert wait_for(lambda: not listening(f.port), 2)
        t.join(10)
        r = result.get("r", b"")
        assert status_of(r) == 200 and body_of(r) == b"x" * 30, r
        assert f.proc.wait(10) == 0
        f.stop()
        assert "draining for up to 10 s" in f.log(), f.log()


@suite.test
def drain_timeout_bounds_the_wait():
    with Script(echo) as e, Ferry({"connect": {"ports": e.port},
                                   "server": {"drain_timeout": 1}}) as f:
        s = socket.create_connection(("127.0.0.1", f.port), 5)
        with s:
            s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n"
                      % e.port)
            assert b" 200 " in s.recv(4096)
            # The tunnel idles (idle_timeout is 10 s); drain ends it.
            t0 = time.monotonic()
            f.proc.send_signal(signal.SIGTERM)
            assert f.proc.wait(5) == 0
            took = time.monotonic() - t0
        assert 0.9 < took < 3, took
        assert "drain_timeout reached: 1 connection(s) cut" in f.log(), \
            f.log()


@suite.test
def sigusr1_reopens_rotated_logs():
    with Origin() as o, Ferry({"log": {"level": "info"}}) as f:
        access = os.path.join(f.dir, "access.log")
        f.reload({"log": {"level": "info", "access": access}})
        assert status_of(raw(f.port, get(o, "/hello?first"))) == 200
        assert wait_for(lambda: "first" in open(access).read())
        # What logrotate does: move the files away, then signal.
        os.rename(f.logfile, f.logfile + ".1")
        os.rename(access, access + ".1")
        f.proc.send_signal(signal.SIGUSR1)
        assert wait_for(lambda: os.path.exists(f.logfile) and
                        "log files reopened" in f.log()), f.log()
        assert status_of(raw(f.port, get(o, "/hello?second"))) == 200
        assert wait_for(lambda: os.path.exists(access) and
                        "second" in open(access).read())
        assert wait_for(lambda: "/hello?second" in f.log() or
                        " GET " in f.log())
        with open(access + ".1") as old:
            assert "second" not in old.read()
        with open(f.logfile + ".1") as old:
            assert "reopened" not in old.read()


# --- the access log ---

LINE = re.compile(r'^(?P<client>\S+) - - \[(?P<time>\d\d/\w{3}/\d{4}:'
                  r'\d\d:\d\d:\d\d \+0000)\] (?P<req>"[^"]*"|-) '
                  r'(?P<status>\d+) (?P<bytes>\d+) (?P<ms>\d+) '
                  r'(?P<upstream>\S+)$')


@suite.test
def access_log_lines():
    with Origin() as o, Script(echo) as e:
        f = Ferry()
        access = os.path.join(f.dir, "access.log")
        f.configure({"connect": {"ports": e.port},
                     "whitelist": {"a": "127.0.0.1"},
                     "log": {"access": access}})
        with f:
            ok = raw(f.port, get(o))
            raw(f.port, b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n"
                b"ping" % e.port, shut=True)
            raw(f.port, get(o), source="127.0.0.2")
            raw(f.port, b"BROKEN\r\n\r\n")
            lines = wait_for(lambda: len(open(access).read().splitlines())
                             >= 4 and open(access).read().splitlines())
    assert lines and len(lines) == 4, lines
    m = [LINE.match(ln) for ln in lines]
    assert all(m), lines
    by_status = {}
    for x in m:
        by_status.setdefault(x["req"].split(" ")[0], x)
    get_line = by_status['"GET']
    assert get_line["req"] == '"GET http://%s/hello HTTP/1.1"' % o.authority
    assert get_line["status"] == "200"
    assert int(get_line["bytes"]) == len(ok)
    assert get_line["upstream"] == o.authority
    conn = by_status['"CONNECT']
    assert conn["status"] == "200" and conn["upstream"] == \
        "127.0.0.1:%d" % e.port
    denied = [x for x in m if x["client"] == "127.0.0.2"][0]
    assert denied["status"] == "403" and denied["upstream"] == "-"
    broken = by_status["-"]
    assert broken["status"] == "400" and broken["upstream"] == "-"


# --- privileges ---

@suite.test
def drop_to_user_and_group():
    import grp
    import pwd
    nobody = pwd.getpwnam("nobody")
    group = grp.getgrnam("daemon")
    # (Log files are opened as the final user: stderr here, since nobody
    # may not write in the test's private directory.)
    with Origin() as o, Ferry({"server": {"user": "nobody",
                                          "group": "daemon"},
                               "log": {"target": "stderr"}}) as f:
        with open("/proc/%d/status" % f.proc.pid) as st:
            text = st.read()
        uids = re.search(r"^Uid:\s+(.*)$", text, re.M).group(1).split()
        gids = re.search(r"^Gid:\s+(.*)$", text, re.M).group(1).split()
        if os.geteuid() == 0:
            assert uids == [str(nobody.pw_uid)] * 4, uids
            assert gids == [str(group.gr_gid)] * 4, gids
        else:
            assert uids == [str(os.geteuid())] * 4, uids
        assert status_of(raw(f.port, get(o))) == 200
    # A log file the final user cannot open stops the start, and says so.
    if os.geteuid() == 0:
        f = Ferry({"server": {"user": "nobody"}})
        r = subprocess.run([FERRY_BIN, "-f", "-c", f.ini],
                           capture_output=True, timeout=10)
        assert r.returncode == 1, r
        assert b"cannot open log file %s: Permission denied" \
            % f.logfile.encode() in r.stderr, r.stderr
    # A users file only root may read: ferry would start, as root reads
    # it, but every reload (as nobody) would fail and keep the old users.
    # It refuses to start instead, and says why.
    if os.geteuid() == 0:
        f = Ferry({"server": {"user": "nobody"},
                   "log": {"target": "stderr"}})
        users = os.path.join(f.dir, "users")
        with open(users, "w") as fh:
            # htpasswd -nbB -C 4 alice secret
            fh.write("alice:$2y$04$X6HiLL57vfYO1nuKvTwn.O8jBy/iIHGEZ/QAv"
                     "hNgqfAaVM3DGR7nS\n")
        os.chmod(users, 0o600)
        f.configure({"server": {"user": "nobody"},
                     "log": {"target": "stderr"},
                     "auth": {"users": users}})
        r = subprocess.run([FERRY_BIN, "-f", "-c", f.ini],
                           capture_output=True, timeout=10)
        assert r.returncode == 1, r
        assert b"as user nobody, ferry cannot read its configuration " \
            b"again, as each reload must" in r.stderr, r.stderr
        assert b"Permission denied" in r.stderr, r.stderr
    # A group without a user is refused, not half-applied.
    with tempfile.NamedTemporaryFile("w", dir=TMP, suffix=".ini",
                                     delete=False) as ini:
        ini.write("[server]\nlisten = 127.0.0.1:%d\ngroup = daemon\n"
                  % free_port())
    r = subprocess.run([FERRY_BIN, "-f", "-c", ini.name],
                       capture_output=True, timeout=10)
    assert r.returncode == 1 and b"needs [server] user" in r.stderr, r



@suite.test
def stop_serves_what_the_kernel_accepted():
    # Connections whose handshake the kernel completed before SIGTERM (in
    # the listen queue, not yet accepted) carry requests already: the
    # stop takes them from the queue and serves them, never resets them.
    # A burst of connections, each sending its request at once, then
    # SIGTERM before ferry can have accepted them all: every connection
    # that was established gets its whole answer; later ones are refused.
    with Origin() as o:
        f = Ferry({"pool": {"workers": 4}})
        with f:
            socks = []
            for i in range(300):
                s = socket.socket()
                s.settimeout(10)
                s.connect(("127.0.0.1", f.port))
                s.sendall(get(o, "/hello?t=q%d" % i))
                socks.append(s)
            f.proc.send_signal(signal.SIGTERM)
            bad = []
            for i, s in enumerate(socks):
                data = b""
                try:
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                except OSError as e:
                    data = repr(e).encode()
                s.close()
                if status_of(data) != 200 or not data.endswith(b"hello\n"):
                    bad.append((i, data[:80]))
            assert f.proc.wait(15) == 0
        assert not bad, (len(bad), bad[:5])
        taken = re.findall(r"stopping: (\d+) connection\(s\) completed in "
                           r"the listen queue taken", f.log())
        print("   listen queue at stop: %s connection(s) taken"
              % (taken[0] if taken else 0))


sys.exit(suite.run())
