#!/usr/bin/env python3
"""e2e_parents: parent proxies ([parents] and [routes], issue 17) through
the real ferry, with real parents (tests/parents.py), never mocks.

  squid (basic_ncsa_auth) as an HTTP parent: GET, POST with a body
  checked by hash, CONNECT to a TLS origin, wrong credentials (502 page
  naming the parent, for GET and CONNECT), the client's own
  Proxy-Authorization never passing, one parent connection reused by
  two requests of one client connection.
  dante (with and without username/password) and microsocks (with
  username/password) as SOCKS5 parents: GET and CONNECT, wrong password.
  ferry -> ferry: Via names both hops in order, CONNECT through the
  chain, a real loop (A -> B -> A) refused with 508 at once.
  Failover: a dead first address, down_after, the warn line, the skip,
  retry_after and "is up again"; every address down: 502 "No parent
  proxy is available" at once.
  Routing: exact name vs IP literal, CIDR routes for literals only.
  ferry -t: the config errors of [parents] and [routes], the warning for
  an unused parent.

One origin, one TLS origin and one squid with credentials are shared by
the tests (started in main()); each test finds its own requests in their
logs by a fresh token in the URL. Everything is on loopback, every wait
bounded.
"""
import base64
import hashlib
import html
import itertools
import os
import socket
import subprocess
import sys
import time

from ferrytest import (FERRY_BIN, TMP, absolute_request, body_of, curl, Ferry,
                       free_port, make_cert, Origin, read_request_head,
                       read_response, read_text, Script, status_of, Suite,
                       wait_for, write_ini)
from parents import Dante, Microsocks, Squid

suite = Suite("parents")

# Shared servers, set by main().
origin = None
tls_origin = None
squid = None

# squid's user for ferry: the password holds a ';' and a space, written
# percent-encoded in the parent URL.
SQ_USER = "ferryu"
SQ_PASS = "p;w d"
SQ_PASS_ENC = "p%3Bw%20d"

_tokens = itertools.count(1)


def token():
    """A fresh query token, so a test finds its own requests in the
    shared logs."""
    return "t=p%d" % next(_tokens)


def squid_url(user=SQ_USER, password=SQ_PASS_ENC, port=None):
    return "http://%s:%s@127.0.0.1:%d" % (user, password,
                                          port or squid.port)


def via(url, name="a", default="corp", level="debug", **more):
    """A ferry config: parent corp = url, default route corp, an access
    log, CONNECT open to the TLS origin's port."""
    cfg = {
        "parents": {"corp": url},
        "routes": {"default": default},
        "headers": {"via_name": name},
        "connect": {"ports": "%d" % tls_origin.port},
        "log": {"level": level, "access": "ACCESS"},
    }
    for sec, keys in more.items():
        cfg.setdefault(sec, {}).update(keys)
    return cfg


def started(cfg, host="127.0.0.1"):
    """A Ferry for cfg whose access log is in its own directory."""
    f = Ferry({}, host=host)
    f.access = os.path.join(f.dir, "access.log")
    if cfg.get("log", {}).get("access") == "ACCESS":
        cfg["log"]["access"] = f.access
    f.configure(cfg)
    return f


def access_lines(f, tok):
    return [ln for ln in read_text(f.access).splitlines() if tok in ln]


def squid_lines(tok, s=None):
    return [ln for ln in (s or squid).access_log_lines() if tok in ln]


def seen(o, tok):
    """The requests origin o logged whose target holds tok."""
    return [q for q in o.requests() if tok in q["target"]]


def field(q, name):
    """The values of field name in an origin log entry."""
    return [v for n, v in q["fields"] if n.lower() == name.lower()]


def page_text(response):
    """The body of one of ferry's pages, HTML entities decoded."""
    return html.unescape(body_of(response).decode("utf-8", "replace"))


def get_raw(f, url, fields="", timeout=10):
    """One GET for url through ferry f on a new connection; the
    response."""
    host = url.split("/")[2]
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s\r\n"
           % (url, host, fields)).encode()
    with socket.create_connection(("127.0.0.1", f.port), timeout) as s:
        s.sendall(req)
        return read_response(s, timeout)


def connect_raw(f, authority, timeout=10):
    """A CONNECT to authority through ferry f; the response (head and
    body, framed by Content-Length; for a 200, just the head)."""
    with socket.create_connection(("127.0.0.1", f.port), timeout) as s:
        s.sendall(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                  % (authority.encode(), authority.encode()))
        return read_response(s, timeout)


def upstream_field(line):
    return line.split()[-1]


# --- 1. squid as an HTTP parent with credentials ---

