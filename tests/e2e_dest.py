#!/usr/bin/env python3
"""e2e_dest: destination rules and the internal-address guard (issue 16,
sections 1, 3 and 4) through the real ferry binary.

ferrytest's base config allows the loopback origins ([destinations]
allow = 127.0.0.0/8 ::1); a test that wants the shipped defaults (no
allow, internal = deny) sets "allow" to "" and so on, per key.

Covered: the guard on loopback, ::1, IPv4-mapped, unspecified, link-local
and multicast addresses (by literal and by a name that resolves there),
refused before any connect; an allow CIDR that opens one address;
name rules (exact, .suffix on label boundaries, "*", ports, the most
specific rule wins, a tie goes to deny and ferry -t warns, case and a
trailing dot); a CIDR deny of the addresses a name resolves to; CONNECT
under the same rules and the order of the checks; strict IP literals
(400); allow_file and deny_file (comments, a bad line named FILE:LINE,
100,000 names); reload, also for a parked keep-alive client and for an
idle origin connection that ferry kept; the 403 page, the log line with
its rule and the access log.

The names used are "localhost" (the one name every test machine
resolves to loopback) and names that must be refused before DNS.
Everything stays on 127.0.0.0/8 and ::1: 169.254.169.254 and the other
guarded addresses are refused before ferry connects, which the tests
check by time and by the log.
"""
import itertools
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

from ferrytest import (FERRY_BIN, TMP, Ferry, Origin, Script, Suite,
                       body_of, curl, echo, header_of, raw, read_response,
                       read_text, status_of, wait_for)
from keeporigin import KeepAliveOrigin

suite = Suite("dest")

# The shared loopback origin (127.0.0.1), set by main().
origin = None

# Every refusal by destination names the destination with this text (the
# page escapes the apostrophe of "The proxy's").
REFUSED = "rules do not allow requests to %s port %d"

_tokens = itertools.count(1)


def token():
    """A fresh query token, so a test finds its own requests in the
    shared origin's log."""
    return "t=d%d" % next(_tokens)


def dest(**keys):
    """A config whose [destinations] has these keys over the test base
    (which allows 127.0.0.0/8 and ::1)."""
    return {"destinations": dict(keys)}


def shipped(**keys):
    """A config with the shipped destination defaults (no allow rule,
    internal = deny), then keys over them."""
    d = {"default": "allow", "allow": "", "deny": "", "internal": "deny"}
    d.update(keys)
    return {"destinations": d}


def names_only(**keys):
    """A config for testing name rules on "localhost": the guard off so
    the loopback origin is reachable, no base CIDR allow, then keys."""
    return shipped(internal="allow", **keys)


def get(authority, path="/hello", host=None, close=True, method="GET"):
    """A raw absolute-form request for http://authority/path."""
    fields = "Host: %s\r\n" % (host or authority)
    if close:
        fields += "Connection: close\r\n"
    return ("%s http://%s%s HTTP/1.1\r\n%s\r\n"
            % (method, authority, path, fields)).encode()


def connect_req(target):
    return b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)


def names_destination(r, host, port):
    """Whether response r carries the refusal text naming host and port
    (an IPv6 host with or without its brackets)."""
    forms = [host] + (["[%s]" % host] if ":" in host else [])
    return any((REFUSED % (h, port)).encode() in r for h in forms)


def seen(o, tok):
    """The origin's log entries whose target carries tok."""
    return [e for e in o.requests() if tok in e["target"]]


def ask(f, authority, tok=None, path="/hello"):
    """One closing GET for http://authority/path?tok through f; returns
    (raw response, tok)."""
    tok = tok or token()
    r = raw(f.port, get(authority, "%s?%s" % (path, tok)))
    return r, tok


def loc(port):
    return "localhost:%d" % port


def lit(port):
    return "127.0.0.1:%d" % port


def expect_ok(f, authority, o=None):
    """A GET through f to authority reaches the origin and gets 200."""
    o = o or origin
    r, tok = ask(f, authority)
    assert status_of(r) == 200, (authority, r[:300], f.log()[-1500:])
    assert len(seen(o, tok)) == 1, (authority, o.requests()[-3:])


def expect_refused(f, authority, host, port, o=None, status=403):
    """A GET through f to authority gets a 403 naming host and port, and
    the origin never sees it. Returns the response."""
    o = o or origin
    r, tok = ask(f, authority)
    assert status_of(r) == status, (authority, r[:400], f.log()[-1500:])
    if status == 403:
        assert names_destination(body_of(r), host, port), r
    time.sleep(0.05)
    assert seen(o, tok) == [], (authority, seen(o, tok))
    return r


def info_line(f, method, authority, status, timeout=3.0):
    """ferry's per-request log line for method authority with status
    (the last one), waiting a little: it is written after the answer."""
    pat = re.compile(r" %s %s %d in=\d+ out=\d+ \d+ms" %
                     (re.escape(method), re.escape(authority), status))
    line = wait_for(lambda: ([ln for ln in f.log().splitlines()
                              if pat.search(ln)] or [None])[-1], timeout)
    assert line, ("no log line", method, authority, status,
                  f.log()[-2000:])
    return line


def check_config(config):
    """ferry -t on a config file built like Ferry's: CompletedProcess."""
    f = Ferry(config)
    return subprocess.run([FERRY_BIN, "-t", "-c", f.ini],
                          capture_output=True, timeout=30)


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as fh:
        fh.write(text)
    return path


