#!/usr/bin/env python3
"""e2e_cli: the ferry command line and process, run for real.

Version, usage and exit codes; -t on good, shipped and bad files (the
message must name the file, section, key and value); start-up failures;
SIGTERM and SIGINT stop a running ferry with exit 0 and free its port.
The [server] and [log] keys seen from outside: the pidfile, the drop to
`user`, and each log target (file, stderr, syslog) and level.
"""
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

from ferrytest import (FERRY_BIN, SRCDIR, TMP, Ferry, Origin, Suite, curl,
                       free_port, wait_for)

suite = Suite("cli")


def run(*args, timeout=10):
    return subprocess.run([FERRY_BIN] + list(args), capture_output=True,
                          timeout=timeout)


def ini(text):
    fd, path = tempfile.mkstemp(dir=TMP, suffix=".ini")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


@suite.test
def version_exits_0():
    r = run("-V")
    assert r.returncode == 0, r
    assert r.stdout.startswith(b"ferry "), r.stdout


@suite.test
def help_exits_0_with_usage():
    r = run("-h")
    assert r.returncode == 0, r
    assert b"usage: ferry" in r.stdout, r.stdout


@suite.test
def config_defaults_to_sysconfdir():
    # Without -c, ferry reads $(sysconfdir)/ferry/ferry.ini (make check
    # passes the configured path); -h says so, and -t checks that file.
    default = os.environ.get("FERRY_DEFAULT_CONFIG")
    assert default, "run through make check, which sets the path"
    assert default.encode() in run("-h").stdout
    r = run("-t")
    if os.path.exists(default):
        assert r.returncode == 0 and default.encode() in r.stdout, r
    else:
        assert r.returncode == 1 and default.encode() in r.stderr, r


@suite.test
def unknown_option_exits_2_with_usage_on_stderr():
    r = run("-Z")
    assert r.returncode == 2, r
    assert b"usage: ferry" in r.stderr, r.stderr
    assert r.stdout == b"", r.stdout


@suite.test
def check_valid_file():
    path = ini("[server]\nlisten = 127.0.0.1:%d\n" % free_port())
    r = run("-t", "-c", path)
    assert r.returncode == 0, r
    assert b"valid" in r.stdout + r.stderr, r


@suite.test
def check_shipped_config():
    path = os.path.join(SRCDIR, "etc", "ferry.ini")
    r = run("-t", "-c", path)
    assert r.returncode == 0, r


# (file text, words the message must contain besides the path)
BAD = [
    ("[bogus]\nkey = 1\n", ["bogus"]),
    ("[server]\nlisen = 1.2.3.4:5\n", ["[server]", "lisen", "1.2.3.4:5"]),
    ("[pool]\nworkers = 80x\n", ["[pool]", "workers", "80x"]),
    ("[server]\nlisten = 127.0.0.1:0\n", ["[server]", "listen",
                                          "127.0.0.1:0"]),
    ("[server]\nlisten = 127.0.0.1:65536\n", ["[server]", "listen",
                                              "127.0.0.1:65536"]),
    ("[whitelist]\nlan = 300.1.1.1\n", ["[whitelist]", "lan",
                                        "300.1.1.1"]),
    ("[pool]\nmode = fork\n", ["[pool]", "mode", "fork"]),
    ("[log]\nlevel = loud\n", ["[log]", "level", "loud"]),
    ("[connect]\nports = 443, 70000\n", ["[connect]", "ports", "70000"]),
    ("[proxy_protocol]\nlisten = 127.0.0.1:3129 nowhere\n",
     ["[proxy_protocol]", "listen", "nowhere"]),
    ("[server]\nlisten = 127.0.0.1:3128\n[proxy_protocol]\n"
     "listen = 127.0.0.1:3128\n",
     ["[proxy_protocol]", "listen", "127.0.0.1:3128"]),
    ("[proxy_protocol]\nlisten = 127.0.0.1:3129\nfrom = 10.0.0.0/33\n",
     ["[proxy_protocol]", "from", "10.0.0.0/33"]),
    # Stripping the framing would send a chunked body unframed.
    ("[headers]\nstrip = Cookie, transfer-encoding\n",
     ["[headers]", "strip", "transfer-encoding", "frame the request"]),
    ("[headers]\nstrip = Content-Length\n",
     ["[headers]", "strip", "Content-Length"]),
]


@suite.test
def check_bad_files_name_file_section_key_value():
    for text, words in BAD:
        path = ini(text)
        r = run("-t", "-c", path)
        msg = r.stderr.decode()
        assert r.returncode == 1, (text, r)
        assert path in msg, (text, msg)
        for w in words:
            assert w in msg, (text, w, msg)