@suite.test
def squid_get_with_credentials():
    tok = token()
    with started(via(squid_url())) as f:
        r = curl(origin.url("/hello?" + tok), proxy=f.proxy)
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"hello\n", r.stdout
        assert len(seen(origin, tok)) == 1, origin.requests()[-3:]
        sl = wait_for(lambda: squid_lines(tok))
        assert len(sl) == 1, squid.access_log_lines()[-5:]
        # time elapsed client code/status bytes method URL user ...
        parts = sl[0].split()
        assert parts[5] == "GET" and parts[7] == SQ_USER, sl
        assert "/200" in parts[3], sl
        al = wait_for(lambda: access_lines(f, tok))
        assert len(al) == 1, read_text(f.access)
        assert upstream_field(al[0]) == "corp@127.0.0.1:%d" % squid.port, al


@suite.test
def squid_post_body_intact():
    tok = token()
    body = os.urandom(96 << 10)
    path = os.path.join(TMP, "parents-post.bin")
    with open(path, "wb") as fh:
        fh.write(body)
    with started(via(squid_url())) as f:
        r = curl("--data-binary", "@" + path, origin.url("/echo?" + tok),
                 proxy=f.proxy)
        assert r.returncode == 0, r.stderr
        assert r.stdout.endswith(body), len(r.stdout)
        q = seen(origin, tok)
        assert len(q) == 1 and q[0]["method"] == "POST", q
        assert q[0]["body_len"] == len(body), q[0]["body_len"]
        assert q[0]["body_sha256"] == hashlib.sha256(body).hexdigest()
        sl = wait_for(lambda: squid_lines(tok))
        assert len(sl) == 1 and sl[0].split()[5] == "POST", sl


@suite.test
def squid_connect_tls():
    tok = token()
    with started(via(squid_url())) as f:
        r = curl("-k", tls_origin.url("/hello?" + tok), proxy=f.proxy)
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"hello\n", r.stdout
        assert len(seen(tls_origin, tok)) == 1
        want = "127.0.0.1:%d" % tls_origin.port
        sl = wait_for(lambda: [ln for ln in squid.access_log_lines()
                               if " CONNECT %s " % want in ln])
        assert sl and sl[-1].split()[7] == SQ_USER, sl
        al = wait_for(lambda: [ln for ln in read_text(f.access).splitlines()
                               if "CONNECT" in ln])
        assert len(al) == 1, read_text(f.access)
        assert upstream_field(al[0]) == "corp@127.0.0.1:%d" % squid.port, al


@suite.test
def squid_wrong_credentials_is_502():
    tok = token()
    with started(via(squid_url(password="wrong"))) as f:
        r = get_raw(f, origin.url("/hello?" + tok))
        assert status_of(r) == 502, r
        text = page_text(r)
        assert "The parent proxy refused this proxy's credentials." in \
            text, text
        r = connect_raw(f, "127.0.0.1:%d" % tls_origin.port)
        assert status_of(r) == 502, r
        text = page_text(r)
        assert "The parent proxy corp refused this proxy's credentials." \
            in text, text
        assert not seen(origin, tok)
        # squid saw ferry's user and refused it (407), twice
        want = "127.0.0.1:%d" % tls_origin.port

        def denied():
            return [ln for ln in squid.access_log_lines()
                    if "/407 " in ln and " %s " % SQ_USER in ln and
                    (tok in ln or " CONNECT %s " % want in ln)]
        sl = wait_for(lambda: len(denied()) >= 2 and denied())
        assert sl and len(sl) == 2, squid.access_log_lines()[-5:]