def still_open(s, seconds=0.3):
    """Whether s stays open and silent for a moment."""
    s.settimeout(seconds)
    try:
        return s.recv(1) != b""
    except socket.timeout:
        return True
    except OSError:
        return False


TRACE = {"log": {"level": "trace"}}


def tunnel(f, target):
    """Open a CONNECT tunnel through f; returns (socket, response): the
    head of a 200 (the tunnel starts after it), or the whole of a refusal,
    page and all."""
    s = socket.create_connection(("127.0.0.1", f.port), timeout=10)
    s.sendall(connect_req(target))
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = s.recv(4096)
        if not data:
            return s, buf
        buf += data
    if status_of(buf) != 200:
        need = buf.index(b"\r\n\r\n") + 4 + \
            int(header_of(buf, "Content-Length") or 0)
        while len(buf) < need:
            data = s.recv(4096)
            if not data:
                break
            buf += data
    return s, buf


# --- the guard, with the shipped defaults ---------------------------

@suite.test
def shipped_defaults_refuse_loopback_literal():
    with Ferry(shipped()) as f:
        r = expect_refused(f, lit(origin.port), "127.0.0.1", origin.port)
        line = info_line(f, "GET", lit(origin.port), 403)
        assert "refused as internal" in line, line
        # The wording the issue 16 contract fixes ("Logs"): it names the
        # kind of internal address.
        assert line.endswith("(no address left: 127.0.0.1:%d refused as "
                             "internal (loopback))" % origin.port), line


@suite.test
def shipped_defaults_refuse_a_name_resolving_to_loopback():
    # The DNS case: the name passes the name rules (there are none), its
    # address is refused by the guard after the lookup.
    with Ferry(shipped()) as f:
        expect_refused(f, loc(origin.port), "localhost", origin.port)
        line = info_line(f, "GET", loc(origin.port), 403)
        assert "refused as internal" in line, line
        # curl, the real client, gets the same
        r = curl("-o", "/dev/null", "-w", "%{http_code}",
                 "http://localhost:%d/hello?%s" % (origin.port, token()),
                 proxy=f.proxy)
        assert r.stdout == b"403", r


@suite.test
def shipped_defaults_refuse_ipv6_loopback():
    with Origin(host="::1") as o6, Ferry(shipped()) as f:
        expect_refused(f, o6.authority, "::1", o6.port, o=o6)
        line = info_line(f, "GET", o6.authority, 403)
        assert "refused as internal (loopback)" in line, line


@suite.test
def shipped_defaults_refuse_ipv4_mapped_loopback():
    # ::ffff:127.0.0.1 reaches the IPv4 loopback origin through a v6
    # socket: it is loopback all the same.
    auth = "[::ffff:127.0.0.1]:%d" % origin.port
    with Ferry(shipped()) as f:
        r, tok = ask(f, auth)
        assert status_of(r) == 403, r[:300]
        assert names_destination(body_of(r), "::ffff:127.0.0.1",
                                 origin.port), r
        time.sleep(0.05)
        assert seen(origin, tok) == []
        assert "refused as internal (loopback)" in \
            info_line(f, "GET", auth, 403)


@suite.test
def shipped_defaults_refuse_unspecified_address():
    # Linux connects 0.0.0.0 to the local host: the origin would see it.
    with Ferry(shipped()) as f:
        expect_refused(f, "0.0.0.0:%d" % origin.port, "0.0.0.0",
                       origin.port)
        assert "refused as internal (unspecified)" in info_line(
            f, "GET", "0.0.0.0:%d" % origin.port, 403)


@suite.test
def link_local_metadata_refused_before_any_connect():
    # 169.254.169.254 is where cloud metadata lives. ferry must refuse it
    # before connect(): the 403 comes at once (not after connect_timeout)
    # and the log says why. Same for the other guarded kinds.
    cfg = shipped()
    cfg["upstream"] = {"connect_timeout": 5}
    cfg["log"] = {"level": "trace"}
    with Ferry(cfg) as f:
        for host, auth, kind in (
                ("169.254.169.254", "169.254.169.254:80", "link-local"),
                ("169.254.169.254", "169.254.169.254", "link-local"),
                ("::ffff:169.254.169.254", "[::ffff:169.254.169.254]:80",
                 "link-local"),
                ("224.0.0.1", "224.0.0.1:80", "multicast"),
                ("ff02::1", "[ff02::1]:80", "multicast"),
                ("fe80::1", "[fe80::1]:80", "link-local"),
                ("::", "[::]:80", "unspecified")):
            t0 = time.monotonic()
            r = raw(f.port, get(auth, "/latest/meta-data/"))
            took = time.monotonic() - t0
            assert status_of(r) == 403, (auth, r[:300])
            assert names_destination(body_of(r), host, 80), (auth, r)
            assert took < 1.0, (auth, took)
            line = info_line(f, "GET", auth, 403)
            assert "refused as internal (%s)" % kind in line, (auth, line)
        # the trace has no attempt to connect (e2e_trace's "origin:
        # trying ADDR" stage) for any of them
        assert " trace: " in f.log() and "origin: trying" not in f.log(), \
            f.log()[-3000:]