ROUTES = """[destinations]
deny = .ads.example
allow = 10.0.0.0/8
[parents]
corp = http://u:secret@proxy1.corp.example:3128 http://proxy2.corp.example:3128
tor = socks5://127.0.0.1:9050
[routes]
default = direct
corp = .corp.example 10.0.0.0/8
tor = .onion
direct = intranet.corp.example
"""


@suite.test
def check_explains_literals_on_a_parent_route_by_address():
    # default = deny with an address allow: on a parent route a name has
    # only its name (the parent resolves it), but an IP literal's address
    # is known, so the CIDR allow decides it, as on a direct route.
    path = ini("[destinations]\ndefault = deny\nallow = 192.0.2.0/24\n"
               "[parents]\ncorp = http://proxy1.corp.example:3128\n"
               "[routes]\ndefault = corp\n")
    r = run("-t", "-c", path, "192.0.2.7", "198.51.100.1", "www.example.com")
    assert r.returncode == 0, r
    out = r.stdout.decode().splitlines()
    assert out[1].startswith('192.0.2.7:80: allowed by rule "192.0.2.0/24"'), \
        out
    assert out[2].startswith("198.51.100.1:80: refused"), out
    assert out[3].startswith("www.example.com:80: refused: no name rule "
                             "matched, default = deny, and the parent "
                             "resolves the name"), out


@suite.test
def check_explains_destinations():
    # ferry -t -c FILE HOST[:PORT]...: one line a destination, with the
    # [destinations] verdict and the route, without sending traffic.
    path = ini(ROUTES)
    r = run("-t", "-c", path, "www.corp.example", "intranet.corp.example:443",
            "x.onion", "10.1.2.3:8080", "ads.example", "[::1]:8080",
            "example.com")
    assert r.returncode == 0, r
    out = r.stdout.decode().splitlines()
    assert "configuration is valid" in out[0], out
    want = [
        ("www.corp.example:80: allowed", 'route: parent corp (rule '
         '".corp.example"): http://proxy1.corp.example:3128 '
         'http://proxy2.corp.example:3128'),
        ("intranet.corp.example:443: allowed",
         'route: direct (rule "intranet.corp.example")'),
        ("x.onion:80: allowed", 'route: parent tor (rule ".onion"): '
         'socks5://127.0.0.1:9050'),
        ('10.1.2.3:8080: allowed by rule "10.0.0.0/8"',
         'route: parent corp (rule "10.0.0.0/8"): '
         'http://proxy1.corp.example:3128 http://proxy2.corp.example:3128'),
        ('ads.example:80: refused by deny rule ".ads.example"',
         "route: direct (default)"),
        ("[::1]:8080: refused: [::1]:8080 refused as internal (loopback)",
         "route: direct (default)"),
        ("example.com:80: allowed", "route: direct (default)"),
    ]
    assert len(out) == 1 + len(want), out
    for line, (start, end) in zip(out[1:], want):
        assert line.startswith(start) and line.endswith(end), (line, start,
                                                                end)
    # The parent's password is never printed.
    assert b"secret" not in r.stdout + r.stderr, r
    # A bad destination is named, and the exit status is 2.
    r = run("-t", "-c", path, "example.com", "0x7f.1", "a b/c")
    assert r.returncode == 2, r
    out = r.stdout.decode().splitlines()
    assert out[2] == ("0x7f.1: refused with 400: not a valid host name or "
                      "IP address"), out
    assert out[3].startswith("a b/c: not a destination"), out
    # Without -t, destinations are a usage error.
    r = run("-c", path, "example.com")
    assert r.returncode == 2 and b"usage" in r.stderr, r


@suite.test
def check_missing_file():
    r = run("-t", "-c", "/nonexistent/ferry.ini")
    assert r.returncode == 1, r
    assert b"/nonexistent/ferry.ini" in r.stderr, r.stderr


@suite.test
def missing_file_without_t_exits_1():
    r = run("-f", "-c", "/nonexistent/ferry.ini")
    assert r.returncode == 1, r


@suite.test
def port_in_use_exits_1():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        path = ini("[server]\nlisten = 127.0.0.1:%d\n" % port)
        r = run("-f", "-c", path)
    assert r.returncode == 1, r
    assert b"127.0.0.1:%d" % port in r.stderr, r.stderr