@suite.test
def client_credentials_never_pass():
    tok = token()
    r = subprocess.run(["htpasswd", "-n", "-b", "-B", "-C", "5", "client",
                        "clientpw"], capture_output=True, text=True,
                       check=True, timeout=60)
    users = os.path.join(TMP, "parents.users")
    with open(users, "w") as fh:
        fh.write(r.stdout.strip() + "\n")
    os.chmod(users, 0o600)
    cfg = via(squid_url(), auth={"users": users})
    with started(cfg) as f:
        r = curl("--proxy-user", "client:clientpw",
                 origin.url("/echo?" + tok), proxy=f.proxy)
        assert r.returncode == 0, r.stderr
        assert b"Proxy-Authorization" not in r.stdout, r.stdout
        q = seen(origin, tok)
        assert len(q) == 1 and not field(q[0], "Proxy-Authorization"), q
        sl = wait_for(lambda: squid_lines(tok))
        assert len(sl) == 1 and sl[0].split()[7] == SQ_USER, sl
        assert " client " not in sl[0], sl
    # What ferry sends a parent, byte for byte: a listener that records
    # the head and answers 200 (the one thing squid cannot show: it
    # strips Proxy-Authorization itself).
    heads = []

    def record(conn, stop):
        heads.append(read_request_head(conn))
        if heads[-1].startswith(b"CONNECT "):
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                     b"Connection: close\r\n\r\nok\n")

    with Script(record) as p:
        cfg = via("http://%s:%s@127.0.0.1:%d" % (SQ_USER, SQ_PASS_ENC,
                                                 p.port),
                  auth={"users": users})
        with started(cfg) as f:
            r = curl("--proxy-user", "client:clientpw",
                     origin.url("/x?" + tok), proxy=f.proxy)
            assert r.stdout == b"ok\n", r
            target = "127.0.0.1:%d" % tls_origin.port
            cred = base64.b64encode(b"client:clientpw").decode()
            with socket.create_connection(("127.0.0.1", f.port), 10) as c:
                c.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n"
                           "Proxy-Authorization: Basic %s\r\n\r\n"
                           % (target, target, cred)).encode())
                r = read_response(c)
                assert status_of(r) == 200, r
    assert len(heads) == 2, heads
    want = base64.b64encode(("%s:%s" % (SQ_USER, SQ_PASS)).encode())
    for head, first in ((heads[0], "GET %s HTTP/1.1" %
                         origin.url("/x?" + tok)),
                        (heads[1], "CONNECT %s HTTP/1.1" % target)):
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0] == first, lines
        pa = [ln for ln in lines if ln.lower().startswith("proxy-authoriz")]
        assert pa == ["Proxy-Authorization: Basic " + want.decode()], lines


@suite.test
def keepalive_reuses_the_parent_connection():
    tok = token()
    with started(via(squid_url(), level="trace")) as f:
        # Three requests, the last to another origin name: the pool is
        # keyed by the parent, so one parent connection serves all.
        authorities = (origin.authority, origin.authority,
                       "localhost:%d" % origin.port)
        with socket.create_connection(("127.0.0.1", f.port), 10) as s:
            for i, authority in enumerate(authorities):
                s.sendall(absolute_request(authority,
                                           "/hello?%s-%d" % (tok, i)))
                r = read_response(s)
                assert status_of(r) == 200 and body_of(r) == b"hello\n", r
        log = f.log()
        assert log.count("route: parent corp (default)") == 3, log[-3000:]
        assert log.count("parent corp: connected to") == 1, log[-3000:]
        assert log.count("parent corp: reusing an idle connection") == 2, \
            log[-3000:]
        sl = wait_for(lambda: len(squid_lines(tok)) == 3 and
                      squid_lines(tok))
        assert sl, squid.access_log_lines()[-4:]


@suite.test
def squid_refuses_the_connect_target():
    """squid answers 503 to a CONNECT to a closed port: ferry's 502
    names the parent, the target and squid's status."""
    dead = free_port()
    with started(via(squid_url(), connect={"ports": "%d" % dead})) as f:
        r = connect_raw(f, "127.0.0.1:%d" % dead)
        assert status_of(r) == 502, r
        want = ("The parent proxy corp refused to reach 127.0.0.1 port %d "
                "(it answered 503)." % dead)
        assert want in page_text(r), r


def banner_echo(conn, stop):
    """A Script handler for a server that speaks first: a banner, then an
    echo."""
    conn.sendall(b"220 banner\r\n")
    conn.settimeout(10)
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


@suite.test
def connect_server_speaks_first():
    """The bytes the far side sends right after the parent's 200 reach the
    client (they may arrive with the parent's head)."""
    with Script(banner_echo) as e, \
            started(via(squid_url(), connect={"ports": "%d" % e.port})) as f:
        target = b"127.0.0.1:%d" % e.port
        with socket.create_connection(("127.0.0.1", f.port), 10) as c:
            c.sendall(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                      % (target, target))
            buf = b""
            while b"220 banner\r\n" not in buf:
                data = c.recv(4096)
                assert data, buf
                buf += data
            assert status_of(buf) == 200, buf
            assert buf.endswith(b"\r\n\r\n220 banner\r\n"), buf
            c.sendall(b"ping\n")
            assert c.recv(4096) == b"ping\n"


@suite.test
def expect_continue_parent_407_is_502():
    # A POST with Expect: 100-continue: squid answers its 407 before any
    # 100, on the path where ferry waits for the go-ahead; the client must
    # still get the 502, never the parent's 407 and its realm.
    tok = token()
    with started(via(squid_url(password="wrong"))) as f:
        url = origin.url("/echo?" + tok)
        with socket.create_connection(("127.0.0.1", f.port), 10) as c:
            c.sendall(("POST %s HTTP/1.1\r\nHost: %s\r\n"
                       "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n"
                       % (url, url.split("/")[2])).encode())
            r = read_response(c, 10)
        assert status_of(r) == 502, r
        assert b"Proxy-Authenticate" not in r, r
        assert "refused this proxy's credentials" in page_text(r), r
        assert not seen(origin, tok)