@suite.test
def shipped_defaults_refuse_connect_to_loopback():
    with Script(echo) as e, \
            Ferry(shipped() | {"connect": {"ports": e.port}}) as f:
        s, head = tunnel(f, b"127.0.0.1:%d" % e.port)
        s.close()
        assert status_of(head) == 403, head
        assert (REFUSED % ("127.0.0.1", e.port)).encode() in head, head
        s, head = tunnel(f, b"localhost:%d" % e.port)
        s.close()
        assert status_of(head) == 403, head
        time.sleep(0.2)
        assert e.accepted == 0, e.accepted
        assert "internal" in info_line(f, "CONNECT", "127.0.0.1:%d" %
                                       e.port, 403)


@suite.test
def allow_one_address_opens_only_that_address():
    # allow = 127.0.0.1 (a CIDR-family rule) lets that address through
    # the guard; 127.0.0.2, loopback too, stays refused.
    with Ferry(shipped(allow="127.0.0.1")) as f:
        expect_ok(f, lit(origin.port))
        expect_ok(f, loc(origin.port))
        # the IPv4-mapped form is matched as the IPv4 address
        expect_ok(f, "[::ffff:127.0.0.1]:%d" % origin.port)
        try:
            o2 = Origin(host="127.0.0.2").start()
        except (OSError, RuntimeError):
            o2 = None  # no 127.0.0.2 here: the 403 is still checked
        try:
            r, tok = ask(f, "127.0.0.2:%d" % (o2.port if o2 else 80))
            assert status_of(r) == 403, r[:300]
            line = info_line(f, "GET", "127.0.0.2:%d" %
                             (o2.port if o2 else 80), 403)
            assert "refused as internal (loopback)" in line, line
            if o2:
                time.sleep(0.05)
                assert o2.requests() == []
        finally:
            if o2:
                o2.stop()


@suite.test
def a_wide_allow_does_not_lift_the_guard():
    # "Any IPv4 address" is not an explicit allow of loopback: only a
    # CIDR rule inside the internal block (127.0.0.0/8, 127.0.0.1) is.
    with Ferry(shipped(default="deny", allow="0.0.0.0/0 ::/0")) as f:
        expect_refused(f, lit(origin.port), "127.0.0.1", origin.port)
        expect_refused(f, "0.0.0.0:%d" % origin.port, "0.0.0.0",
                       origin.port)
        expect_refused(f, loc(origin.port), "localhost", origin.port)
        assert "refused as internal (loopback)" in \
            info_line(f, "GET", lit(origin.port), 403)
    with Ferry(shipped(default="deny", allow="127.0.0.0/8")) as f:
        expect_ok(f, lit(origin.port))


@suite.test
def connect_refused_after_dns_keeps_the_connection():
    # The guard refuses the address after the lookup; like every other
    # destination refusal the connection stays for the next request,
    # unless tunnel bytes followed the CONNECT.
    with Script(echo) as e, \
            Ferry(shipped() | {"connect": {"ports": e.port}}) as f:
        s, head = tunnel(f, b"localhost:%d" % e.port)
        with s:
            assert status_of(head) == 403, head
            assert b"connection: close" not in head.lower(), head
            s.sendall(get(lit(origin.port), close=False))
            r = read_response(s)
            assert status_of(r) == 403, r
        s = socket.create_connection(("127.0.0.1", f.port), 10)
        with s:
            s.sendall(connect_req(b"localhost:%d" % e.port) +
                      b"\x16\x03\x01\x00\x05hello")
            r = read_response(s)
            assert status_of(r) == 403, r
            assert b"connection: close" in r.lower(), r
        assert e.accepted == 0, e.accepted


@suite.test
def malformed_host_names_are_400_and_never_resolved():
    # Names the rules cannot read (an empty label from a second trailing
    # dot, a label over 63 bytes) must not slip past them to DNS.
    long_label = "a" * 64 + ".test"
    with Ferry(names_only(deny="localhost")) as f:
        for host in ("localhost..", "x..localhost", long_label):
            r, tok = ask(f, "%s:%d" % (host, origin.port))
            assert status_of(r) == 400, (host, r[:300])
            assert b"not a valid host name" in r, r
        assert "cannot resolve" not in f.log(), f.log()[-2000:]


@suite.test
def allow_ipv6_loopback_in_brackets():
    with Origin(host="::1") as o6, Origin(host="::1") as o7:
        with Ferry(shipped(allow="[::1]")) as f:
            expect_ok(f, o6.authority, o=o6)
            expect_refused(f, lit(origin.port), "127.0.0.1", origin.port)
        # with a port: that port only
        with Ferry(shipped(allow="[::1]:%d" % o6.port)) as f:
            expect_ok(f, o6.authority, o=o6)
            expect_refused(f, o7.authority, "::1", o7.port, o=o7)


@suite.test
def internal_allow_turns_the_guard_off():
    with Origin(host="::1") as o6, Ferry(shipped(internal="allow")) as f:
        expect_ok(f, lit(origin.port))
        expect_ok(f, loc(origin.port))
        expect_ok(f, o6.authority, o=o6)


@suite.test
def own_listening_address_is_still_a_loop():
    # ferry's own address stays 508 (loop) once loopback is allowed.
    with Ferry() as f:
        r = raw(f.port, get(lit(f.port)))
        assert status_of(r) == 508, r[:300]


# --- name rules -------------------------------------------------------

@suite.test
def deny_a_name_not_its_address():
    with Ferry(dest(deny="localhost")) as f:
        r = expect_refused(f, loc(origin.port), "localhost", origin.port)
        expect_ok(f, lit(origin.port))
        line = info_line(f, "GET", loc(origin.port), 403)
        assert line.endswith('(destination refused by deny rule '
                             '"localhost")'), line


