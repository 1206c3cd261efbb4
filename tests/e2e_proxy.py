#!/usr/bin/env python3
"""e2e_proxy: PROXY protocol listeners (issue 18 section 2) through the
real ferry binary: headers written by hand (v1 text, v2 binary, LOCAL,
missing, malformed, truncated, from a balancer not in from), and a real
HAProxy (tests/haproxy.py) with send-proxy-v2 and send-proxy in front of
two ferry instances, clients on two loopback source addresses, one
whitelisted and one not.

Everything stays on 127.0.0.0/8; every wait is bounded.
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

from ferrytest import (Ferry, Origin, Suite, free_port, read_response,
                       read_text, status_of, wait_for)
from haproxy import HAProxy

suite = Suite("proxy")

origin = None


def v1(src, dst="127.0.0.1", sport=40000, dport=3128):
    fam = "TCP6" if ":" in src else "TCP4"
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport,
                                         dport)).encode()


SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(src=None, dst="127.0.0.1", sport=40000, dport=3128, tlv=b""):
    """A v2 header: PROXY TCP4 from src, or LOCAL when src is None."""
    if src is None:
        return SIG + bytes([0x20, 0x00]) + struct.pack("!H", 0)
    body = socket.inet_aton(src) + socket.inet_aton(dst) + \
        struct.pack("!HH", sport, dport) + tlv
    return SIG + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


def get_req(o, tag):
    return (b"GET http://%s/hello?%s HTTP/1.1\r\nHost: %s\r\n"
            b"Connection: close\r\n\r\n"
            % (o.authority.encode(), tag.encode(), o.authority.encode()))


class ProxyFerry(Ferry):
    """A ferry with a plain listener (its port) and a [proxy_protocol]
    listener (.pport), an access log, X-Forwarded-For on."""

    def __init__(self, config=None, via="ferry", **kw):
        super().__init__({}, **kw)
        self.pport = free_port()
        self.mport = free_port()
        self.access = os.path.join(self.dir, "access.log")
        cfg = {"proxy_protocol": {"listen": "127.0.0.1:%d" % self.pport},
               "metrics": {"listen": "127.0.0.1:%d" % self.mport},
               "headers": {"forwarded_for": "yes", "via_name": via},
               "log": {"access": self.access},
               "whitelist": {"local": "127.0.0.1 127.0.0.5 127.0.0.9"}}
        for name, keys in (config or {}).items():
            cfg.setdefault(name, {}).update(keys)
        self.configure(cfg)


def send(port, data, timeout=5):
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        s.sendall(data)
        try:
            return read_response(s, timeout)
        except (ConnectionResetError, socket.timeout) as e:
            return repr(e).encode()


def seen(tag):
    return [q for q in origin.requests() if tag in q["target"]]


def xff(q):
    return [v for n, v in q["fields"] if n.lower() == "x-forwarded-for"]


def scrape(f, name):
    """The value of one sample, e.g. 'ferry_refusals_total{reason="x"}'."""
    r = subprocess.run(["curl", "-s", "http://127.0.0.1:%d/metrics"
                        % f.mport], capture_output=True, timeout=10)
    for ln in r.stdout.decode().splitlines():
        if ln.startswith(name + " "):
            return float(ln.split()[-1])
    raise AssertionError("%s not in the scrape" % name)


def refusals(f, reason):
    return scrape(f, 'ferry_refusals_total{reason="%s"}' % reason)


def access_client(f, tag):
    lines = [ln for ln in read_text(f.access).splitlines() if tag in ln]
    return [ln.split()[0] for ln in lines]


@suite.test
def v1_and_v2_give_the_client_address():
    with ProxyFerry() as f:
        for tag, hdr, ip in (("t=v1", v1("127.0.0.9"), "127.0.0.9"),
                             ("t=v2", v2("127.0.0.5"), "127.0.0.5"),
                             ("t=v2tlv", v2("127.0.0.9", tlv=b"\x04\x00\x02"
                                            b"ab"), "127.0.0.9"),
                             ("t=local", v2(None), "127.0.0.1")):
            r = send(f.pport, hdr + get_req(origin, tag))
            assert status_of(r) == 200, (tag, r[:200])
            q = seen(tag)
            assert len(q) == 1 and xff(q[0]) == [ip], (tag, q)
            assert wait_for(lambda: access_client(f, tag) == [ip]), \
                (tag, read_text(f.access))
        # the whitelist sees the header's address, not the balancer's
        r = send(f.pport, v1("192.0.2.7") + get_req(origin, "t=nowl"))
        assert status_of(r) == 403, r[:200]
        assert not seen("t=nowl")
        assert wait_for(lambda: access_client(f, "t=nowl") ==
                        ["192.0.2.7"]), read_text(f.access)


@suite.test
def bad_headers_close_and_are_logged():
    with ProxyFerry({"client": {"header_timeout": 1}}) as f:
        cases = [
            (get_req(origin, "t=nohdr"), "PROXY header from 127.0.0.1"),
            (b"PROXY TCP4 1.2.3 127.0.0.1 1 2\r\n" + get_req(origin,
                                                             "t=bad1"),
             "PROXY header from 127.0.0.1"),
            (SIG + bytes([0x21, 0x11]) + struct.pack("!H", 60000),
             "oversized"),
        ]
        for data, word in cases:
            t0 = time.monotonic()
            r = send(f.pport, data)
            assert b"HTTP/1.1" not in r, r[:200]
            assert time.monotonic() - t0 < 1, time.monotonic() - t0
            assert wait_for(lambda: word in f.log()), (word, f.log()[-800:])
        # truncated: half a header, then nothing: closed at header_timeout
        with socket.create_connection(("127.0.0.1", f.pport), 5) as s:
            s.sendall(v1("127.0.0.9")[:10])
            s.settimeout(5)
            t0 = time.monotonic()
            try:    # the bytes peeked at were never read: a reset
                assert s.recv(100) == b""
            except ConnectionResetError:
                pass
            assert 0.5 < time.monotonic() - t0 < 3
        assert "none within header_timeout" in f.log(), f.log()[-800:]
        assert not seen("t=nohdr") and not seen("t=bad1")
        # each of the four is a refusal; a health check that connects
        # and leaves without a byte is not
        with socket.create_connection(("127.0.0.1", f.pport), 5):
            pass
        assert wait_for(lambda: refusals(f, "proxy_header") == 4), \
            refusals(f, "proxy_header")
        time.sleep(0.2)
        assert refusals(f, "proxy_header") == 4
        assert refusals(f, "balancer") == 0


def cpu_seconds(pid):
    """User plus system CPU time of process pid so far, in seconds."""
    with open("/proc/%d/stat" % pid) as st:
        fields = st.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@suite.test
def header_in_pieces_waits_without_spinning():
    # A header that comes in pieces stays on the socket (it is peeked at
    # until whole): the watcher must sleep until more comes, not wake
    # again and again on the bytes it has seen. Each wait is 1 s of
    # nothing; a spinning watcher burns about a second of CPU in each.
    with ProxyFerry() as f:
        for tag, hdr in (("t=pieces1", v1("127.0.0.9")),
                         ("t=pieces2", v2("127.0.0.5", tlv=b"\x04\x00\x02"
                                          b"ab"))):
            with socket.create_connection(("127.0.0.1", f.pport), 5) as s:
                s.settimeout(5)
                s.sendall(hdr[:10])
                cpu = cpu_seconds(f.proc.pid)
                time.sleep(1)
                s.sendall(hdr[10:20])
                time.sleep(1)
                used = cpu_seconds(f.proc.pid) - cpu
                assert used < 0.3, (tag, used)
                # The rest of the header, then HTTP a byte at first:
                # after the header any byte wakes the watcher again.
                s.sendall(hdr[20:])
                time.sleep(0.3)
                req = get_req(origin, tag)
                s.sendall(req[:1])
                time.sleep(0.3)
                s.sendall(req[1:])
                r = read_response(s, 5)
            assert status_of(r) == 200, (tag, r[:200])
            ip = "127.0.0.9" if tag == "t=pieces1" else "127.0.0.5"
            assert xff(seen(tag)[0]) == [ip], seen(tag)
        assert refusals(f, "proxy_header") == 0


@suite.test
def half_a_header_then_a_hang_up_is_refused_at_once():
    with ProxyFerry() as f:     # header_timeout is 15 s: not waited for
        with socket.create_connection(("127.0.0.1", f.pport), 5) as s:
            s.settimeout(5)
            s.sendall(v1("127.0.0.9")[:10])
            time.sleep(0.2)
            t0 = time.monotonic()
            s.shutdown(socket.SHUT_WR)
            try:
                assert s.recv(100) == b""
            except ConnectionResetError:
                pass
            assert time.monotonic() - t0 < 2
        assert wait_for(lambda: "closed before a whole header: closed"
                        in f.log()), f.log()[-800:]
        assert "warn: PROXY header from 127.0.0.1" in f.log()
        assert refusals(f, "proxy_header") == 1


@suite.test
def reset_before_a_byte_is_no_refusal():
    # A TCP health check that ends with a reset, before any byte: like
    # one that closes, not a bad header (no warn line, not counted).
    with ProxyFerry() as f:
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", f.pport), 5)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            s.close()
        r = send(f.pport, v1("127.0.0.9") + get_req(origin, "t=afterrst"))
        assert status_of(r) == 200, r[:200]
        time.sleep(0.3)
        assert refusals(f, "proxy_header") == 0
        assert "warn: PROXY header" not in f.log(), f.log()[-800:]


@suite.test
def balancer_not_in_from_is_closed():
    with ProxyFerry({"proxy_protocol": {"from": "127.0.0.2"}}) as f:
        r = send(f.pport, v1("127.0.0.9") + get_req(origin, "t=from"))
        assert b"HTTP/1.1" not in r, r[:200]
        assert wait_for(lambda: "127.0.0.1 is not in [proxy_protocol] from"
                        in f.log()), f.log()[-800:]
        assert refusals(f, "balancer") == 1
        assert refusals(f, "proxy_header") == 0
        # from 127.0.0.2 it is served
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
            s.settimeout(5)
            s.connect(("127.0.0.1", f.pport))
            s.sendall(v1("127.0.0.9") + get_req(origin, "t=from2"))
            r = read_response(s, 5)
        assert status_of(r) == 200, r[:200]


@suite.test
def header_on_a_plain_listener_is_400():
    with ProxyFerry() as f:
        r = send(f.port, v1("127.0.0.9") + get_req(origin, "t=plain"))
        assert status_of(r) == 400, r[:200]
        assert not seen("t=plain")


def via_haproxy(port, tag, source):
    with socket.socket() as s:
        s.bind((source, 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        s.sendall(get_req(origin, tag))
        return read_response(s, 5)


@suite.test
def behind_haproxy_v2_and_v1():
    # Two ferries behind a real HAProxy: the whitelisted source address
    # is served by both, the other refused, and the access logs show the
    # real client addresses; v2 and v1.
    for mode in ("v2", "v1"):
        wl = {"whitelist": {"local": "127.0.0.2"}}
        with ProxyFerry(wl, via="a") as a, ProxyFerry(wl, via="b") as b:
            with HAProxy([a.pport, b.pport], send_proxy=mode) as h:
                assert h.wait_state("s1", "UP", 5) and \
                    h.wait_state("s2", "UP", 5), h.server_states()
                for i in range(6):
                    r = via_haproxy(h.port, "t=h%s%d" % (mode, i),
                                    "127.0.0.2")
                    assert status_of(r) == 200, (mode, r[:200])
                r = via_haproxy(h.port, "t=h%sno" % mode, "127.0.0.3")
                assert status_of(r) == 403, (mode, r[:200])
                assert not seen("t=h%sno" % mode)
            ips = [ln.split()[0] for f in (a, b)
                   for ln in read_text(f.access).splitlines()
                   if "t=h" + mode in ln]
            assert sorted(ips) == ["127.0.0.2"] * 6 + ["127.0.0.3"], ips
            # each instance served a share
            for f in (a, b):
                assert "t=h" + mode in read_text(f.access), f.access


def requests_counted(f):
    """The sum of ferry_requests_total over every label, scraped."""
    r = subprocess.run(["curl", "-s", "http://127.0.0.1:%d/metrics"
                        % f.mport], capture_output=True, timeout=10)
    return sum(float(ln.split()[-1]) for ln in r.stdout.decode().splitlines()
               if ln.startswith("ferry_requests_total{"))


def load(port, tags, keepalive, errors):
    """GET each tag through HAProxy from 127.0.0.2: on one keep-alive
    connection (reopened only when the server closes between requests),
    or a fresh connection each; failures go to errors."""
    s = None
    for tag in tags:
        try:
            if s is None:
                s = socket.socket()
                s.bind(("127.0.0.2", 0))
                s.settimeout(10)
                s.connect(("127.0.0.1", port))
            conn = b"keep-alive" if keepalive else b"close"
            s.sendall(get_req(origin, tag).replace(b"close", conn))
            r = read_response(s, 10)
            if status_of(r) != 200:
                errors.append((tag, r[:100]))
            if not keepalive or b"Connection: close" in r:
                s.close()
                s = None
        except OSError as e:
            errors.append((tag, repr(e)))
            if s is not None:
                s.close()
            s = None
    if s is not None:
        s.close()


@suite.test
def haproxy_spreads_2000_requests_and_counters_add_up():
    # 2,000 requests over keep-alive and fresh connections through
    # HAProxy (send-proxy-v2) to two ferries: each serves a share, none
    # fails, and the two request counters add up to what was sent.
    wl = {"whitelist": {"local": "127.0.0.2"}}
    with ProxyFerry(wl, via="a") as a, ProxyFerry(wl, via="b") as b, \
            HAProxy([a.pport, b.pport]) as h:
        assert h.wait_state("s1", "UP", 5) and h.wait_state("s2", "UP", 5)
        errors = []
        jobs = [(["t=ka%d-%d" % (j, i) for i in range(200)], True)
                for j in range(5)]
        jobs += [(["t=fr%d-%d" % (j, i) for i in range(250)], False)
                 for j in range(4)]
        threads = [threading.Thread(target=load, args=(h.port, tags, ka,
                                                       errors))
                   for tags, ka in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, (len(errors), errors[:5])
        na, nb = requests_counted(a), requests_counted(b)
        print("   instance a served %d, b %d" % (na, nb))
        assert na > 0 and nb > 0, (na, nb)
        assert na + nb == 2000, (na, nb)


@suite.test
def sigterm_mid_run_loses_no_request():
    # One instance stops with SIGTERM while fresh connections flow: it
    # drains (serving what the kernel had accepted), HAProxy marks it
    # down and retries elsewhere what it could not establish, and no
    # request fails.
    wl = {"whitelist": {"local": "127.0.0.2"}}
    with ProxyFerry(wl, via="a") as a, ProxyFerry(wl, via="b") as b, \
            HAProxy([a.pport, b.pport]) as h:
        assert h.wait_state("s1", "UP", 5) and h.wait_state("s2", "UP", 5)
        errors = []
        tags = [["t=st%d-%d" % (j, i) for i in range(125)] for j in range(4)]
        threads = [threading.Thread(target=load, args=(h.port, tg, False,
                                                       errors))
                   for tg in tags]
        for t in threads:
            t.start()
        assert wait_for(lambda: len(seen("t=st")) >= 150, 30)
        a.proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(120)
        assert a.proc.wait(15) == 0
        assert h.wait_state("s1", "DOWN", 5), h.server_states()
        assert not errors, (len(errors), errors[:5])
        assert len(seen("t=st")) == 500, len(seen("t=st"))


def main():
    global origin
    with Origin() as o:
        origin = o
        return suite.run()


sys.exit(main())