def silent(conn, stop):
    """A parent that takes the CONNECT and never answers (it is still
    trying a dead destination): hold the connection until the end."""
    conn.settimeout(0.2)
    while not stop.is_set():
        try:
            if conn.recv(4096) == b"":
                return
        except socket.timeout:
            pass


@suite.test
def slow_destination_is_504_and_no_failover():
    # A parent that took the CONNECT but gives no answer within io_timeout
    # is waiting on the destination: 504 at once, the next address is
    # not tried (it would wait as long again), and no address is put down.
    with Script(silent) as slow, Script(silent) as second:
        cfg = via("http://127.0.0.1:%d http://127.0.0.1:%d"
                  % (slow.port, second.port), level="debug",
                  upstream={"io_timeout": "1"},
                  parents={"down_after": "1"})
        with started(cfg) as f:
            for _ in range(2):
                t0 = time.monotonic()
                r = connect_raw(f, "127.0.0.1:%d" % tls_origin.port)
                took = time.monotonic() - t0
                assert status_of(r) == 504, r
                assert "did not reach 127.0.0.1 port %d in time" \
                    % tls_origin.port in page_text(r), r
                assert took < 3, took
            assert second.accepted == 0, second.accepted
            assert slow.accepted == 2, slow.accepted
            assert "is down" not in f.log(), f.log()[-2000:]


@suite.test
def oversize_via_on_connect_is_431_and_no_failover():
    # A client Via that fits the client's limit but not the CONNECT ferry
    # builds for the parent is the client's: 431, no parent is tried or
    # put down.
    with Script(silent) as p:
        cfg = via("http://u:p@127.0.0.1:%d" % p.port,
                  limits={"max_header_bytes": "4096"},
                  parents={"down_after": "1"}, upstream={"io_timeout": "1"})
        with started(cfg) as f:
            auth = "127.0.0.1:%d" % tls_origin.port
            # the client's head is 4076 bytes; ferry's adds ", 1.1 a"
            # and its credentials (33 bytes)
            head = "CONNECT %s HTTP/1.1\r\nHost: %s\r\nVia: \r\n\r\n" \
                % (auth, auth)
            big = "1.1 " + "v" * (4076 - len(head) - 4)
            for _ in range(3):
                with socket.create_connection(("127.0.0.1", f.port),
                                              10) as c:
                    c.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n"
                               "Via: %s\r\n\r\n" % (auth, auth, big))
                              .encode())
                    r = read_response(c, 10)
                assert status_of(r) == 431, r[:300]
            assert p.accepted == 0, p.accepted
            assert "is down" not in f.log(), f.log()[-2000:]
            # a CONNECT of normal size still goes to the parent (which
            # stays silent: 504 after io_timeout)
            r = connect_raw(f, auth, timeout=5)
            assert status_of(r) == 504 and p.accepted == 1, (r, p.accepted)


@suite.test
def parent_that_is_ferry_itself_is_508():
    # With via = no, Via cannot show a loop: a parent whose address is
    # ferry's own listening socket is refused before connecting.
    f = started(via("http://127.0.0.1:1"))
    f.configure(via("http://127.0.0.1:%d" % f.port, headers={"via": "no"},
                    log={"access": f.access}))
    with f:
        tok = token()
        t0 = time.monotonic()
        r = get_raw(f, origin.url("/hello?" + tok))
        assert status_of(r) == 508, r
        assert "is this proxy itself" in page_text(r), r
        r = connect_raw(f, "127.0.0.1:%d" % tls_origin.port)
        assert status_of(r) == 508, r
        assert time.monotonic() - t0 < 2
        assert not seen(origin, tok)


# --- 2. SOCKS5 parents ---