@suite.test
def default_deny_with_a_name_allowed():
    with Ferry(names_only(default="deny", allow="localhost")) as f:
        expect_ok(f, loc(origin.port))
        # a literal matches no name rule and no CIDR rule: default denies
        expect_refused(f, lit(origin.port), "127.0.0.1", origin.port)
        line = info_line(f, "GET", lit(origin.port), 403)
        assert "no rule matched, default = deny" in line, line
    with Ferry(names_only(default="deny",
                          allow="localhost 127.0.0.0/8")) as f:
        expect_ok(f, loc(origin.port))
        expect_ok(f, lit(origin.port))


@suite.test
def default_deny_with_guard_on_needs_a_cidr_allow():
    # allow = localhost opens the name, but its address is still loopback:
    # the guard refuses it unless an allow CIDR names the address.
    with Ferry(shipped(default="deny", allow="localhost")) as f:
        expect_refused(f, loc(origin.port), "localhost", origin.port)
        assert "internal" in info_line(f, "GET", loc(origin.port), 403)


@suite.test
def port_rules():
    with Origin() as o2:
        # *:PORT refuses that port on any host, literals included
        with Ferry(dest(deny="*:%d" % origin.port)) as f:
            expect_refused(f, loc(origin.port), "localhost", origin.port)
            expect_refused(f, lit(origin.port), "127.0.0.1", origin.port)
            expect_ok(f, loc(o2.port), o=o2)
            expect_ok(f, lit(o2.port), o=o2)
            line = info_line(f, "GET", loc(origin.port), 403)
            assert '(destination refused by deny rule "*:%d")' % \
                origin.port in line, line
        # allow = localhost:PORT with default deny: that port only
        with Ferry(names_only(default="deny",
                              allow="localhost:%d" % origin.port)) as f:
            expect_ok(f, loc(origin.port))
            expect_refused(f, loc(o2.port), "localhost", o2.port, o=o2)
            expect_refused(f, lit(origin.port), "127.0.0.1", origin.port)
        # a port range
        lo, hi = sorted((origin.port, o2.port))
        with Ferry(dest(deny="localhost:%d-%d" % (lo, hi))) as f:
            expect_refused(f, loc(origin.port), "localhost", origin.port)
            expect_refused(f, loc(o2.port), "localhost", o2.port, o=o2)
            expect_ok(f, lit(o2.port), o=o2)


@suite.test
def most_specific_rule_wins():
    # an exact name over "*"
    with Ferry(names_only(deny="*", allow="localhost")) as f:
        expect_ok(f, loc(origin.port))
        expect_refused(f, lit(origin.port), "127.0.0.1", origin.port)
    # an exact name over a suffix, either way round
    with Ferry(names_only(deny=".localhost", allow="localhost")) as f:
        expect_ok(f, loc(origin.port))
    with Ferry(names_only(allow=".localhost", deny="localhost",
                          default="deny")) as f:
        expect_refused(f, loc(origin.port), "localhost", origin.port)
    # a rule with a port over the same rule without
    with Ferry(names_only(deny="localhost",
                          allow="localhost:%d" % origin.port)) as f:
        expect_ok(f, loc(origin.port))
    # a longer CIDR prefix over a shorter one
    with Ferry(shipped(deny="127.0.0.0/8", allow="127.0.0.1/32")) as f:
        expect_ok(f, lit(origin.port))
    with Ferry(shipped(allow="127.0.0.0/8", deny="127.0.0.1")) as f:
        expect_refused(f, lit(origin.port), "127.0.0.1", origin.port)


@suite.test
def tie_goes_to_deny_and_check_warns():
    cfg = names_only(allow="localhost", deny="localhost")
    with Ferry(cfg) as f:
        expect_refused(f, loc(origin.port), "localhost", origin.port)
        warn = re.compile(r" warn: config warning: .*localhost")
        assert len(warn.findall(f.log())) >= 1, f.log()[-2000:]
        # a reload warns again
        n = len(warn.findall(f.log()))
        f.reload(cfg)
        assert len(warn.findall(f.log())) > n, f.log()[-2000:]
    r = check_config(cfg)
    err = r.stderr.decode()
    assert r.returncode == 0, r
    assert b"configuration is valid" in r.stdout, r
    assert re.search(r"^ferry: warning: .*localhost", err, re.M), err
    # a pattern listed twice in one list warns too; clean rules do not
    r = check_config(dest(deny="localhost .example.test localhost"))
    assert r.returncode == 0, r
    assert re.search(r"^ferry: warning: .*localhost",
                     r.stderr.decode(), re.M), r.stderr
    r = check_config(dest(deny="localhost .example.test"))
    assert r.returncode == 0 and b"warning" not in r.stderr, r


@suite.test
def suffix_on_label_boundaries():
    with Ferry(dest(deny=".calhost ocalhost")) as f:
        expect_ok(f, loc(origin.port))
    with Ferry(dest(deny=".localhost")) as f:
        # ".x" is x itself and every name below it
        expect_refused(f, loc(origin.port), "localhost", origin.port)
        for name in ("a.localhost", "a.b.localhost"):
            r = raw(f.port, get("%s:%d" % (name, origin.port)))
            assert status_of(r) == 403, (name, r[:300])
            assert (REFUSED % (name, origin.port)).encode() in r, r


