#!/usr/bin/env python3
"""e2e_strict: hostile and malformed requests against the real ferry.

Issue 4 section 5 says what ferry refuses and with which status. The unit
suites check the parser alone; this script sends the same kinds of bytes
through the running binary, over a real socket, and checks what a client
and the origin see:

  - the exact status, in a small HTML page whose Content-Length matches
    its body, with "Connection: close", after which ferry closes;
  - nothing reached the origin: the target is a Script server that counts
    the connections it accepts, and that count must stay 0;
  - ferry keeps serving everyone else (a valid request afterwards works).

Then the slow paths (header_timeout bounds the whole head, not each recv)
and the response side (a malformed answer from the origin is a 502, never
garbage passed on to the client).
"""
import socket
import sys
import time

from ferrytest import (Ferry, Script, Suite, body_of, curl, fresh_date,
                       header_of, raw, read_request_head, status_of,
                       tls_client_hello, wait_for)

suite = Suite("strict")

T = "127.0.0.1:{port}"  # the target authority; {port} is the Script's port


def hello(conn, stop):
    """The well-behaved origin: answer any request with "hello\\n"."""
    read_request_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n"
                 b"Connection: close\r\n\r\nhello\n")


def get(port, extra=b""):
    """A valid absolute-form GET to 127.0.0.1:port with extra fields."""
    return (b"GET http://127.0.0.1:%d/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            % (port, port)) + extra + b"\r\n"


def post(port, fields, body=b"", version=b"1.1"):
    """An absolute-form POST to 127.0.0.1:port with the given fields."""
    return (b"POST http://127.0.0.1:%d/ HTTP/%s\r\nHost: 127.0.0.1:%d\r\n"
            % (port, version, port)) + fields + b"\r\n" + body


def te(fields, version=b"1.1"):
    """A builder: a POST with these framing fields and an empty chunked
    body (what a smuggler would send)."""
    return lambda p: post(p, fields, b"0\r\n\r\n", version)


def line(port, request_line, fields=b"Host: {T}\r\n"):
    """Any request line, {T} standing for the target authority."""
    t = T.format(port=port).encode()
    return (request_line.replace(b"{T}", t) + b"\r\n" +
            fields.replace(b"{T}", t) + b"\r\n")


# (name, status, builder(port) -> request bytes)
CASES = [
    # --- framing: request smuggling (RFC 9112 6.1, 6.3) ---
    ("CL and TE", 400, te(
        b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")),
    ("TE and CL", 400, te(
        b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n")),
    ("two differing CL", 400, lambda p: post(
        p, b"Content-Length: 5\r\nContent-Length: 6\r\n", b"hello!")),
    ("CL list 5, 6", 400, lambda p: post(
        p, b"Content-Length: 5, 6\r\n", b"hello!")),
    ("CL +5", 400, lambda p: post(p, b"Content-Length: +5\r\n", b"hello")),
    ("CL -1", 400, lambda p: post(p, b"Content-Length: -1\r\n")),
    ("CL 0x5", 400, lambda p: post(p, b"Content-Length: 0x5\r\n",
                                   b"hello")),
    ("CL empty", 400, lambda p: post(p, b"Content-Length:\r\n")),
    ("CL 5 5", 400, lambda p: post(p, b"Content-Length: 5 5\r\n",
                                   b"hello")),
    ("CL overflow", 400, lambda p: post(
        p, b"Content-Length: 18446744073709551616\r\n")),
    ("CL space before colon", 400, lambda p: post(
        p, b"Content-Length : 5\r\n", b"hello")),
    ("TE gzip", 400, lambda p: post(p, b"Transfer-Encoding: gzip\r\n")),
    ("TE chunked, gzip", 400, te(b"Transfer-Encoding: chunked, gzip\r\n")),
    ("TE chunked twice", 400, te(b"Transfer-Encoding: chunked, chunked\r\n")),
    ("TE on two lines", 400, te(
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")),
    ("TE quoted", 400, te(b"Transfer-Encoding: \"chunked\"\r\n")),
    ("TE gzip then chunked", 400, te(
        b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n")),
    ("TE and an empty TE line", 400, te(
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n")),
    ("TE comma in a quoted parameter", 400, te(
        b"Transfer-Encoding: gzip;p=\",chunked;\"\r\n")),
    ("TE chunked with a parameter", 400, te(
        b"Transfer-Encoding: chunked;x=1\r\n")),
    ("TE vertical tab", 400, te(b"Transfer-Encoding: \x0bchunked\r\n")),
    ("TE space before colon", 400, te(b"Transfer-Encoding : chunked\r\n")),
    ("TE obs-fold", 400, te(b"Transfer-Encoding:\r\n chunked\r\n")),
    ("TE xchunked", 501, te(b"Transfer-Encoding: xchunked\r\n")),
    ("TE identity", 501, te(b"Transfer-Encoding: identity\r\n")),
    ("TE unknown, chunked", 501, te(b"Transfer-Encoding: foo, chunked\r\n")),
    ("TE on HTTP/1.0", 400, te(b"Transfer-Encoding: chunked\r\n", b"1.0")),
    ("bad chunk size in first packet", 400, lambda p: post(
        p, b"Transfer-Encoding: chunked\r\n",
        b"zz\r\nGET http://127.0.0.1/ HTTP/1.1\r\n\r\n")),
    ("overflowing chunk size", 400, lambda p: post(
        p, b"Transfer-Encoding: chunked\r\n",
        b"10000000000000005\r\nhello\r\n0\r\n\r\n")),
    ("chunk data longer than its size", 400, lambda p: post(
        p, b"Transfer-Encoding: chunked\r\n", b"2\r\nhello\r\n0\r\n\r\n")),
    # --- field syntax (RFC 9110 5, RFC 9112 5) ---
    ("obs-fold", 400, lambda p: get(p, b"X-A: a\r\n b\r\n")),
    ("obs-fold tab", 400, lambda p: get(p, b"X-A: a\r\n\tb\r\n")),
    ("bare CR in value", 400, lambda p: get(p, b"X-A: a\rb\r\n")),
    ("bare CR ends line", 400, lambda p: get(p, b"X-A: a\rX-B: b\r\n")),
    ("bare LF line", 400, lambda p: get(p, b"X-A: a\nX-B: b\r\n")),
    ("NUL in value", 400, lambda p: get(p, b"X-A: a\x00b\r\n")),
    ("NUL in name", 400, lambda p: get(p, b"X\x00A: a\r\n")),
    ("control byte in value", 400, lambda p: get(p, b"X-A: \x1b[31m\r\n")),
    ("DEL in value", 400, lambda p: get(p, b"X-A: a\x7f\r\n")),
    ("space before colon", 400, lambda p: get(p, b"X-A : a\r\n")),
    ("tab before colon", 400, lambda p: get(p, b"X-A\t: a\r\n")),
    ("field line starting with space", 400,
     lambda p: line(p, b"GET http://{T}/ HTTP/1.1", b" Host: {T}\r\n")),
    ("non-token name", 400, lambda p: get(p, b"X(A): a\r\n")),
    ("name with slash", 400, lambda p: get(p, b"X/A: a\r\n")),
    ("empty name", 400, lambda p: get(p, b": a\r\n")),
    ("no colon", 400, lambda p: get(p, b"NoColon\r\n")),
    ("UTF-8 name", 400, lambda p: get(p, b"\xc3\xa9t\xc3\xa9: a\r\n")),
    # --- request line (RFC 9112 3) ---
    ("non-token method", 400, lambda p: line(p, b"G(T http://{T}/ HTTP/1.1")),
    ("method with colon", 400, lambda p: line(p, b"G:T http://{T}/ HTTP/1.1")),
    ("leading space", 400, lambda p: line(p, b" GET http://{T}/ HTTP/1.1")),
    ("two spaces", 400, lambda p: line(p, b"GET  http://{T}/ HTTP/1.1")),
    ("tab separator", 400, lambda p: line(p, b"GET\thttp://{T}/ HTTP/1.1")),
    ("trailing space", 400, lambda p: line(p, b"GET http://{T}/ HTTP/1.1 ")),
    ("no version", 400, lambda p: line(p, b"GET http://{T}/")),
    ("lowercase version", 400, lambda p: line(p, b"GET http://{T}/ http/1.1")),
    ("version 1.10", 400, lambda p: line(p, b"GET http://{T}/ HTTP/1.10")),
    ("version HTTP/2", 400, lambda p: line(p, b"GET http://{T}/ HTTP/2")),
    ("version 2.0", 505, lambda p: line(p, b"GET http://{T}/ HTTP/2.0")),
    ("version 0.9", 505, lambda p: line(p, b"GET http://{T}/ HTTP/0.9")),
    ("control byte in target", 400,
     lambda p: line(p, b"GET http://{T}/\x1b HTTP/1.1")),
    ("UTF-8 in target", 400,
     lambda p: line(p, b"GET http://{T}/\xc3\xa9 HTTP/1.1")),
    ("LF-only line ends", 400, lambda p: (
        b"GET http://127.0.0.1:%d/ HTTP/1.1\nHost: x\n\n" % p)),
    # --- Host (RFC 9112 3.2) ---
    ("two Host fields", 400, lambda p: line(
        p, b"GET http://{T}/ HTTP/1.1", b"Host: {T}\r\nHost: {T}\r\n")),
    ("no Host on HTTP/1.1", 400, lambda p: line(
        p, b"GET http://{T}/ HTTP/1.1", b"")),
    # --- the target URI (RFC 9110 4.2, 7.1) ---
    ("userinfo", 400, lambda p: line(p, b"GET http://user:pw@{T}/ HTTP/1.1")),
    ("fragment", 400, lambda p: line(p, b"GET http://{T}/#frag HTTP/1.1")),
    ("port 0", 400, lambda p: line(
        p, b"GET http://127.0.0.1:0/ HTTP/1.1", b"Host: x\r\n")),
    ("port 65536", 400, lambda p: line(
        p, b"GET http://127.0.0.1:65536/ HTTP/1.1", b"Host: x\r\n")),
    ("port wrapping 2^32", 400, lambda p: line(
        p, b"GET http://127.0.0.1:%d/ HTTP/1.1" % (p + 2 ** 32),
        b"Host: x\r\n")),
    ("port 80x", 400, lambda p: line(
        p, b"GET http://127.0.0.1:80x/ HTTP/1.1", b"Host: x\r\n")),
    ("empty host", 400, lambda p: line(p, b"GET http:///x HTTP/1.1")),
    ("https scheme", 400, lambda p: line(p, b"GET https://{T}/ HTTP/1.1")),
    ("ftp scheme", 400, lambda p: line(p, b"GET ftp://{T}/ HTTP/1.1")),
    ("origin-form", 400, lambda p: line(p, b"GET / HTTP/1.1")),
    ("asterisk-form", 400, lambda p: line(p, b"OPTIONS * HTTP/1.1")),
    ("authority-form GET", 400, lambda p: line(p, b"GET {T} HTTP/1.1")),
    ("CONNECT with a body", 400, lambda p: line(
        p, b"CONNECT {T} HTTP/1.1", b"Host: {T}\r\nContent-Length: 5\r\n")),
    # --- limits (defaults: 8192-byte URI, 100 fields, 32768-byte head) ---
    ("URI of 9000 bytes", 414, lambda p: line(
        p, b"GET http://{T}/" + b"a" * 9000 + b" HTTP/1.1")),
    ("101 fields", 431, lambda p: get(
        p, b"".join(b"X-%d: v\r\n" % i for i in range(100)))),
    ("head of 40000 bytes", 431, lambda p: get(
        p, b"X-Big: " + b"b" * 40000 + b"\r\n")),
]


def check_page(r, status, name):
    """r is a whole error answer: that status, an HTML page whose length
    is its Content-Length, Connection: close (ferry closed after it), and
    a Date from the real clock (RFC 9110 6.6.1)."""
    assert status_of(r) == status, (name, r[:200])
    assert fresh_date(r), (name, r[:300])
    body = body_of(r)
    assert header_of(r, "Content-Length") == str(len(body)), (name, r[:300])
    assert (header_of(r, "Connection") or "").lower() == "close", \
        (name, r[:300])
    assert header_of(r, "Content-Type").startswith("text/html"), \
        (name, r[:300])
    assert b"%d" % status in body, (name, body)


@suite.test
def every_hostile_request_gets_its_status_and_nothing_goes_upstream():
    failures = []
    with Script(hello) as s, Ferry() as f:
        for name, status, build in CASES:
            before = s.accepted
            r = raw(f.port, build(s.port))
            try:
                check_page(r, status, name)
                assert s.accepted == before, (name, "was forwarded")
            except AssertionError as e:
                failures.append(repr(e.args[0])[:300])
        assert not failures, "\n".join(failures)
        # A valid request still works, and it is the only connection the
        # target ever saw: none of the above was forwarded.
        r = raw(f.port, get(s.port), shut=True)
        assert status_of(r) == 200 and body_of(r) == b"hello\n", r[:300]
        assert wait_for(lambda: s.accepted == 1), s.accepted
        time.sleep(0.2)
        assert s.accepted == 1, s.accepted
        assert f.alive()


@suite.test
def whole_request_in_one_write_and_byte_by_byte_agree():
    # The head may arrive in any slicing; the verdict must not change.
    picks = [c for c in CASES if c[0] in (
        "CL and TE", "TE xchunked", "TE on HTTP/1.0", "obs-fold",
        "bare CR in value", "two Host fields", "userinfo", "version 2.0")]
    with Script(hello) as s, Ferry() as f:
        for name, status, build in picks:
            out = raw(f.port, build(s.port), piece=1)
            check_page(out, status, name + " (bytewise)")
        assert s.accepted == 0, s.accepted


@suite.test
def smuggled_second_request_is_never_forwarded():
    # CL.TE: a proxy that believed Content-Length would forward the
    # "GET /admin" as part of the body; one that believed chunked would
    # send it as a second request. ferry refuses the message whole.
    smuggle = (b"0\r\n\r\nGET http://127.0.0.1/admin HTTP/1.1\r\n"
               b"Host: x\r\n\r\n")
    with Script(hello) as s, Ferry() as f:
        r = raw(f.port, post(
            s.port, b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n"
            % len(smuggle), smuggle))
        assert status_of(r) == 400, r[:200]
        assert r.count(b"HTTP/1.1") == 1, r
        assert s.accepted == 0


@suite.test
def http10_request_with_transfer_encoding_is_400_then_closed():
    # RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message is faulty
    # framing, even with a Content-Length beside it. The client asked to
    # keep the connection and sent a request behind the body; ferry must
    # answer 400 once, close at once, and never read the rest as a request.
    behind = b"GET http://127.0.0.1:1/ HTTP/1.0\r\n\r\n"
    with Script(hello) as s, Ferry() as f:
        for fields in (b"Transfer-Encoding: chunked\r\n",
                       b"Transfer-Encoding: chunked\r\nContent-Length: 5"
                       b"\r\n"):
            data = post(s.port, b"Connection: keep-alive\r\n" + fields,
                        b"5\r\nhello\r\n0\r\n\r\n" + behind, b"1.0")
            t0 = time.monotonic()
            r = raw(f.port, data, timeout=8)
            assert time.monotonic() - t0 < 3, "ferry did not close"
            check_page(r, 400, "HTTP/1.0 with TE")
            assert b"Content-Length" in fields or \
                b"HTTP/1.0 has no transfer codings" in body_of(r), r
            assert r.count(b"HTTP/1.1 ") == 1, r
        assert s.accepted == 0, s.accepted


@suite.test
def limits_follow_the_config():
    with Script(hello) as s, Ferry({"limits": {
            "max_uri_bytes": 100, "max_headers": 5,
            "max_header_bytes": 2048}}) as f:
        uri = b"GET http://{T}/" + b"a" * 120 + b" HTTP/1.1"
        check_page(raw(f.port, line(s.port, uri)), 414, "uri > 100")
        fields = b"".join(b"X-%d: v\r\n" % i for i in range(5))
        check_page(raw(f.port, get(s.port, fields)), 431, "6 fields")
        check_page(raw(f.port, get(s.port, b"X: " + b"v" * 2100 + b"\r\n")),
                   431, "head > 2048")
        assert s.accepted == 0
        # Just under each limit is fine.
        ok = get(s.port, b"".join(b"X-%d: v\r\n" % i for i in range(4)))
        r = raw(f.port, ok, shut=True)
        assert status_of(r) == 200, r[:200]


@suite.test
def huge_inputs_are_refused_quickly():
    # 10,000 tiny fields, a 128 KB field line, a 100 KB URI: each refused
    # with its status as soon as a limit is crossed, not after reading on.
    with Script(hello) as s, Ferry() as f:
        many = get(s.port, b"X: v\r\n" * 10000)
        long_line = get(s.port, b"X: " + b"v" * 131072 + b"\r\n")
        long_uri = line(s.port, b"GET http://{T}/" + b"u" * 102400 +
                        b" HTTP/1.1")
        for data, status in ((many, 431), (long_line, 431),
                             (long_uri, 414)):
            t0 = time.monotonic()
            check_page(raw(f.port, data), status, "huge")
            assert time.monotonic() - t0 < 2, time.monotonic() - t0
        assert s.accepted == 0


# --- slow clients ---

@suite.test
def partial_head_gets_408_after_header_timeout():
    with Ferry({"client": {"header_timeout": 1}}) as f:
        t0 = time.monotonic()
        r = raw(f.port, b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: x\r\n")
        took = time.monotonic() - t0
        check_page(r, 408, "partial head")
        assert 0.8 < took < 2.5, took


@suite.test
def dribbling_client_is_cut_off_on_time():
    # One byte every 200 ms keeps each recv() short of any timeout; the
    # deadline bounds the whole head, so ferry answers 408 after ~1 s.
    with Ferry({"client": {"header_timeout": 1}}) as f:
        data = b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: x\r\nX: y\r\n\r\n"
        t0 = time.monotonic()
        out = raw(f.port, data, piece=1, delay=0.2)
        took = time.monotonic() - t0
        check_page(out, 408, "dribble")
        assert took < 3.5, took


@suite.test
def silent_client_is_closed_without_a_word():
    with Ferry({"client": {"header_timeout": 1}}) as f:
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", f.port), 5) as c:
            assert c.recv(100) == b""
        assert time.monotonic() - t0 < 2.5
        # The worker it held is free again.
        r = raw(f.port, b"GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status_of(r) == 502, r[:200]


@suite.test
def impossible_first_bytes_get_400_at_once_not_at_header_timeout():
    # None of these can start a request, and none ends a line: a TLS
    # hello sent to the plain port, binary garbage, a byte no method
    # holds. Waiting for a line end would hold the worker until
    # header_timeout (10 s here) and then answer 408; ferry answers 400
    # at the first impossible byte. The client does not half-close: the
    # answer is all that ends the connection.
    hello = tls_client_hello()
    assert hello[:1] == b"\x16" and b"\n" not in hello, hello[:16]
    cases = [("TLS hello", hello, b"TLS"),
             ("TLS hello, byte by byte", hello[:6], b"TLS"),
             ("binary", bytes(range(0, 10)), b"NUL"),
             ("JSON", b'{"method": "GET"}', b"method"),
             ("high bytes", b"\xc3\xa9t\xc3\xa9", b"method"),
             ("method then a control byte", b"GET\x1b[31m", b"control")]
    with Ferry({"client": {"header_timeout": 10}}) as f:
        for name, data, why in cases:
            t0 = time.monotonic()
            r = raw(f.port, data, timeout=15, piece=1 if "byte" in name
                    else None, delay=0.05)
            took = time.monotonic() - t0
            check_page(r, 400, name)
            assert why in body_of(r), (name, r)
            assert took < 2, (name, took)
        # What a real client sees: curl told to speak TLS to the proxy
        # fails at once instead of hanging until the header timeout.
        t0 = time.monotonic()
        c = curl("--proxy-insecure", "http://127.0.0.1:1/",
                 proxy="https://127.0.0.1:%d" % f.port, timeout=15)
        assert c.returncode != 0, c
        assert time.monotonic() - t0 < 3, c.stderr
        assert " 400 " in f.log(), f.log()[-2000:]
        assert f.alive()


# --- the response side ---

def answering(data, then_wait=False):
    """A Script handler that reads the request and sends data."""
    def handler(conn, stop):
        read_request_head(conn)
        conn.sendall(data)
        if then_wait:
            stop.wait(10)
    return handler


BAD_RESPONSES = [
    ("garbage status line", b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n"),
    ("four-digit status", b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n"),
    ("not HTTP", b"ICY 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ("HTTP/0.9 body", b"<html>hello</html>\n"),
    ("differing CL", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
     b"Content-Length: 6\r\n\r\nhello!"),
    ("bad CL", b"HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello"),
    ("TE on two lines", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("TE comma in a quoted parameter", b"HTTP/1.1 200 OK\r\n"
     b"Transfer-Encoding: gzip;p=\",chunked;\"\r\n\r\n0\r\n\r\n"),
    ("TE in HTTP/1.0", b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("obs-fold", b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0"
     b"\r\n\r\n"),
    ("NUL in field", b"HTTP/1.1 200 OK\r\nX: a\x00b\r\nContent-Length: 0"
     b"\r\n\r\n"),
    ("unsolicited 101", b"HTTP/1.1 101 Switching Protocols\r\n"
     b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\nRAW TUNNEL BYTES"),
    ("huge head", b"HTTP/1.1 200 OK\r\nX: " + b"h" * 70000 + b"\r\n\r\n"),
]


@suite.test
def malformed_responses_are_502_never_relayed():
    failures = []
    for name, data in BAD_RESPONSES:
        with Script(answering(data)) as s, Ferry() as f:
            r = raw(f.port, get(s.port))
            try:
                check_page(r, 502, name)
                assert b"RAW TUNNEL" not in r, r
            except AssertionError as e:
                failures.append(repr(e.args[0])[:300])
    assert not failures, "\n".join(failures)


@suite.test
def repeated_response_length_goes_on_as_one_plain_number():
    # "5, 5" or the same length twice may not be forwarded (RFC 9110
    # §8.6): the client gets one "Content-Length: 5" and the body whole.
    # And chunked after an unknown coding frames the body (RFC 9112 §6.3
    # rule 4): the last chunk ends it, not the origin's close.
    cases = [b"Content-Length: 5, 5\r\n",
             b"Content-Length: 5\r\nX: y\r\ncontent-length: 5\r\n"]
    for fields in cases:
        data = b"HTTP/1.1 200 OK\r\n" + fields + b"\r\nhello"
        with Script(answering(data)) as s, Ferry() as f:
            r = raw(f.port, get(s.port, b"Connection: close\r\n"))
        head = r.split(b"\r\n\r\n", 1)[0]
        assert status_of(r) == 200 and body_of(r) == b"hello", r[:300]
        lengths = [ln for ln in head.split(b"\r\n")
                   if ln.lower().startswith(b"content-length:")]
        assert lengths == [b"Content-Length: 5"], head

    def chunked_after_unknown(conn, stop):
        read_request_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: x-foo, "
                     b"chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        stop.wait(10)   # keeps the connection open: the chunks end it

    with Script(chunked_after_unknown) as s, Ferry() as f:
        t0 = time.monotonic()
        r = raw(f.port, get(s.port, b"Connection: close\r\n"))
        assert time.monotonic() - t0 < 3, "read until close, not chunked"
        assert status_of(r) == 200, r[:300]
        assert r.endswith(b"5\r\nhello\r\n0\r\n\r\n"), r[-100:]


@suite.test
def bad_chunk_after_the_head_cuts_the_response_short():
    # The head and a good chunk were already relayed when the bad size
    # arrives; it must not be: ferry closes, and the client sees a body
    # that never ended (no last chunk), not the garbage.
    def handler(conn, stop):
        read_request_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                     b"\r\n5\r\nhello\r\n")
        time.sleep(0.3)
        conn.sendall(b"zz\r\nGARBAGE\r\n0\r\n\r\n")
        stop.wait(10)

    with Script(handler) as s, Ferry() as f:
        t0 = time.monotonic()
        r = raw(f.port, get(s.port))
        assert time.monotonic() - t0 < 3, "ferry did not close"
        assert status_of(r) == 200, r[:200]
        assert body_of(r) == b"5\r\nhello\r\n", r


@suite.test
def interim_responses_then_the_final_one_are_relayed():
    data = (b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes")
    with Script(answering(data)) as s, Ferry() as f:
        r = raw(f.port, get(s.port), shut=True)
        assert r.startswith(b"HTTP/1.1 100 Continue\r\n"), r[:200]
        assert b"HTTP/1.1 103 Early Hints\r\n" in r, r
        assert b"\r\n\r\nyes" in r and r.endswith(b"yes"), r


if __name__ == "__main__":
    sys.exit(suite.run())