def socks_checks(p, url, wrong_url=None):
    """GET (origin form at the origin) and CONNECT through p via ferry;
    with wrong_url, that a wrong password is a 502."""
    tok = token()
    with started(via(url)) as f:
        r = curl(origin.url("/echo?" + tok), proxy=f.proxy)
        assert r.returncode == 0, r.stderr
        q = seen(origin, tok)
        assert len(q) == 1, origin.requests()[-3:]
        assert q[0]["target"] == "/echo?" + tok, q[0]["target"]
        r = curl("-k", tls_origin.url("/hello?" + tok), proxy=f.proxy)
        assert r.returncode == 0 and r.stdout == b"hello\n", r
        al = wait_for(lambda: len(access_lines(f, tok)) == 1 and
                      access_lines(f, tok))
        assert al and upstream_field(al[0]) == \
            "corp@127.0.0.1:%d" % p.port, read_text(f.access)
        # dante logs each session with its target as ADDR.PORT
        for o in (origin, tls_origin):
            assert wait_for(lambda: "127.0.0.1.%d " % o.port in p.log()), \
                (o.port, p.log()[-2000:])
    if wrong_url is None:
        return
    tok = token()
    with started(via(wrong_url)) as f:
        t0 = time.monotonic()
        r = get_raw(f, origin.url("/hello?" + tok))
        assert status_of(r) == 502, r
        assert "refused this proxy's credentials" in page_text(r), r
        r = connect_raw(f, "127.0.0.1:%d" % tls_origin.port)
        assert status_of(r) == 502, r
        assert "The parent proxy corp refused this proxy's credentials." \
            in page_text(r), r
        assert time.monotonic() - t0 < 4, time.monotonic() - t0
        assert not seen(origin, tok)


@suite.test
def dante_without_auth():
    with Dante() as p:
        socks_checks(p, "socks5://127.0.0.1:%d" % p.port)


@suite.test
def dante_with_auth():
    with Dante(users={"ferryp_e2e": "d4n;te pw"}) as p:
        socks_checks(p, "socks5://ferryp_e2e:d4n%%3Bte%%20pw@127.0.0.1:%d"
                     % p.port,
                     "socks5://ferryp_e2e:nope@127.0.0.1:%d" % p.port)


@suite.test
def microsocks_with_auth():
    with Microsocks("mia", "m1;cro") as p:
        tok = token()
        with started(via("socks5://mia:m1%%3Bcro@127.0.0.1:%d" % p.port)) \
                as f:
            r = curl(origin.url("/hello?" + tok), proxy=f.proxy)
            assert r.returncode == 0 and r.stdout == b"hello\n", r
            assert len(seen(origin, tok)) == 1
        with started(via("socks5://mia:bad@127.0.0.1:%d" % p.port)) as f:
            r = get_raw(f, origin.url("/hello?" + tok))
            assert status_of(r) == 502, r
            assert "refused this proxy's credentials" in page_text(r), r
            assert len(seen(origin, tok)) == 1


@suite.test
def hung_socks5_parent_fails_over_to_dante():
    # A SOCKS5 parent that takes the connection but never answers the
    # greeting is hung itself (no destination is involved yet): unlike a
    # late CONNECT reply, that fails over to the next address and counts
    # against the hung one, which is then skipped.
    with Script(silent) as hung, Dante() as p:
        cfg = via("socks5://127.0.0.1:%d socks5://127.0.0.1:%d"
                  % (hung.port, p.port), upstream={"io_timeout": "1"},
                  parents={"down_after": "1", "retry_after": "60"})
        with started(cfg) as f:
            tok = token()
            t0 = time.monotonic()
            r = curl(origin.url("/hello?" + tok), proxy=f.proxy)
            assert r.returncode == 0 and r.stdout == b"hello\n", r
            assert 0.9 < time.monotonic() - t0 < 3, time.monotonic() - t0
            hungurl = "socks5://127.0.0.1:%d" % hung.port
            assert wait_for(lambda: "parent corp: %s is down" % hungurl
                            in f.log()), f.log()[-2000:]
            assert "no complete method reply within 1000 ms" in f.log(), \
                f.log()[-2000:]
            # The next ones skip it: through dante at once.
            tok2 = token()
            t0 = time.monotonic()
            r = curl(origin.url("/hello?" + tok2), proxy=f.proxy)
            assert r.returncode == 0 and r.stdout == b"hello\n", r
            assert time.monotonic() - t0 < 0.9, time.monotonic() - t0
            assert hung.accepted == 1, hung.accepted
            for t in (tok, tok2):
                al = wait_for(lambda: access_lines(f, t))
                assert al and upstream_field(al[0]) == \
                    "corp@127.0.0.1:%d" % p.port, al


# --- 3. ferry -> ferry ---

def plain_ferry(name, **more):
    cfg = {"headers": {"via_name": name},
           "connect": {"ports": "%d" % tls_origin.port}}
    for sec, keys in more.items():
        cfg.setdefault(sec, {}).update(keys)
    return cfg


@suite.test
def chain_via_shows_both_hops():
    tok = token()
    b = started(plain_ferry("b"))
    with b, started(via("http://127.0.0.1:%d" % b.port, name="a")) as a:
        r = curl(origin.url("/echo?" + tok), proxy=a.proxy)
        assert r.returncode == 0, r.stderr
        q = seen(origin, tok)
        assert len(q) == 1, origin.requests()[-3:]
        assert ", ".join(field(q[0], "Via")) == "1.1 a, 1.1 b", q[0]
        r = curl("-k", tls_origin.url("/hello?" + tok), proxy=a.proxy)
        assert r.returncode == 0 and r.stdout == b"hello\n", r
        assert len(seen(tls_origin, tok)) == 1