@suite.test
def case_and_trailing_dot_do_not_escape_a_name_rule():
    # Refused before DNS, so it does not matter that the resolver would
    # not know "LOCALHOST.". curl may normalise: raw requests.
    with Ferry(dest(deny="localhost")) as f:
        for name in ("LOCALHOST", "LocalHost", "localhost.", "LOCALHOST."):
            auth = "%s:%d" % (name, origin.port)
            r, tok = ask(f, auth)
            assert status_of(r) == 403, (name, r[:300])
            time.sleep(0.05)
            assert seen(origin, tok) == []
            line = info_line(f, "GET", auth, 403)
            assert 'deny rule "localhost"' in line, line
    with Ferry(dest(deny="LOCALHOST.")) as f:
        expect_refused(f, loc(origin.port), "localhost", origin.port)


@suite.test
def cidr_deny_refuses_a_name_it_resolves_to():
    # The name is allowed by a name rule, its addresses are denied by a
    # CIDR rule: a deny in either family refuses.
    with Ferry(shipped(deny="127.0.0.0/8", allow="localhost",
                       internal="allow")) as f:
        expect_refused(f, loc(origin.port), "localhost", origin.port)
        line = info_line(f, "GET", loc(origin.port), 403)
        assert 'refused by deny rule "127.0.0.0/8"' in line, line
        assert "no address" in line, line
        # an IPv4 network denies the IPv4-mapped form of its addresses
        expect_refused(f, "[::ffff:127.0.0.1]:%d" % origin.port,
                       "::ffff:127.0.0.1", origin.port)


@suite.test
def star_matches_ip_literals():
    with Ferry(dest(deny="*")) as f:
        expect_refused(f, lit(origin.port), "127.0.0.1", origin.port)
        expect_refused(f, loc(origin.port), "localhost", origin.port)


@suite.test
def refused_name_is_never_resolved():
    # A name refused by a name rule is answered 403 at once: no lookup of
    # a name that does not exist (that would be 502).
    with Ferry(dest(deny=".invalid")) as f:
        r = raw(f.port, get("nosuch.invalid:80"))
        assert status_of(r) == 403, r[:300]
        assert (REFUSED % ("nosuch.invalid", 80)).encode() in r, r


# --- the 403 page, the connection, the logs ---------------------------

@suite.test
def refusal_page_keeps_a_keepalive_connection():
    access = os.path.join(TMP, "dest-access.log")
    with Ferry({"destinations": {"deny": "localhost"},
                "log": {"level": "info", "access": access}}) as f:
        with socket.create_connection(("127.0.0.1", f.port), 5) as s:
            tok = token()
            s.sendall(get(loc(origin.port), "/hello?" + tok, close=False))
            r = read_response(s)
            assert status_of(r) == 403, r
            assert header_of(r, "Content-Length") is not None, r
            assert (header_of(r, "Connection") or "").lower() != "close", r
            assert (REFUSED % ("localhost", origin.port)).encode() in \
                body_of(r), r
            assert still_open(s), "ferry closed after the 403"
            # the same connection goes on to an allowed destination
            tok2 = token()
            s.sendall(get(lit(origin.port), "/hello?" + tok2, close=False))
            r = read_response(s)
            assert status_of(r) == 200, r
            assert body_of(r) == b"hello\n", r
        assert seen(origin, tok) == [] and len(seen(origin, tok2)) == 1
        line = info_line(f, "GET", loc(origin.port), 403)
        assert " warn: " in line or " info: " in line, line
        assert line.endswith('(destination refused by deny rule '
                             '"localhost")'), line
        assert wait_for(lambda: tok in read_text(access))
        acc = [ln for ln in read_text(access).splitlines() if tok in ln]
        assert len(acc) == 1, acc
        assert re.search(r'"GET http://localhost:%d/hello\?%s HTTP/1.1" '
                         r'403 ' % (origin.port, tok), acc[0]), acc[0]


@suite.test
def refusal_with_a_body_in_hand_or_not():
    # A body wholly received with the head: the connection goes on. A
    # body still to come: Connection: close, and ferry closes.
    with Ferry(dest(deny="localhost")) as f:
        with socket.create_connection(("127.0.0.1", f.port), 5) as s:
            s.sendall(b"POST http://%s/echo HTTP/1.1\r\nHost: %s\r\n"
                      b"Content-Length: 5\r\n\r\nhello"
                      % ((loc(origin.port).encode(),) * 2))
            r = read_response(s)
            assert status_of(r) == 403, r
            assert (header_of(r, "Connection") or "").lower() != "close", r
            s.sendall(get(lit(origin.port), "/hello?" + token(),
                          close=False))
            assert status_of(read_response(s)) == 200
        with socket.create_connection(("127.0.0.1", f.port), 5) as s:
            s.sendall(b"POST http://%s/echo HTTP/1.1\r\nHost: %s\r\n"
                      b"Content-Length: 100000\r\n\r\nhello"
                      % ((loc(origin.port).encode(),) * 2))
            r = read_response(s)
            assert status_of(r) == 403, r
            assert (header_of(r, "Connection") or "").lower() == "close", r
            assert not still_open(s, 2.0), "still open after the 403"


@suite.test
def refusal_to_http10_keepalive_client_says_keep_alive():
    with Ferry(dest(deny="localhost")) as f, \
            socket.create_connection(("127.0.0.1", f.port), 5) as s:
        s.sendall(b"GET http://%s/hello HTTP/1.0\r\nHost: %s\r\n"
                  b"Connection: keep-alive\r\n\r\n"
                  % ((loc(origin.port).encode(),) * 2))
        r = read_response(s)
        assert status_of(r) == 403, r
        assert (header_of(r, "Connection") or "").lower() == "keep-alive", r
        assert still_open(s)