@suite.test
def several_listen_addresses_all_serve():
    # [server] listen takes a list: one socket each, one pool for all.
    with Origin() as o:
        f = Ferry()
        p1, p2, p3 = f.port, free_port("::1"), free_port()
        f.configure({"server": {"listen": "127.0.0.1:%d [::1]:%d,"
                                "127.0.0.2:%d" % (p1, p2, p3)}})
        with f:
            for proxy in ("http://127.0.0.1:%d" % p1,
                          "http://[::1]:%d" % p2,
                          "http://127.0.0.2:%d" % p3):
                assert wait_for(lambda: curl(o.url("/hello"),
                                             proxy=proxy).returncode == 0)
                r = curl(o.url("/hello"), proxy=proxy)
                assert r.returncode == 0 and r.stdout == b"hello\n", \
                    (proxy, r)
            assert "listening on 127.0.0.1:%d [::1]:%d,127.0.0.2:%d" \
                % (p1, p2, p3) in f.log(), f.log()[-500:]


@suite.test
def bind_error_names_the_address():
    # The second address is taken: ferry exits 1 naming that address.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        taken = s.getsockname()[1]
        free = free_port()
        path = ini("[server]\nlisten = 127.0.0.1:%d 127.0.0.1:%d\n"
                   % (free, taken))
        r = run("-f", "-c", path)
    assert r.returncode == 1, r
    assert b"cannot listen on 127.0.0.1:%d" % taken in r.stderr, r.stderr
    assert b"127.0.0.1:%d:" % free not in r.stderr, r.stderr


def stops_on(sig):
    with Origin() as o:
        f = Ferry().start()
        try:
            r = curl(o.url("/hello"), proxy=f.proxy)
            assert r.stdout == b"hello\n", r
            f.proc.send_signal(sig)
            f.proc.wait(10)
            assert f.proc.returncode == 0, f.proc.returncode
            # Nothing listens any more: a new ferry could bind (with
            # SO_REUSEADDR, as ferry does, past TIME_WAIT connections).
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", f.port))
                s.listen(1)
        finally:
            f.stop()


@suite.test
def sigterm_exits_0():
    stops_on(signal.SIGTERM)


@suite.test
def sigint_exits_0():
    stops_on(signal.SIGINT)


@suite.test
def no_whitelist_logs_loopback_once():
    with Ferry() as f:
        pass
    assert f.log().count("only loopback clients") == 1, f.log()


@suite.test
def soft_open_files_limit_is_raised_to_the_hard_one():
    # Each idle keep-alive client holds a descriptor: the common soft
    # limit of 1024 must not cap ferry when the hard limit allows more.
    with Ferry(wrapper=["prlimit", "--nofile=256:4096", "--"]) as f:
        with open("/proc/%d/limits" % f.proc.pid) as lim:
            line = [ln for ln in lim if ln.startswith("Max open files")]
        assert line and line[0].split()[3:5] == ["4096", "4096"], line
        assert "open files limit: 4096" in f.log(), f.log()[-500:]


# --- [server] pidfile and user ---

@suite.test
def pidfile_holds_the_pid_and_is_removed_on_exit():
    path = os.path.join(TMP, "ferry-%d.pid" % free_port())
    with Ferry({"server": {"pidfile": path}}) as f:
        with open(path) as pf:
            assert pf.read() == "%d\n" % f.proc.pid
    assert not os.path.exists(path), path


def ids_of(pid):
    """(real, effective, saved, fs) uids and gids of a process."""
    with open("/proc/%d/status" % pid) as st:
        text = st.read()
    uids = re.search(r"^Uid:\s+(.*)$", text, re.M).group(1).split()
    gids = re.search(r"^Gid:\s+(.*)$", text, re.M).group(1).split()
    groups = re.search(r"^Groups:\s*(.*)$", text, re.M).group(1).split()
    return [int(u) for u in uids], [int(g) for g in gids], groups


@suite.test
def user_drop_after_binding():
    # As root (CI and the README's commands run as root), ferry binds, then
    # becomes `user` for good: every uid and gid, and no extra groups left
    # from root. Not root, the key has nothing to drop from and ferry stays
    # who it is.
    nobody = pwd.getpwnam("nobody")
    with Origin() as o, Ferry({"server": {"user": "nobody"},
                               "log": {"target": "stderr"}}) as f:
        uids, gids, groups = ids_of(f.proc.pid)
        if os.geteuid() == 0:
            assert uids == [nobody.pw_uid] * 4, uids
            assert gids == [nobody.pw_gid] * 4, gids
            assert "0" not in groups, groups
        else:
            assert uids == [os.geteuid()] * 4, uids
        r = curl(o.url("/hello"), proxy=f.proxy)
        assert r.stdout == b"hello\n", r