@suite.test
def default_deny_lets_an_allowed_literal_through_a_parent():
    # default = deny, allow = 127.0.0.0/8: an IP literal in that range
    # goes through the parent (its address is known, the CIDR allows
    # it), while a name is refused (only the parent would resolve it).
    tok = token()
    b = started(plain_ferry("b"))
    cfg = via("http://127.0.0.1:%d" % b.port, name="a",
              destinations={"default": "deny", "allow": "127.0.0.0/8"})
    with b, started(cfg) as a:
        r = curl(origin.url("/hello?" + tok), proxy=a.proxy)
        assert r.returncode == 0 and r.stdout == b"hello\n", r
        assert len(seen(origin, tok)) == 1
        r = get_raw(a, "http://localhost:%d/hello?%s" % (origin.port, tok))
        assert status_of(r) == 403, r
        assert wait_for(lambda: "default = deny, and the parent resolves "
                        "the name" in a.log()), a.log()[-2000:]
        assert len(seen(origin, tok)) == 1


def loop_pair():
    """Two ferries, a and b, each the other's parent."""
    a = Ferry({})
    b = Ferry({})
    for f, other, name in ((a, b, "a"), (b, a, "b")):
        f.configure(plain_ferry(name, parents={
            "corp": "http://127.0.0.1:%d" % other.port},
            routes={"default": "corp"}, log={"level": "trace"}))
    return a, b


@suite.test
def chain_loop_get_is_508_at_once():
    tok = token()
    a, b = loop_pair()
    with a, b:
        t0 = time.monotonic()
        r = get_raw(a, origin.url("/hello?" + tok))
        took = time.monotonic() - t0
        assert status_of(r) == 508, r
        assert took < 2, took
        assert not seen(origin, tok)
        # a -> b -> a, refused there: one hop each
        assert a.log().count("parent corp: trying") == 1, a.log()[-3000:]
        assert b.log().count("parent corp: trying") == 1, b.log()[-3000:]


@suite.test
def chain_loop_connect_is_508_at_once():
    """The same loop for CONNECT. The CONNECT ferry sends its parent
    carries a Via with its own token only, not the client's Via, so
    neither instance ever sees its own name: the CONNECT circles A -> B
    -> A ... until the workers are all waiting, and the first answer
    comes after io_timeout (a 502), with both parents marked down."""
    a, b = loop_pair()
    with a, b:
        t0 = time.monotonic()
        r = connect_raw(a, "127.0.0.1:%d" % tls_origin.port, timeout=15)
        took = time.monotonic() - t0
        hops = a.log().count("parent corp: trying")
        print("     CONNECT around the loop: %r after %.2f s, %d hops at a"
              % (r.split(b"\r\n")[0], took, hops))
        assert status_of(r) == 508, (took, hops, r)
        assert took < 2, took
        assert hops == 1, hops


# --- 4. failover ---

@suite.test
def failover_down_and_up_again():
    dead = free_port()
    cfg = via("http://127.0.0.1:%d %s" % (dead, squid_url()),
              level="trace", parents={"down_after": 2, "retry_after": 2},
              upstream={"retries": 0, "keepalive_per_host": 0})
    with started(cfg) as f:
        toks = []
        for i in range(3):
            toks.append(token())
            r = curl(origin.url("/hello?" + toks[-1]), proxy=f.proxy)
            assert r.returncode == 0 and r.stdout == b"hello\n", (i, r)
        # Each went through squid.
        for tok in toks:
            al = wait_for(lambda: access_lines(f, tok))
            assert upstream_field(al[0]) == \
                "corp@127.0.0.1:%d" % squid.port, al
            assert squid_lines(tok), tok
        log = f.log()
        deadurl = "http://127.0.0.1:%d" % dead
        warn = "parent corp: %s is down after 2 failed attempts in a " \
            "row; trying it again in 2s" % deadurl
        assert log.count(warn) == 1, log[-4000:]
        assert log.count("parent corp: trying %s" % deadurl) == 2, \
            log[-4000:]
        assert "parent corp: skipping %s: down" % deadurl in log, \
            log[-4000:]
        # Bring the first address back: a plain ferry on the dead port.
        back = Ferry(plain_ferry("back"))
        back.port = dead
        back.configure(plain_ferry("back"))
        with back:
            time.sleep(2.3)
            tok = token()
            r = curl(origin.url("/hello?" + tok), proxy=f.proxy)
            assert r.returncode == 0 and r.stdout == b"hello\n", r
            al = wait_for(lambda: access_lines(f, tok))
            assert al and upstream_field(al[0]) == \
                "corp@127.0.0.1:%d" % dead, al
            assert not squid_lines(tok)
            q = seen(origin, tok)
            assert q and "1.1 back" in ", ".join(field(q[0], "Via")), q
            assert "parent corp: %s is up again" % deadurl in f.log(), \
                f.log()[-3000:]