@suite.test
def refusal_with_connection_close_closes():
    with Ferry(dest(deny="localhost")) as f:
        r, _ = ask(f, loc(origin.port))  # raw() reads until ferry closes
        assert status_of(r) == 403, r
        assert (header_of(r, "Connection") or "").lower() == "close", r


@suite.test
def refusal_page_does_not_echo_more_than_the_destination():
    with Ferry(dest(deny="localhost")) as f:
        r = raw(f.port, get(loc(origin.port), "/<script>x</script>?q=%s"
                            % token()))
        assert status_of(r) == 403, r
        assert b"<script>" not in body_of(r) and b"x</script" not in r, r


# --- CONNECT ----------------------------------------------------------

@suite.test
def connect_obeys_the_same_rules():
    with Script(echo) as e, \
            Ferry({"destinations": {"deny": "localhost"},
                   "connect": {"ports": e.port}}) as f:
        s, head = tunnel(f, b"localhost:%d" % e.port)
        s.close()
        assert status_of(head) == 403, head
        assert (REFUSED % ("localhost", e.port)).encode() in head, head
        line = info_line(f, "CONNECT", "localhost:%d" % e.port, 403)
        assert 'deny rule "localhost"' in line, line
        time.sleep(0.2)
        assert e.accepted == 0
        s, head = tunnel(f, b"127.0.0.1:%d" % e.port)
        with s:
            assert status_of(head) == 200, head
            s.sendall(b"ping")
            assert s.recv(4) == b"ping"
    with Script(echo) as e, \
            Ferry(names_only(default="deny", allow="localhost:%d" % e.port)
                  | {"connect": {"ports": e.port}}) as f:
        s, head = tunnel(f, b"localhost:%d" % e.port)
        with s:
            assert status_of(head) == 200, head
            s.sendall(b"pong")
            assert s.recv(4) == b"pong"
        s, head = tunnel(f, b"127.0.0.1:%d" % e.port)
        s.close()
        assert status_of(head) == 403, head
        assert e.accepted == 1, e.accepted


@suite.test
def connect_port_list_still_applies():
    # Destinations allow it, the port is not listed: 403 from [connect].
    with Script(echo) as e, Ferry({"connect": {"ports": 443}}) as f:
        s, head = tunnel(f, b"localhost:%d" % e.port)
        s.close()
        assert status_of(head) == 403, head
        assert b"CONNECT is not allowed to this port" in head, head
        time.sleep(0.2)
        assert e.accepted == 0


@suite.test
def order_destination_before_connect_port():
    # Both would refuse: the destination rule decides (it comes first).
    with Ferry({"destinations": {"deny": "localhost"},
                "connect": {"ports": 443}}) as f:
        s, head = tunnel(f, b"localhost:%d" % origin.port)
        s.close()
        assert status_of(head) == 403, head
        assert (REFUSED % ("localhost", origin.port)).encode() in head, head
        assert b"not allowed to this port" not in head, head


@suite.test
def order_connect_port_before_guard():
    # The guard runs on addresses, after DNS, so an unlisted port is
    # refused by [connect] first.
    with Ferry(shipped() | {"connect": {"ports": 443}}) as f:
        s, head = tunnel(f, b"127.0.0.1:%d" % origin.port)
        s.close()
        assert status_of(head) == 403, head
        assert b"CONNECT is not allowed to this port" in head, head


@suite.test
def order_whitelist_before_destination():
    with Ferry({"whitelist": {"a": "127.0.0.2"},
                "destinations": {"deny": "localhost"}}) as f:
        r, _ = ask(f, loc(origin.port))
        assert status_of(r) == 403, r
        assert b"Your address may not use this proxy" in r, r
        assert b"rules do not allow" not in r, r


# --- strict literals --------------------------------------------------

NUMERIC = ("2130706433", "0x7f.0.0.1", "0177.0.0.1", "127.1", "0x7f.1",
           "0x7f000001", "127.0.1", "127.0.0.01")


@suite.test
def numeric_hosts_are_400_and_never_forwarded():
    # Each of these is 127.0.0.1 to inet_aton(): with loopback allowed,
    # a resolver would take them straight to the origin.
    with Ferry() as f:
        for host in NUMERIC:
            auth = "%s:%d" % (host, origin.port)
            r, tok = ask(f, auth)
            assert status_of(r) == 400, (host, r[:300])
            assert b"The host is not a valid IP address." in r, (host, r)
            time.sleep(0.05)
            assert seen(origin, tok) == [], host
    # even when a rule would allow everything, and with the guard off
    with Ferry(shipped(allow="*", internal="allow")) as f:
        r, _ = ask(f, "127.1:%d" % origin.port)
        assert status_of(r) == 400, r[:300]
    # and when a rule would refuse it: the literal check comes first
    with Ferry(dest(deny="*")) as f:
        r, _ = ask(f, "127.1:%d" % origin.port)
        assert status_of(r) == 400, r[:300]


@suite.test
def numeric_connect_targets_are_400():
    with Script(echo) as e, Ferry({"connect": {"ports": e.port}}) as f:
        for host in NUMERIC:
            r = raw(f.port, connect_req(b"%s:%d" % (host.encode(), e.port)))
            assert status_of(r) == 400, (host, r[:300])
            assert b"The host is not a valid IP address." in r, (host, r)
        time.sleep(0.2)
        assert e.accepted == 0, e.accepted


