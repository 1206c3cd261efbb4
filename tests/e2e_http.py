#!/usr/bin/env python3
"""e2e_http: plain HTTP forwarding through the real ferry binary.

Drives ferry with curl -x, urllib's ProxyHandler and raw sockets against
tests/origin.py, and checks both ends: what the client got back, and what
the origin's request log says ferry sent upstream (method, target, fields,
body hash). Covers request and response bodies in every framing, the
request rewrite (origin-form, Host, hop-by-hop fields, Via, X-Forwarded-For,
strip), Expect: 100-continue, HTTP/1.0 clients, IPv6, every method, the
502 error page, the access log line, and both pool and thread modes.

Most tests share one origin and one default ferry (started in main()) to
keep the run short; each request carries a unique query token so a test
finds its own entries in the shared origin log. Tests that need another
configuration start their own ferry.
"""
import gzip
import hashlib
import os
import re
import socket
import sys
import threading
import time
import urllib.request

from ferrytest import (TMP, Ferry, Origin, Script, Suite, body_of, curl,
                       fresh_date, free_port, header_of, raw, read_response,
                       read_text, read_request_head, status_of, wait_for)

suite = Suite("http")

# The shared origin and default ferry, set by main().
origin = None
ferry = None

HOP_BY_HOP = ("keep-alive", "proxy-connection", "proxy-authorization", "te",
              "trailer", "upgrade")