@suite.test
def failover_connect():
    """CONNECT fails over too: the dead first address, then squid."""
    dead = free_port()
    cfg = via("http://127.0.0.1:%d %s" % (dead, squid_url()),
              upstream={"retries": 0})
    with started(cfg) as f:
        tok = token()
        t0 = time.monotonic()
        r = curl("-k", tls_origin.url("/hello?" + tok), proxy=f.proxy)
        assert r.returncode == 0 and r.stdout == b"hello\n", r
        assert time.monotonic() - t0 < 2
        al = wait_for(lambda: [ln for ln in read_text(f.access).splitlines()
                               if "CONNECT" in ln])
        assert al and upstream_field(al[0]) == \
            "corp@127.0.0.1:%d" % squid.port, al


def all_down(retries):
    d1, d2 = free_port(), free_port()
    while d2 == d1:
        d2 = free_port()
    more = {"upstream": {"retries": retries}} if retries is not None else {}
    mport = free_port()
    more["metrics"] = {"listen": "127.0.0.1:%d" % mport}
    cfg = via("http://127.0.0.1:%d http://127.0.0.1:%d" % (d1, d2), **more)
    tok = token()
    with started(cfg) as f:
        for authority in (None, "127.0.0.1:%d" % tls_origin.port):
            t0 = time.monotonic()
            if authority is None:
                r = get_raw(f, origin.url("/hello?" + tok))
            else:
                r = connect_raw(f, authority)
            took = time.monotonic() - t0
            print("     retries=%s %s: %.3f s" % (retries,
                                                  authority and "CONNECT" or
                                                  "GET", took))
            assert status_of(r) == 502, r
            assert "No parent proxy is available: every address of the " \
                "parent proxy corp is down or failed." in page_text(r), r
            assert took < 2, took  # connect_timeout is 2 s
        assert not seen(origin, tok)
        # A connect is counted once per request, as for an origin, not
        # once per address and round. With retries = 0 each request
        # dials both addresses once; with the default 2 the first
        # request's three rounds put both down (down_after 3), so the
        # second one dials nothing and counts nothing.
        r = curl("http://127.0.0.1:%d/metrics" % mport)
        assert r.returncode == 0, r
        want = {"refused": 2 if retries == 0 else 1, "ok": 0}
        for result, n in want.items():
            line = 'ferry_upstream_connects_total{result="%s"} %d' % (
                result, n)
            got = [ln for ln in r.stdout.decode().splitlines()
                   if ln.startswith("ferry_upstream_connects_total{")]
            assert line in got, (line, got)


@suite.test
def all_parents_down_no_retries():
    all_down(0)


@suite.test
def all_parents_down_default_retries():
    all_down(None)


# --- 5. routing ---

@suite.test
def route_by_name_not_by_literal():
    cfg = via(squid_url(), default="direct", level="trace")
    cfg["routes"]["corp"] = "localhost"
    with started(cfg) as f:
        tok = token()
        url = "http://localhost:%d/hello?%s" % (origin.port, tok)
        r = curl(url, proxy=f.proxy)
        assert r.returncode == 0 and r.stdout == b"hello\n", r
        assert len(wait_for(lambda: squid_lines(tok))) == 1, tok
        assert upstream_field(wait_for(lambda: access_lines(f, tok))[0]) \
            == "corp@127.0.0.1:%d" % squid.port
        tok = token()
        r = curl(origin.url("/hello?" + tok), proxy=f.proxy)
        assert r.returncode == 0 and r.stdout == b"hello\n", r
        al = wait_for(lambda: access_lines(f, tok))
        assert al and "corp@" not in al[0], al
        time.sleep(0.2)
        assert not squid_lines(tok)
        log = f.log()
        assert log.count('route: parent corp (rule "localhost")') == 1, \
            log[-3000:]
        assert log.count("route: direct (default)") == 1, log[-3000:]