@suite.test
def dotted_quads_and_names_with_digits_are_not_numeric():
    # Four decimal octets and names whose last label is not a number are
    # fine (they fail later, for other reasons, or pass).
    with Ferry() as f:
        expect_ok(f, lit(origin.port))
        r = raw(f.port, get("1a.invalid:80"))
        assert status_of(r) != 400, r[:300]


# --- allow_file and deny_file -----------------------------------------

@suite.test
def allow_file_and_deny_file_with_comments():
    allow = write("dest-allow.txt",
                  "# who may be reached\n\n   \nlocalhost   # the origin\n"
                  "\t.example.test\n")
    with Ferry(names_only(default="deny", allow_file=allow)) as f:
        expect_ok(f, loc(origin.port))
        expect_refused(f, lit(origin.port), "127.0.0.1", origin.port)
    deny = write("dest-deny.txt", "# block list\n\nlocalhost\n# end\n")
    with Ferry(dest(deny_file=deny)) as f:
        expect_refused(f, loc(origin.port), "localhost", origin.port)
        expect_ok(f, lit(origin.port))
    # the list and the file add up
    with Ferry(dest(deny="*:%d" % (origin.port + 1), deny_file=deny)) as f:
        expect_refused(f, loc(origin.port), "localhost", origin.port)


@suite.test
def bad_line_in_a_rules_file_is_named():
    for key in ("deny_file", "allow_file"):
        path = write("dest-bad-%s.txt" % key,
                     "# fine so far\nok.example.test\n\nbad..name\n")
        r = check_config(dest(**{key: path}))
        assert r.returncode == 1, r
        assert ("%s:4" % path).encode() in r.stderr, r.stderr
        assert r.stderr.startswith(b"ferry: "), r.stderr
    r = check_config(dest(deny_file=os.path.join(TMP, "no-such-file")))
    assert r.returncode == 1 and b"no-such-file" in r.stderr, r
    for bad in ("*.example.com", "2130706433", "10.0.0.1/8", "x:0",
                "localhost:9-8", "bad..name"):
        r = check_config(dest(deny=bad))
        assert r.returncode == 1, (bad, r)
        assert bad.encode() in r.stderr, (bad, r.stderr)


@suite.test
def large_deny_file_loads_fast_and_matches():
    n = 100000
    lines = ["# a big block list"]
    for i in range(n):
        lines.append("host%d.block%d.test" % (i, i % 97))
        if i == n // 2:
            lines.append("localhost")
    path = write("dest-big.txt", "\n".join(lines) + "\n")
    f = Ferry(dest(deny_file=path))
    t0 = time.monotonic()
    with f:
        took = time.monotonic() - t0
        assert took < 5.0, took
        expect_refused(f, loc(origin.port), "localhost", origin.port)
        r = raw(f.port, get("host%d.block%d.test:80" % (n - 1, (n - 1) % 97)))
        assert status_of(r) == 403, r[:300]
        r = raw(f.port, get("x.host7.block7.test:80"))
        assert status_of(r) != 403, r[:300]  # not listed (and no such name)
        expect_ok(f, lit(origin.port))
    print("  %d names: ferry serving after %.2fs" % (n, took))


# --- reload -----------------------------------------------------------

@suite.test
def reload_changes_rules_for_new_requests():
    with Ferry() as f:
        expect_ok(f, loc(origin.port))
        f.reload(dest(deny="localhost"))
        expect_refused(f, loc(origin.port), "localhost", origin.port)
        expect_ok(f, lit(origin.port))
        f.reload(shipped())
        expect_refused(f, lit(origin.port), "127.0.0.1", origin.port)
        f.reload({})
        expect_ok(f, loc(origin.port))


@suite.test
def broken_rules_file_on_reload_keeps_the_running_rules():
    bad = write("dest-bad-reload.txt", "ok.example.test\nbad..name\n")
    with Ferry(dest(deny="localhost")) as f:
        f.reload(dest(deny="", deny_file=bad), expect="reload failed")
        assert "%s:2" % bad in f.log(), f.log()[-2000:]
        expect_refused(f, loc(origin.port), "localhost", origin.port)
        f.configure(dest(deny="localhost"))


@suite.test
def parked_keepalive_client_gets_the_new_rules():
    with Ferry() as f, \
            socket.create_connection(("127.0.0.1", f.port), 5) as s:
        tok = token()
        s.sendall(get(loc(origin.port), "/hello?" + tok, close=False))
        r = read_response(s)
        assert status_of(r) == 200, r
        f.reload(dest(deny="localhost"))
        tok2 = token()
        s.sendall(get(loc(origin.port), "/hello?" + tok2, close=False))
        r = read_response(s)
        assert status_of(r) == 403, r
        time.sleep(0.05)
        assert seen(origin, tok2) == []