def pattern(n):
    """What origin.py sends for /big, /chunked and /close of n bytes,
    rebuilt here from its definition (bytes 0..255 repeating) so a test does
    not trust the origin's own code for the expected value."""
    return (bytes(range(256)) * (n // 256 + 1))[:n]


def pattern_sha256(n):
    """sha256 of pattern(n), computed a MiB at a time (n may be large)."""
    h = hashlib.sha256()
    block = bytes(range(256)) * 4096
    while n > 0:
        k = min(n, len(block))
        h.update(block[:k])
        n -= k
    return h.hexdigest()


def seen(o, token):
    """The origin's log entries whose target carries token."""
    return [e for e in o.requests() if token in e["target"]]


def seen_one(o, token):
    entries = seen(o, token)
    assert len(entries) == 1, "origin saw %d requests for %s: %r" % (
        len(entries), token, entries)
    return entries[0]


def fields_named(entry, name):
    """Every value of field name (case-insensitive) in a logged request."""
    return [v for n, v in entry["fields"] if n.lower() == name.lower()]


def field_names(entry):
    return [n.lower() for n, _ in entry["fields"]]


def split_head(data):
    """(head text, body bytes) of a raw HTTP message."""
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


def dechunk(data):
    """Decode a chunked body; returns (payload, trailer lines). Raises if
    the framing is broken or the last chunk is missing."""
    out = bytearray()
    pos = 0
    while True:
        eol = data.index(b"\r\n", pos)
        size = int(data[pos:eol].split(b";")[0].strip(), 16)
        pos = eol + 2
        if size == 0:
            trailers = []
            while True:
                eol = data.index(b"\r\n", pos)
                line = data[pos:eol]
                pos = eol + 2
                if line == b"":
                    assert pos == len(data), "bytes after the chunked body"
                    return bytes(out), trailers
                trailers.append(line)
        out += data[pos:pos + size]
        assert data[pos + size:pos + size + 2] == b"\r\n", "bad chunk end"
        pos += size + 2


def served_directly(o, path):
    """The payload o serves at path, fetched without ferry and dechunked.
    origin.py's /chunked sends a little less than size= asks for once it
    needs several chunks, so chunked tests compare with this, not with
    pattern(size); every byte is still checked."""
    resp = raw(o.port, ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" %
                        (path, o.authority)).encode(), host=o.host)
    assert status_of(resp) == 200, resp[:200]
    payload, _ = dechunk(body_of(resp))
    assert payload == pattern(len(payload)), "origin sent an odd body"
    return payload


# Body files written for curl, removed when the run ends.
written = []


def write_tmp(name, data):
    path = os.path.join(TMP, name)
    written.append(path)
    with open(path, "wb") as f:
        f.write(data)
    return path


def proxy_request(f, line, fields=(), body=b"", timeout=5.0):
    """Send a raw request (request line, header lines, body) to ferry and
    read the whole answer. The request asks ferry to close after it
    (Connection: close), so the answer ends where the connection does."""
    if not any(h.lower().startswith("connection:") for h in fields):
        fields = list(fields) + ["Connection: close"]
    data = line + "\r\n" + "".join(h + "\r\n" for h in fields) + "\r\n"
    return raw(f.port, data.encode("latin-1") + body, host=f.host,
               timeout=timeout)


def curl_ok(*args, proxy=None, timeout=30):
    r = curl(*args, proxy=proxy or ferry.proxy, timeout=timeout)
    assert r.returncode == 0, "curl failed: %r" % r.stderr
    return r


def access_lines(f, authority, timeout=3.0):
    """Access log lines of f naming authority; waits a little because ferry
    writes the line after the client already has its answer."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [ln for ln in f.log().splitlines()
                 if " %s " % authority in ln and " in=" in ln]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


# --- GET and HEAD -----------------------------------------------------

@suite.test
def get_returns_body():
    r = curl_ok(origin.url("/hello?t=get1"))
    assert r.stdout == b"hello\n", r.stdout
    e = seen_one(origin, "t=get1")
    assert e["method"] == "GET" and e["target"] == "/hello?t=get1", e


@suite.test
def head_has_headers_and_no_body():
    # curl -I shows the head only, so look at the raw bytes too: after the
    # head nothing may follow, and Content-Length must say the GET size.
    r = curl_ok("-I", origin.url("/big?size=12345&t=head1"))
    assert status_of(r.stdout) == 200, r.stdout
    assert header_of(r.stdout, "Content-Length") == "12345", r.stdout
    resp = proxy_request(ferry, "HEAD %s HTTP/1.1" %
                         origin.url("/big?size=12345&t=head2"),
                         ["Host: " + origin.authority])
    assert status_of(resp) == 200, resp
    assert header_of(resp, "Content-Length") == "12345", resp
    assert resp.endswith(b"\r\n\r\n") and body_of(resp) == b"", resp
    assert seen_one(origin, "t=head2")["method"] == "HEAD"


# --- request bodies ---------------------------------------------------

@suite.test
def urgent_byte_in_a_body_is_stepped_over_not_spun_on():
    # A TCP urgent byte (MSG_OOB) inside a spliced body: splice() stops
    # at it for good while poll() keeps saying "readable", which spun a
    # worker forever. ferry now copies past it, as recv() does (the byte
    # is out of band, not part of the body), and the body arrives whole.
    data = os.urandom(100000)
    head = (b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n"
            % (origin.url("/echo?t=oob").encode(),
               origin.authority.encode(), len(data)))
    with socket.create_connection(("127.0.0.1", ferry.port), 5) as s:
        s.sendall(head + data[:40000])
        time.sleep(0.3)
        s.send(b"!", socket.MSG_OOB)
        s.sendall(data[40000:])
        r = read_response(s)
    assert status_of(r) == 200, r[:200]
    e = seen_one(origin, "t=oob")
    assert e["body_len"] == len(data), e["body_len"]
    assert e["body_sha256"] == hashlib.sha256(data).hexdigest()


@suite.test
def post_1mb_body_byte_exact():
    data = os.urandom(1 << 20)
    path = write_tmp("post1m.bin", data)
    # No Expect here: this test is about the body, not the handshake.
    r = curl_ok("-H", "Expect:", "--data-binary", "@" + path,
                origin.url("/echo?t=post1m"))
    e = seen_one(origin, "t=post1m")
    assert e["method"] == "POST", e
    assert e["body_len"] == len(data), e["body_len"]
    assert e["body_sha256"] == hashlib.sha256(data).hexdigest()
    assert fields_named(e, "Content-Length") == [str(len(data))], e
    head, body = split_head(r.stdout)
    assert head.startswith("POST /echo?t=post1m HTTP/1.1"), head
    assert body == data, "echoed body differs"


@suite.test
def post_chunked_byte_exact():
    data = os.urandom(300000)
    path = write_tmp("postchunked.bin", data)
    r = curl_ok("-H", "Expect:", "-H", "Transfer-Encoding: chunked",
                "--data-binary", "@" + path, origin.url("/echo?t=postch"))
    e = seen_one(origin, "t=postch")
    assert fields_named(e, "Transfer-Encoding") == ["chunked"], e
    assert fields_named(e, "Content-Length") == [], e
    # The origin logs (and echoes) the body as framed on the wire; ferry
    # may re-frame the chunks, so compare the decoded payload.
    _, echoed = split_head(r.stdout)
    assert len(echoed) == e["body_len"], (len(echoed), e["body_len"])
    payload, _ = dechunk(echoed)
    assert payload == data, "chunked body changed on the way"


@suite.test
def post_empty_body():
    r = curl_ok("-X", "POST", "-H", "Content-Length: 0",
                origin.url("/echo?t=post0"))
    e = seen_one(origin, "t=post0")
    assert e["method"] == "POST" and e["body_len"] == 0, e
    assert r.stdout.startswith(b"POST /echo?t=post0 "), r.stdout[:80]


# --- response framing -------------------------------------------------

@suite.test
def download_50mb_by_hash_and_streaming():
    size = 50 << 20
    # A ferry of its own, so its peak RSS reflects this download only.
    with Ferry() as f:
        out = os.path.join(TMP, "big.bin")
        peak = [0]
        done = threading.Event()

        def sample():
            # VmRSS while the transfer runs; VmHWM below catches the peak
            # even between samples.
            while not done.wait(0.02):
                peak[0] = max(peak[0], vm_kb(f.proc.pid, "VmRSS"))

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        try:
            r = curl(origin.url("/big?size=%d&t=big50" % size),
                     "-o", out, proxy=f.proxy, timeout=40)
        finally:
            done.set()
            t.join(5)
        assert r.returncode == 0, r.stderr
        hwm = vm_kb(f.proc.pid, "VmHWM")
    h = hashlib.sha256()
    n = 0
    with open(out, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            n += len(block)
    os.unlink(out)
    assert n == size, n
    assert h.hexdigest() == pattern_sha256(size), "50 MB body differs"
    assert peak[0] < 64 * 1024, "VmRSS reached %d kB" % peak[0]
    assert hwm < 64 * 1024, "VmHWM reached %d kB: not streaming" % hwm


def vm_kb(pid, key):
    with open("/proc/%d/status" % pid) as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


@suite.test
def chunked_response_relayed():
    size = 200000
    expect = served_directly(origin, "/chunked?size=%d&t=ch0" % size)
    r = curl_ok(origin.url("/chunked?size=%d&t=ch1" % size))
    assert r.stdout == expect, "curl body differs"
    # On the wire: still a valid chunked message to an HTTP/1.1 client.
    resp = proxy_request(ferry, "GET %s HTTP/1.1" %
                         origin.url("/chunked?size=%d&t=ch2" % size),
                         ["Host: " + origin.authority])
    assert status_of(resp) == 200, resp[:200]
    assert (header_of(resp, "Transfer-Encoding") or "").lower() == \
        "chunked", resp[:300]
    assert header_of(resp, "Content-Length") is None, resp[:300]
    payload, _ = dechunk(body_of(resp))
    assert payload == expect, "raw chunked body differs"


@suite.test
def close_delimited_response_relayed():
    size = 300000
    r = curl_ok(origin.url("/close?size=%d&t=cl1" % size))
    assert r.stdout == pattern(size), "close-delimited body differs"


@suite.test
def status_204_has_no_body():
    start = time.monotonic()
    resp = proxy_request(ferry, "GET %s HTTP/1.1" %
                         origin.url("/status/204?t=s204"),
                         ["Host: " + origin.authority])
    took = time.monotonic() - start
    assert status_of(resp) == 204, resp
    assert body_of(resp) == b"" and resp.endswith(b"\r\n\r\n"), resp
    assert took < 3, "204 took %.1f s: ferry waited for a body" % took


@suite.test
def status_304_has_no_body():
    start = time.monotonic()
    resp = proxy_request(ferry, "GET %s HTTP/1.1" %
                         origin.url("/status/304?t=s304"),
                         ["Host: " + origin.authority,
                          "If-None-Match: \"x\""])
    took = time.monotonic() - start
    assert status_of(resp) == 304, resp
    assert body_of(resp) == b"" and resp.endswith(b"\r\n\r\n"), resp
    assert took < 3, "304 took %.1f s: ferry waited for a body" % took
    e = seen_one(origin, "t=s304")
    assert fields_named(e, "If-None-Match") == ["\"x\""], e


@suite.test
def error_status_relayed_with_body():
    r = curl_ok("-i", origin.url("/status/404?t=s404"))
    assert status_of(r.stdout) == 404, r.stdout
    assert body_of(r.stdout) == b"status body\n", r.stdout


@suite.test
def head_on_chunked_resource_has_no_body():
    # origin.py answers HEAD /chunked with a body anyway; a response to
    # HEAD never has one, so ferry must not pass those bytes on.
    start = time.monotonic()
    resp = proxy_request(ferry, "HEAD %s HTTP/1.1" %
                         origin.url("/chunked?size=5000&t=headch"),
                         ["Host: " + origin.authority])
    took = time.monotonic() - start
    assert status_of(resp) == 200, resp[:200]
    assert body_of(resp) == b"" and resp.endswith(b"\r\n\r\n"), resp[:400]
    assert took < 3, "HEAD took %.1f s" % took
    assert seen_one(origin, "t=headch")["method"] == "HEAD"


@suite.test
def late_bytes_after_head_answer_do_not_break_the_next_request():
    # origin.py sends its HEAD /chunked "body" 0.3 s after the head. By
    # then ferry has kept the connection and the next request to that
    # origin meets those bytes instead of an answer: ferry must send it
    # again on a new connection, not answer 502.
    resp = proxy_request(ferry, "HEAD %s HTTP/1.1" %
                         origin.url("/chunked?size=300&late=0.3&t=late1"),
                         ["Host: " + origin.authority])
    assert status_of(resp) == 200 and body_of(resp) == b"", resp[:300]
    resp = proxy_request(ferry, "GET %s HTTP/1.1" %
                         origin.url("/hello?t=late2"),
                         ["Host: " + origin.authority])
    assert status_of(resp) == 200, resp
    assert body_of(resp) == b"hello\n", resp
    assert seen_one(origin, "t=late2")["method"] == "GET"


# --- request rewrite --------------------------------------------------

@suite.test
def authority_only_target_becomes_slash():
    # curl always adds the "/", so the request is written by hand.
    resp = proxy_request(ferry, "GET http://%s HTTP/1.1" % origin.authority,
                         ["Host: " + origin.authority,
                          "X-Token: rootpath"])
    assert status_of(resp) == 404, resp  # origin.py has nothing at "/"
    entries = [e for e in origin.requests()
               if fields_named(e, "X-Token") == ["rootpath"]]
    assert len(entries) == 1, entries
    assert entries[0]["target"] == "/", entries[0]


@suite.test
def path_and_query_preserved():
    target = "/echo/a%20b/c;p=1?t=pq&x=%2F%3F&y=a+b&empty="
    resp = proxy_request(ferry, "GET http://%s%s HTTP/1.1" %
                         (origin.authority, target),
                         ["Host: " + origin.authority])
    assert status_of(resp) == 404, resp  # /echo/... is not /echo
    e = seen_one(origin, "t=pq")
    assert e["target"] == target, e["target"]
    assert e["version"] == "HTTP/1.1", e


@suite.test
def host_replaced_from_uri():
    resp = proxy_request(ferry, "GET %s HTTP/1.1" %
                         origin.url("/hello?t=host1"),
                         ["Host: other.example:8080"])
    assert status_of(resp) == 200, resp
    e = seen_one(origin, "t=host1")
    assert fields_named(e, "Host") == [origin.authority], e["fields"]


@suite.test
def host_added_when_missing():
    resp = proxy_request(ferry, "GET %s HTTP/1.0" %
                         origin.url("/hello?t=host0"))
    assert status_of(resp) == 200, resp
    e = seen_one(origin, "t=host0")
    assert fields_named(e, "Host") == [origin.authority], e["fields"]


@suite.test
def hop_by_hop_request_fields_removed():
    resp = proxy_request(ferry, "GET %s HTTP/1.1" %
                         origin.url("/hello?t=hop1"), [
                             "Host: " + origin.authority,
                             "Connection: X-Private, x-other, close",
                             "X-Private: secret",
                             "X-Other: also",
                             "keep-alive: timeout=5",
                             "Proxy-Connection: keep-alive",
                             "PROXY-AUTHORIZATION: Basic dTpw",
                             "TE: trailers",
                             "Trailer: X-Sum",
                             "Upgrade: websocket",
                             "X-End: kept",
                             "Accept: text/plain",
                             "Cookie: a=b"])
    assert status_of(resp) == 200, resp
    e = seen_one(origin, "t=hop1")
    names = field_names(e)
    for gone in HOP_BY_HOP + ("x-private", "x-other"):
        assert gone not in names, "%s forwarded: %r" % (gone, e["fields"])
    for v in fields_named(e, "Connection"):
        assert "x-private" not in v.lower() and "x-other" not in v.lower(), \
            "Connection still names the client's fields: %r" % v
    assert fields_named(e, "X-End") == ["kept"], e["fields"]
    assert fields_named(e, "Accept") == ["text/plain"], e["fields"]
    assert fields_named(e, "Cookie") == ["a=b"], e["fields"]


@suite.test
def connection_cannot_remove_host_or_framing():
    # A Connection field naming Host or Content-Length must not make ferry
    # drop them: the request would lose its target or its body length.
    resp = proxy_request(ferry, "POST %s HTTP/1.1" %
                         origin.url("/echo?t=hop2"),
                         ["Host: " + origin.authority,
                          "Connection: Host, Content-Length, close",
                          "Content-Length: 5"], body=b"abcde")
    assert status_of(resp) == 200, resp
    e = seen_one(origin, "t=hop2")
    assert fields_named(e, "Host") == [origin.authority], e["fields"]
    assert e["body_len"] == 5, e
    assert body_of(resp).endswith(b"\r\n\r\nabcde"), resp


@suite.test
def end_to_end_fields_kept_in_order():
    resp = proxy_request(ferry, "GET %s HTTP/1.1" %
                         origin.url("/hello?t=dup1"),
                         ["Host: " + origin.authority,
                          "X-Dup: one", "X-Mid: m", "X-Dup: two",
                          "User-Agent: e2e/1"])
    assert status_of(resp) == 200, resp
    e = seen_one(origin, "t=dup1")
    assert fields_named(e, "X-Dup") == ["one", "two"], e["fields"]
    assert fields_named(e, "User-Agent") == ["e2e/1"], e["fields"]


@suite.test
def via_added_to_request():
    curl_ok(origin.url("/hello?t=via1"))
    e = seen_one(origin, "t=via1")
    # the host name by default: each instance of a chain has its own
    assert fields_named(e, "Via") == ["1.1 " + socket.gethostname()], \
        e["fields"]
    # A Via the client sent stays, and ferry's own comes after it.
    proxy_request(ferry, "GET %s HTTP/1.1" % origin.url("/hello?t=via2"),
                  ["Host: " + origin.authority, "Via: 1.0 first"])
    e = seen_one(origin, "t=via2")
    via = ", ".join(fields_named(e, "Via"))
    assert re.fullmatch(r"1\.0 first,\s*1\.1 " +
                        re.escape(socket.gethostname()), via), via


@suite.test
def forwarded_for_only_when_enabled():
    curl_ok(origin.url("/hello?t=xff0"))
    e = seen_one(origin, "t=xff0")
    assert "x-forwarded-for" not in field_names(e), e["fields"]
    with Ferry({"headers": {"forwarded_for": "yes"}}) as f:
        r = curl(origin.url("/hello?t=xff1"), proxy=f.proxy)
        assert r.returncode == 0, r.stderr
        e = seen_one(origin, "t=xff1")
        assert fields_named(e, "X-Forwarded-For") == ["127.0.0.1"], \
            e["fields"]
        # An existing list is appended to, not replaced.
        proxy_request(f, "GET %s HTTP/1.1" % origin.url("/hello?t=xff2"),
                      ["Host: " + origin.authority,
                       "X-Forwarded-For: 192.0.2.7"])
        e = seen_one(origin, "t=xff2")
        xff = ", ".join(fields_named(e, "X-Forwarded-For"))
        assert re.fullmatch(r"192\.0\.2\.7,\s*127\.0\.0\.1", xff), xff


@suite.test
def strip_removes_listed_fields():
    with Ferry({"headers": {"strip": "Cookie, user-agent, X-Secret"}}) as f:
        resp = proxy_request(f, "GET %s HTTP/1.1" %
                             origin.url("/hello?t=strip1"),
                             ["Host: " + origin.authority,
                              "cookie: a=1", "User-Agent: leaky/1",
                              "X-SECRET: s", "X-Secret: t",
                              "Referer: http://x.example/", "X-Kept: k"])
        assert status_of(resp) == 200, resp
    e = seen_one(origin, "t=strip1")
    names = field_names(e)
    for gone in ("cookie", "user-agent", "x-secret"):
        assert gone not in names, "%s forwarded: %r" % (gone, e["fields"])
    assert fields_named(e, "Referer") == ["http://x.example/"], e["fields"]
    assert fields_named(e, "X-Kept") == ["k"], e["fields"]


@suite.test
def via_no_adds_no_via():
    with Ferry({"headers": {"via": "no"}}) as f:
        r = curl(origin.url("/hop?t=novia"), "-i", proxy=f.proxy)
        assert r.returncode == 0, r.stderr
    e = seen_one(origin, "t=novia")
    assert "via" not in field_names(e), e["fields"]
    assert header_of(r.stdout, "Via") is None, r.stdout


# --- response rewrite -------------------------------------------------

@suite.test
def hop_by_hop_response_fields_removed():
    r = curl_ok("-i", origin.url("/hop?t=rhop"))
    resp = r.stdout
    assert status_of(resp) == 200, resp
    head, body = split_head(resp)
    names = [ln.partition(":")[0].strip().lower()
             for ln in head.split("\r\n")[1:]]
    for gone in ("x-secret", "keep-alive", "upgrade"):
        assert gone not in names, "%s relayed: %r" % (gone, head)
    conn = header_of(resp, "Connection") or ""
    assert "x-secret" not in conn.lower(), conn
    assert header_of(resp, "X-Kept") == "yes", head
    assert header_of(resp, "Via") == "1.1 " + socket.gethostname(), head
    assert header_of(resp, "Content-Length") == "3", head
    assert body == b"hop", body


# --- Expect: 100-continue ---------------------------------------------

@suite.test
def expect_100_continue_2mb_post():
    data = os.urandom(2 << 20)
    path = write_tmp("post2m.bin", data)
    start = time.monotonic()
    r = curl_ok("-H", "Expect: 100-continue", "--data-binary", "@" + path,
                origin.url("/echo?t=exp1"), timeout=20)
    took = time.monotonic() - start
    assert took < 5, "Expect: 100-continue POST took %.1f s" % took
    e = seen_one(origin, "t=exp1")
    assert e["body_len"] == len(data), e["body_len"]
    assert e["body_sha256"] == hashlib.sha256(data).hexdigest()
    assert split_head(r.stdout)[1] == data, "echoed body differs"


def post_to_continue(size, query):
    """curl -i POSTs size random bytes with Expect: 100-continue to
    /continue?query, told to wait 15 s for the 100: finishing within 5 s
    means the interim responses reached it. Returns curl's output, after
    checking that the origin got the body whole."""
    data = os.urandom(size)
    path = write_tmp("postcont.bin", data)
    start = time.monotonic()
    r = curl_ok("-H", "Expect: 100-continue", "--expect100-timeout", "15",
                "-i", "--data-binary", "@" + path,
                origin.url("/continue?" + query), timeout=25)
    took = time.monotonic() - start
    assert took < 5, "100-continue handshake took %.1f s" % took
    e = seen_one(origin, query.split("&")[0])
    assert e["body_sha256"] == hashlib.sha256(data).hexdigest(), e
    return r, data


@suite.test
def origin_100_continue_relayed():
    # /continue answers "100 Continue" before reading the body.
    r, data = post_to_continue(256 << 10, "t=exp2")
    # curl -i prints the 100 head, then the final one.
    assert r.stdout.startswith(b"HTTP/1.1 100"), r.stdout[:100]
    final = r.stdout.split(b"\r\n\r\n", 1)[1]
    assert status_of(final) == 200, final[:200]
    assert split_head(final)[1].endswith(data), "echoed body differs"


@suite.test
def early_hints_before_100_continue_are_both_relayed():
    # An origin may send 103 Early Hints before its 100 Continue: ferry
    # relays the 103 and waits on for the 100 (it used to go on to the
    # body after the first 1xx, while curl waited 15 s for its 100).
    r, _ = post_to_continue(64 << 10, "t=exp3&hints=1")
    heads = r.stdout.split(b"\r\n\r\n")
    assert heads[0].startswith(b"HTTP/1.1 103"), r.stdout[:200]
    assert b"Link: </a.css>; rel=preload" in heads[0], heads[0]
    assert heads[1].startswith(b"HTTP/1.1 100"), r.stdout[:300]
    assert status_of(heads[2] + b"\r\n\r\n") == 200, r.stdout[:400]


# --- HTTP/1.0 client --------------------------------------------------

@suite.test
def http10_client_gets_dechunked_body():
    size = 150000
    expect = served_directly(origin, "/chunked?size=%d&t=h9" % size)
    resp = proxy_request(ferry, "GET %s HTTP/1.0" %
                         origin.url("/chunked?size=%d&t=h10" % size),
                         timeout=10)
    assert status_of(resp) == 200, resp[:200]
    head, body = split_head(resp)
    assert header_of(resp, "Transfer-Encoding") is None, head
    cl = header_of(resp, "Content-Length")
    assert cl is None or cl == str(len(expect)), head
    assert body == expect, "HTTP/1.0 body is not the plain payload"


# A gzip-coded payload; mtime=0 keeps its bytes the same on every call.
GZ = gzip.compress(b"the payload\n" * 50, mtime=0)


def coded_origin(conn, stop):
    """A Script origin answering with transfer codings besides chunked:
    /gzip-chunked: "Transfer-Encoding: gzip, chunked", /gzip: "gzip"
    alone, the body ending at the close; any other path: chunked alone.
    The coded body is GZ."""
    head = read_request_head(conn)
    path = head.split(b" ")[1].split(b"?")[0]
    data = GZ
    if head.startswith(b"HEAD "):
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, "
                     b"chunked\r\nX-Path: head\r\n\r\n")
    elif path.endswith(b"/gzip-chunked"):
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked"
                     b"\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
    elif path.endswith(b"/gzip"):
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
                     b"Connection: close\r\n\r\n" + data)
    else:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                     b"\r\n5\r\nplain\r\n0\r\n\r\n")


@suite.test
def http10_client_never_gets_a_transfer_coding():
    # RFC 9112 6.1: no Transfer-Encoding to an HTTP/1.0 recipient. ferry
    # decodes chunked for it, but a gzip transfer coding would have to
    # be decoded, or passed on under another name (Content-Encoding,
    # which means something else): ferry answers 502 instead. An
    # HTTP/1.1 client gets the same responses relayed as they are.
    gz = GZ
    with Script(coded_origin) as s:
        base = "http://127.0.0.1:%d" % s.port
        for path in ("/gzip-chunked", "/gzip"):
            r = proxy_request(ferry, "GET %s%s HTTP/1.0" % (base, path))
            assert status_of(r) == 502, (path, r[:300])
            assert header_of(r, "Transfer-Encoding") is None, r
            assert b"transfer coding" in body_of(r), r
            assert b"\x1f\x8b" not in r, "gzip bytes reached the client"
        r = proxy_request(ferry, "GET %s/gzip-chunked HTTP/1.1" % base,
                          ["Host: 127.0.0.1:%d" % s.port])
        assert status_of(r) == 200, r[:300]
        assert header_of(r, "Transfer-Encoding") == "gzip, chunked", r
        assert dechunk(body_of(r))[0] == gz, r[:300]
        r = proxy_request(ferry, "GET %s/gzip HTTP/1.1" % base,
                          ["Host: 127.0.0.1:%d" % s.port])
        assert status_of(r) == 200, r[:300]
        assert header_of(r, "Transfer-Encoding") == "gzip", r
        assert body_of(r) == gz, r[:300]
        # Chunked alone is decoded; a HEAD answer just loses the field.
        r = proxy_request(ferry, "GET %s/plain HTTP/1.0" % base)
        assert status_of(r) == 200 and body_of(r) == b"plain", r
        assert header_of(r, "Transfer-Encoding") is None, r
        r = proxy_request(ferry, "HEAD %s/x HTTP/1.0" % base)
        assert status_of(r) == 200 and header_of(r, "X-Path") == "head", r
        assert header_of(r, "Transfer-Encoding") is None, r
        assert body_of(r) == b"", r


# --- urllib -----------------------------------------------------------

def urllib_opener(f):
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": f.proxy}))


@suite.test
def urllib_get():
    with urllib_opener(ferry).open(origin.url("/hello?t=ul1"),
                                   timeout=10) as resp:
        assert resp.status == 200, resp.status
        assert resp.read() == b"hello\n"
    assert seen_one(origin, "t=ul1")["target"] == "/hello?t=ul1"


@suite.test
def urllib_post():
    data = os.urandom(100000)
    req = urllib.request.Request(origin.url("/echo?t=ul2"), data=data,
                                 headers={"Content-Type":
                                          "application/octet-stream"})
    with urllib_opener(ferry).open(req, timeout=10) as resp:
        assert resp.status == 200, resp.status
        echoed = resp.read()
    assert split_head(echoed)[1] == data, "echoed body differs"
    e = seen_one(origin, "t=ul2")
    assert e["method"] == "POST", e
    assert e["body_sha256"] == hashlib.sha256(data).hexdigest()


# --- IPv6 -------------------------------------------------------------

@suite.test
def ipv6_listener_and_origin():
    with Origin(host="::1") as o6, Ferry(host="::1") as f6:
        assert f6.proxy.startswith("http://[::1]:"), f6.proxy
        r = curl(o6.url("/hello?t=v6"), proxy=f6.proxy)
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"hello\n", r.stdout
        e = seen_one(o6, "t=v6")
        assert e["client"] == "::1", e
        assert fields_named(e, "Host") == [o6.authority], e["fields"]
        lines = access_lines(f6, o6.authority)
        assert len(lines) == 1 and "::1 GET [::1]:%d 200" % o6.port \
            in lines[0], lines


# --- methods ----------------------------------------------------------

@suite.test
def every_method_forwarded():
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "PURGE", "GET"):
        token = "t=m" + method
        args = ["-X", method]
        if method in ("PUT", "PATCH"):
            args += ["--data-binary", "body-of-" + method]
        r = curl_ok(*args, origin.url("/echo?" + token))
        e = seen_one(origin, token)
        assert e["method"] == method, (method, e)
        assert r.stdout.startswith(("%s /echo?%s HTTP/1.1\r\n" %
                                    (method, token)).encode()), r.stdout
        if method in ("PUT", "PATCH"):
            assert r.stdout.endswith(b"\r\n\r\nbody-of-" +
                                     method.encode()), r.stdout


# --- Max-Forwards on TRACE and OPTIONS (RFC 9110 7.6.2) ---------------

@suite.test
def options_and_trace_at_max_forwards_zero_are_answered_by_ferry():
    # At Max-Forwards 0 ferry is the final recipient: it answers OPTIONS
    # with Allow and TRACE with the request it received (less its
    # credentials), dated, logged like any response, on a connection that
    # goes on: a GET after them still reaches the origin.
    access = os.path.join(TMP, "mf-access.log")
    with Ferry({"log": {"access": access}}) as f:
        url = origin.url("/echo?t=mf0")
        with socket.create_connection(("127.0.0.1", f.port), 5) as s:
            s.sendall(("OPTIONS %s HTTP/1.1\r\nHost: %s\r\n"
                       "Max-Forwards: 0\r\n\r\n" % (url, origin.authority)
                       ).encode())
            r = read_response(s)
            assert status_of(r) == 200, r
            assert header_of(r, "Allow").startswith("GET, HEAD, POST"), r
            assert "TRACE" in header_of(r, "Allow"), r
            assert header_of(r, "Content-Length") == "0", r
            assert header_of(r, "Connection") is None, r
            assert fresh_date(r), r
            trace = ("TRACE %s HTTP/1.1\r\nHost: %s\r\nMax-Forwards: 0\r\n"
                     "Cookie: sid=SECRET1\r\nAuthorization: Basic SECRET2\r\n"
                     "Proxy-Authorization: Basic SECRET3\r\n"
                     "X-Api-Key: SECRET4\r\nX-Trace-Me: yes\r\n\r\n"
                     % (url, origin.authority)).encode()
            s.sendall(trace)
            r = read_response(s)
            assert status_of(r) == 200, r
            assert header_of(r, "Content-Type") == "message/http", r
            assert fresh_date(r), r
            echoed = body_of(r)
            assert b"SECRET" not in r, r
            assert echoed == trace.replace(
                b"Cookie: sid=SECRET1\r\nAuthorization: Basic SECRET2\r\n"
                b"Proxy-Authorization: Basic SECRET3\r\n"
                b"X-Api-Key: SECRET4\r\n", b""), echoed
            s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                       % (origin.url("/hello?t=mf0g"), origin.authority)
                       ).encode())
            r = read_response(s)
            assert status_of(r) == 200 and body_of(r) == b"hello\n", r
        assert seen(origin, "t=mf0") == seen(origin, "t=mf0g"), \
            "OPTIONS or TRACE reached the origin"
        seen_one(origin, "t=mf0g")
        assert wait_for(lambda: read_text(access).count("\n") >= 3), \
            read_text(access)
        lines = read_text(access).splitlines()
    assert '"OPTIONS %s HTTP/1.1" 200 ' % url in lines[0], lines
    assert '"TRACE %s HTTP/1.1" 200 ' % url in lines[1], lines
    assert " 200 " in lines[2] and "t=mf0g" in lines[2], lines
    # curl, as a user would run it.
    r = curl_ok("-i", "-X", "OPTIONS", "-H", "Max-Forwards: 0",
                origin.url("/hello?t=mf0c"))
    assert status_of(r.stdout) == 200 and header_of(r.stdout, "Allow"), \
        r.stdout
    r = curl_ok("-X", "TRACE", "-H", "Max-Forwards: 0", "-H",
                "Cookie: a=SECRET5", origin.url("/hello?t=mf0c"))
    assert r.stdout.startswith(b"TRACE %s HTTP/1.1\r\n" %
                               origin.url("/hello?t=mf0c").encode()), \
        r.stdout
    assert b"SECRET5" not in r.stdout and b"Max-Forwards: 0" in r.stdout, \
        r.stdout
    assert seen(origin, "t=mf0c") == [], "answered at 0 yet forwarded"


@suite.test
def max_forwards_counts_down_on_trace_and_options_only():
    for method, value, forwarded in (("TRACE", "5", ["4"]),
                                     ("OPTIONS", "1", ["0"]),
                                     ("OPTIONS", "3, 3", ["2"]),
                                     ("GET", "0", ["0"]),
                                     ("DELETE", "x", ["x"])):
        token = "t=mfd%s%s" % (method, value.replace(", ", "_"))
        curl_ok("-X", method, "-H", "Max-Forwards: " + value,
                origin.url("/echo?" + token))
        e = seen_one(origin, token)
        assert e["method"] == method, e
        assert fields_named(e, "Max-Forwards") == forwarded, \
            (method, value, e["fields"])


@suite.test
def malformed_max_forwards_on_trace_or_options_is_400():
    for method, fields in (("TRACE", ["Max-Forwards: abc"]),
                           ("TRACE", ["Max-Forwards: -1"]),
                           ("OPTIONS", ["Max-Forwards: 1, 2"]),
                           ("OPTIONS", ["Max-Forwards: 0",
                                        "Max-Forwards: 1"]),
                           ("TRACE", ["Max-Forwards: 99999999999999999999"])):
        token = "t=mfbad%d" % len(fields[0])
        r = proxy_request(ferry, "%s %s HTTP/1.1" % (
            method, origin.url("/echo?" + token)),
            ["Host: %s" % origin.authority] + fields)
        assert status_of(r) == 400, (method, fields, r[:300])
        assert b"Max-Forwards" in body_of(r), r
        assert fresh_date(r), r
        assert seen(origin, token) == [], (method, fields)


@suite.test
def max_forwards_zero_answer_persists_only_as_asked():
    # HTTP/1.0 keeps its connection only with keep-alive (and is told so);
    # a body ferry does not read (chunked, or not all there) ends it.
    url = origin.url("/hello?t=mfp")
    head = "OPTIONS %s HTTP/1.0\r\nMax-Forwards: 0\r\n" % url
    r = raw(ferry.port, (head + "\r\n").encode(), timeout=5)
    assert status_of(r) == 200, r
    assert (header_of(r, "Connection") or "").lower() == "close", r
    with socket.create_connection(("127.0.0.1", ferry.port), 5) as s:
        s.sendall((head + "Connection: keep-alive\r\n"
                   "Content-Length: 3\r\n\r\nabc").encode())
        r = read_response(s)
        assert header_of(r, "Connection") == "keep-alive", r
        s.sendall(b"GET %s HTTP/1.0\r\n\r\n" % url.encode())
        r = read_response(s)
        assert status_of(r) == 200 and body_of(r) == b"hello\n", r
    t0 = time.monotonic()
    r = raw(ferry.port, ("TRACE %s HTTP/1.1\r\nHost: %s\r\n"
                         "Max-Forwards: 0\r\nTransfer-Encoding: chunked\r\n"
                         "\r\n3\r\nabc\r\n0\r\n\r\n"
                         % (url, origin.authority)).encode(), timeout=5)
    assert time.monotonic() - t0 < 3, "ferry did not close"
    assert status_of(r) == 200, r
    assert (header_of(r, "Connection") or "").lower() == "close", r
    assert r.count(b"HTTP/1.1 200") == 1, r
    assert len(seen(origin, "t=mfp")) == 1, seen(origin, "t=mfp")


# --- error page -------------------------------------------------------

@suite.test
def refused_port_gets_502_page():
    port = free_port()  # nothing listens there once the probe closed
    resp = proxy_request(ferry, "GET http://127.0.0.1:%d/x HTTP/1.1" % port,
                         ["Host: 127.0.0.1:%d" % port], timeout=10)
    assert status_of(resp) == 502, resp
    body = body_of(resp)
    assert len(body) > 0, resp
    assert header_of(resp, "Content-Length") == str(len(body)), resp
    ctype = header_of(resp, "Content-Type") or ""
    assert ctype.split(";")[0].strip().lower() == "text/html", ctype
    assert (header_of(resp, "Connection") or "").lower() == "close", resp


# --- access log -------------------------------------------------------

@suite.test
def access_log_line_per_request():
    with Origin() as o, Ferry({"log": {"level": "info"}}) as f:
        r = curl(o.url("/hello?t=log1"), proxy=f.proxy)
        assert r.returncode == 0, r.stderr
        lines = access_lines(f, o.authority)
    assert len(lines) == 1, lines
    m = re.search(r"127\.0\.0\.1 GET %s 200 in=(\d+) out=(\d+) (\d+)ms" %
                  re.escape(o.authority), lines[0])
    assert m, lines[0]
    # in: the request head curl sent; out: the answer, head and body.
    assert int(m.group(1)) > 40, lines[0]
    assert int(m.group(2)) > len(b"hello\n") + 17, lines[0]


# --- pool and thread modes --------------------------------------------

def get_and_post(mode):
    with Ferry({"pool": {"mode": mode, "workers": 2}}) as f:
        r = curl(origin.url("/hello?t=%s1" % mode), proxy=f.proxy)
        assert r.returncode == 0 and r.stdout == b"hello\n", (r.stdout,
                                                               r.stderr)
        data = os.urandom(70000)
        path = write_tmp("post-%s.bin" % mode, data)
        r = curl("--data-binary", "@" + path,
                 origin.url("/echo?t=%s2" % mode), proxy=f.proxy)
        assert r.returncode == 0, r.stderr
        assert split_head(r.stdout)[1] == data, "echoed body differs"
        e = seen_one(origin, "t=%s2" % mode)
        assert e["body_sha256"] == hashlib.sha256(data).hexdigest()
        assert "(%s mode" % mode in f.log(), f.log()


@suite.test
def pool_mode_get_and_post():
    get_and_post("pool")


@suite.test
def thread_mode_get_and_post():
    get_and_post("thread")


def main():
    global origin, ferry
    try:
        with Origin() as o, Ferry() as f:
            origin, ferry = o, f
            return suite.run()
    finally:
        for path in set(written):
            if os.path.exists(path):
                os.unlink(path)


sys.exit(main())