@suite.test
def missing_user_exits_1_as_root():
    # Root must not go on as root because the user it was told to become
    # is missing. (Not root, there is nothing to drop: ferry runs.)
    path = ini("[server]\nlisten = 127.0.0.1:%d\nuser = no-such-user-x\n"
               % free_port())
    if os.geteuid() != 0:
        with Ferry({"server": {"user": "no-such-user-x"}}) as f:
            assert f.alive()
        return
    r = run("-f", "-c", path)
    assert r.returncode == 1, r
    assert b"no-such-user-x" in r.stderr, r.stderr


# --- [log] target and level ---

REQUEST_LINE = re.compile(r"127\.0\.0\.1 GET 127\.0\.0\.1:\d+ 200 in=\d+ "
                          r"out=\d+ \d+ms")


@suite.test
def log_to_a_file_one_line_per_request():
    with Origin() as o, Ferry({"log": {"level": "info"}}) as f:
        for _ in range(3):
            assert curl(o.url("/hello"), proxy=f.proxy).stdout == b"hello\n"
        lines = wait_for(lambda: [ln for ln in f.log().splitlines()
                                  if REQUEST_LINE.search(ln)]
                         if len(REQUEST_LINE.findall(f.log())) == 3
                         else None)
        assert lines, f.log()
        for ln in lines:
            assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ "
                            r"ferry\[%d\] info: " % f.proc.pid, ln), ln


@suite.test
def log_to_stderr():
    with Origin() as o, Ferry({"log": {"level": "info",
                                       "target": "stderr"}}) as f:
        assert curl(o.url("/hello"), proxy=f.proxy).stdout == b"hello\n"
        time.sleep(0.2)  # the line is written after the response
    assert REQUEST_LINE.search(f.stderr), f.stderr
    assert "listening on" in f.stderr, f.stderr


@suite.test
def log_level_filters():
    # error: a good request and a 502 both stay out; debug: in.
    with Origin() as o, Ferry({"log": {"level": "error"}}) as f:
        assert curl(o.url("/hello"), proxy=f.proxy).stdout == b"hello\n"
        curl("http://127.0.0.1:%d/" % free_port(), proxy=f.proxy)
        time.sleep(0.3)
        assert f.log() == "", f.log()
    with Origin() as o, Ferry({"log": {"level": "warn"}}) as f:
        assert curl(o.url("/hello"), proxy=f.proxy).stdout == b"hello\n"
        curl("http://127.0.0.1:%d/" % free_port(), proxy=f.proxy)
        assert wait_for(lambda: " 502 " in f.log()), f.log()
        assert not REQUEST_LINE.search(f.log()), f.log()
        assert " info: " not in f.log(), f.log()


@suite.test
def log_to_syslog():
    # glibc's syslog() writes to /dev/log. In a private mount namespace
    # (unshare -m, root only) the test mounts its own /dev holding a
    # datagram socket it reads, so nothing touches the machine's logs.
    if os.geteuid() != 0:
        print("     (not root: syslog is checked by CI, which is)")
        return
    d = tempfile.mkdtemp(dir=TMP)
    dev = os.path.join(d, "dev")
    os.mkdir(dev)
    for node in ("null", "zero", "urandom"):
        open(os.path.join(dev, node), "w").close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(os.path.join(dev, "log"))
    sock.settimeout(5)
    binds = "".join("mount --bind /dev/%s %s/%s && " % (n, dev, n)
                    for n in ("null", "zero", "urandom"))
    wrapper = ["unshare", "-m", "sh", "-c",
               binds + "mount --rbind %s /dev && exec \"$0\" \"$@\"" % dev]
    got = []
    with sock, Origin() as o, Ferry({"log": {"level": "info",
                                             "target": "syslog"}},
                                    wrapper=wrapper) as f:
        assert curl(o.url("/hello"), proxy=f.proxy).stdout == b"hello\n"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and \
                not any(REQUEST_LINE.search(g) for g in got):
            try:
                got.append(sock.recv(4096).decode("utf-8", "replace"))
            except socket.timeout:
                break
        pid = f.proc.pid
    lines = [g for g in got if REQUEST_LINE.search(g)]
    assert lines, got
    # <30>: facility daemon (3 * 8) + info (6); ident ferry with the pid.
    assert re.match(r"<30>\w{3} [ \d]\d \d\d:\d\d:\d\d ferry\[%d\]: " % pid,
                    lines[0]), lines[0]
    assert any("listening on" in g for g in got), got
    assert f.log() == "", f.log()  # nothing went to the file target


sys.exit(suite.run())