@suite.test
def reused_origin_connection_is_checked_again():
    # ferry keeps the origin connection; after a reload that denies its
    # address (or turns the guard on), the next request is refused even
    # though an idle connection to that very origin is at hand. The trace
    # shows that ferry had the kept connection and let it go.
    cases = [
        (shipped(deny="127.0.0.0/8", internal="allow"), lit, "127.0.0.1"),
        (shipped(deny="127.0.0.0/8", allow="localhost", internal="allow"),
         loc, "localhost"),
        (shipped(), lit, "127.0.0.1"),
        (shipped(allow="localhost"), loc, "localhost"),
    ]
    with KeepAliveOrigin() as o, Ferry(TRACE) as f:
        for cfg, where, host in cases:
            who = where(o.port)
            with socket.create_connection(("127.0.0.1", f.port), 5) as s:
                for i in (1, 2):
                    s.sendall(get(who, "/warm%d" % i, close=False))
                    r = read_response(s)
                    assert status_of(r) == 200, r
            assert "origin: reusing an idle connection" in f.log()
            before = len(o.requests())
            dropped = f.log().count("origin: not reusing")
            f.reload(cfg | TRACE)
            with socket.create_connection(("127.0.0.1", f.port), 5) as s:
                s.sendall(get(who, "/after", close=False))
                r = read_response(s)
            assert status_of(r) == 403, (cfg, who, r)
            assert names_destination(r, host, o.port), r
            assert len(o.requests()) == before, (cfg, o.requests())
            assert f.log().count("origin: not reusing") == dropped + 1, \
                (cfg, f.log()[-3000:])
            f.reload(TRACE)
        # and with loopback allowed again it goes through
        with socket.create_connection(("127.0.0.1", f.port), 5) as s:
            s.sendall(get(loc(o.port), "/again", close=False))
            assert status_of(read_response(s)) == 200


class TinyDNS:
    """A DNS server on addr:53 (UDP) for the tests below: A queries
    for the names in table get that address, every other query gets
    NXDOMAIN. queries lists the names asked, lower case, without the
    final dot. Root only (port 53)."""

    def __init__(self, table, addr="127.0.0.153"):
        self.table = table
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, 53))
        self.sock.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop:
            try:
                q, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            try:
                self.sock.sendto(self.answer(q), peer)
            except (IndexError, struct.error, OSError):
                pass

    def answer(self, q):
        labels, i = [], 12
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode("ascii").lower())
            i += 1 + q[i]
        qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
        question = q[12:i + 5]
        name = ".".join(labels)
        self.queries.append(name)
        ip = self.table.get(name)
        if ip is None:      # NXDOMAIN
            return q[:2] + b"\x81\x83" + b"\x00\x01\x00\x00\x00\x00" \
                b"\x00\x00" + question
        if qtype != 1:      # a name without that type of record
            return q[:2] + b"\x81\x80" + b"\x00\x01\x00\x00\x00\x00" \
                b"\x00\x00" + question
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + \
            socket.inet_aton(ip)
        return q[:2] + b"\x81\x80" + b"\x00\x01\x00\x01\x00\x00\x00\x00" \
            + question + rr

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop = True
        self.thread.join()
        self.sock.close()


@suite.test
def names_are_resolved_as_written_not_through_the_search_list():
    # With "search corp.test" in resolv.conf, glibc would turn "wiki" into
    # wiki.corp.test: the name rules judged "wiki" (no rule matched) while
    # ferry connected to a host that "deny = .corp.test" keeps out. ferry
    # asks for the name as written. ferry runs in a private mount
    # namespace (unshare -m, root only) whose /etc/resolv.conf names a
    # DNS server of the test's own on 127.0.0.153.
    if os.geteuid() != 0:
        print("     (not root: checked by CI, which is)")
        return
    d = tempfile.mkdtemp(dir=TMP)
    conf = os.path.join(d, "resolv.conf")
    with open(conf, "w") as fh:
        fh.write("nameserver 127.0.0.153\nsearch corp.test\n"
                 "options timeout:1 attempts:1\n")
    wrapper = ["unshare", "-m", "sh", "-c", "mount --bind %s "
               "/etc/resolv.conf && exec \"$0\" \"$@\"" % conf]
    table = {"wiki.corp.test": "127.0.0.1", "public.test": "127.0.0.1"}
    cfg = dest(deny=".corp.test")
    cfg["pool"] = {"workers": 1}    # one thread: its resolver state
    with TinyDNS(table) as dns, Ferry(cfg, wrapper=wrapper) as f:
        # A name that exists as written resolves through the test's DNS.
        r, tok = ask(f, "public.test:%d" % origin.port)
        assert status_of(r) == 200, r[:300]
        assert len(seen(origin, tok)) == 1
        # The denied domain, written out: refused by its name rule.
        r, tok = ask(f, "wiki.corp.test:%d" % origin.port)
        assert status_of(r) == 403, r[:300]
        # The short name: looked up as "wiki" only, which does not exist
        # (502), never as wiki.corp.test.
        before = len(dns.queries)
        r, tok = ask(f, "wiki:%d" % origin.port)
        assert status_of(r) == 502, r[:300]
        assert not seen(origin, tok)
        asked = dns.queries[before:]
        assert asked and all(q == "wiki" for q in asked), asked
        # /etc/hosts names still resolve (localhost).
        r, tok = ask(f, "localhost:%d" % origin.port)
        assert status_of(r) == 200, r[:300]
        # A changed resolv.conf is read again (glibc no longer reloads a
        # resolver state ferry changed): another server, another name.
        with TinyDNS({"moved.test": "127.0.0.1"}, "127.0.0.154") as dns2:
            with open(conf, "r+") as fh:     # in place: the bind follows
                fh.write("nameserver 127.0.0.154\n")
            r, tok = ask(f, "moved.test:%d" % origin.port)
            assert status_of(r) == 200, (r[:300], dns2.queries)
            assert len(seen(origin, tok)) == 1


def main():
    global origin
    with Origin() as o:
        origin = o
        return suite.run()


sys.exit(main())