@suite.test
def route_cidr_matches_literals_only():
    cfg = via(squid_url(), default="direct")
    cfg["routes"]["corp"] = "127.0.0.0/8"
    with started(cfg) as f:
        tok = token()
        r = curl(origin.url("/hello?" + tok), proxy=f.proxy)
        assert r.returncode == 0 and r.stdout == b"hello\n", r
        assert len(wait_for(lambda: squid_lines(tok))) == 1, tok
        tok = token()
        url = "http://localhost:%d/hello?%s" % (origin.port, tok)
        r = curl(url, proxy=f.proxy)
        assert r.returncode == 0 and r.stdout == b"hello\n", r
        al = wait_for(lambda: access_lines(f, tok))
        assert al and "corp@" not in al[0], al
        time.sleep(0.2)
        assert not squid_lines(tok)


def through_squid(f, url_of):
    """Whether a GET for url_of(tok) through f went through squid (its
    access log has it, and ferry's UPSTREAM names corp), or direct."""
    tok = token()
    r = curl(url_of(tok), proxy=f.proxy)
    assert r.returncode == 0 and r.stdout == b"hello\n", r
    al = wait_for(lambda: access_lines(f, tok))
    assert al, read_text(f.access)
    parent = upstream_field(al[0]) == "corp@127.0.0.1:%d" % squid.port
    if not parent:
        time.sleep(0.2)
    assert bool(wait_for(lambda: squid_lines(tok), 2 if parent else 0)) \
        == parent, (al, squid.access_log_lines()[-3:])
    return parent


@suite.test
def route_precedence():
    """.suffix (which matches the bare name too), exact over suffix,
    default, direct as a route, patterns with a port."""
    def name(tok):
        return "http://localhost:%d/hello?%s" % (origin.port, tok)

    def literal(tok):
        return origin.url("/hello?" + tok)

    cases = [
        ({"default": "direct", "corp": ".localhost"}, True, False),
        ({"default": "corp", "direct": "localhost"}, False, True),
        ({"default": "direct", "corp": ".localhost",
          "direct": "localhost"}, False, False),
        ({"default": "direct", "corp": "*:%d" % origin.port}, True, True),
        ({"default": "direct", "corp": "localhost:%d" % free_port()},
         False, False),
        ({"default": "direct", "corp": "localhost:%d" % origin.port},
         True, False),
    ]
    for routes, by_name, by_literal in cases:
        cfg = via(squid_url())
        cfg["routes"] = routes
        with started(cfg) as f:
            assert through_squid(f, name) == by_name, routes
            assert through_squid(f, literal) == by_literal, routes


# --- 6. ferry -t ---

def check(parents=None, routes=None):
    path = os.path.join(TMP, "check-%d.ini" % next(_tokens))
    sections = {"server": {"listen": "127.0.0.1:%d" % free_port()}}
    if parents is not None:
        sections["parents"] = parents
    if routes is not None:
        sections["routes"] = routes
    write_ini(path, sections)
    return subprocess.run([FERRY_BIN, "-t", "-c", path], capture_output=True,
                          text=True, timeout=30)


@suite.test
def check_config_errors():
    cases = [
        ({"corp": "http://127.0.0.1:3128"},
         {"default": "corp", "nosuch": ".example.com"},
         ["nosuch", ".example.com", "no parent of that name"]),
        ({"corp": "ftp://127.0.0.1:3128"}, {"default": "corp"},
         ["corp", "URL 1", "'ftp://127.0.0.1:3128'"]),
        ({"corp": "http://127.0.0.1"}, {"default": "corp"},
         ["corp", "http://127.0.0.1"]),
        ({"corp": "http://127.0.0.1:3128/path"}, {"default": "corp"},
         ["corp", "http://127.0.0.1:3128...", "a path"]),
        ({"corp": "http://127.0.0.1:3128"},
         {"default": "direct", "corp": ".example.com",
          "direct": ".example.com"},
         [".example.com", "routed to", "as well"]),
    ]
    for parents, routes, want in cases:
        r = check(parents, routes)
        print("     %s" % r.stderr.strip().splitlines()[-1:])
        assert r.returncode != 0, (parents, routes, r)
        for w in want:
            assert w in r.stderr, (w, r.stderr)


@suite.test
def check_unused_parent_warns():
    r = check({"corp": "http://127.0.0.1:3128",
               "spare": "socks5://127.0.0.1:1080"}, {"default": "corp"})
    assert r.returncode == 0, r
    warn = [ln for ln in r.stderr.splitlines()
            if ln.startswith("ferry: warning: ")]
    assert warn == ["ferry: warning: [parents] spare: no route uses it"], \
        r.stderr


def main():
    global origin, tls_origin, squid
    cert = make_cert()
    with Origin() as o, Origin(tls=cert) as t, \
            Squid(users={SQ_USER: SQ_PASS},
                  extra=["strip_query_terms off"]) as s:
        origin, tls_origin, squid = o, t, s
        return suite.run()


sys.exit(main())
