#!/usr/bin/env python3
"""seeds.py: write the fuzzers' seed corpora from the unit-test vectors.

Reads the C string literals of tests/check_*.c (adjacent literals joined,
as the compiler joins them), sorts each into the corpus of the harness
whose input it looks like, adds the harness's control byte where it takes
one (see each fuzz_*.c), and writes one file per seed, named by its SHA-1,
into tests/fuzz/corpus/<harness>/. The shipped etc/ferry.ini seeds the
config loader too. Run it again after adding unit-test vectors; the
corpora are checked in so that `make fuzz` starts from them.
"""
import hashlib
import os
import re
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
TOP = os.path.dirname(TESTS)
LIMIT = 400             # seeds per harness at most

LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
# Literals separated only by blanks, newlines or comments are one string.
GLUE = re.compile(r'^(?:\s|/\*.*?\*/)*$', re.S)


def unescape(s):
    """The bytes of a C string literal's body."""
    out = bytearray()
    i = 0
    simple = {"n": 10, "r": 13, "t": 9, "v": 11, "f": 12, "a": 7, "b": 8,
              "\\": 92, '"': 34, "'": 39, "?": 63, "e": 27}
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        n = s[i + 1]
        if n == "x":
            m = re.match(r"[0-9a-fA-F]+", s[i + 2:])
            out.append(int(m.group(0), 16) & 0xFF)
            i += 2 + len(m.group(0))
        elif n in "01234567":
            m = re.match(r"[0-7]{1,3}", s[i + 1:])
            out.append(int(m.group(0), 8) & 0xFF)
            i += 1 + len(m.group(0))
        else:
            out.append(simple.get(n, ord(n)))
            i += 2
    return bytes(out)


def strings(path):
    """Every string in path, adjacent literals joined."""
    text = open(path, encoding="utf-8", errors="replace").read()
    found, cur, last_end = [], None, None
    for m in LITERAL.finditer(text):
        if cur is not None and GLUE.match(text[last_end:m.start()]):
            cur += unescape(m.group(1))
        else:
            if cur is not None:
                found.append(cur)
            cur = unescape(m.group(1))
        last_end = m.end()
    if cur is not None:
        found.append(cur)
    return found


def classify(name, s):
    """(harness, seed) pairs for string s found in check_<name>.c."""
    out = []
    if re.match(rb"^[A-Za-z]+ \S+ HTTP/", s):
        out.append(("fuzz_request", s))
    if s.startswith(b"HTTP/"):
        for ctl in (0, 1, 2):
            out.append(("fuzz_response", bytes([ctl]) + s))
    if name == "chunked" and re.match(rb"^[0-9a-fA-F]", s) and b"\r\n" in s:
        out.append(("fuzz_chunked", b"\x07" + s))
    if re.match(rb"^(?i:http)://", s):
        out.append(("fuzz_uri", b"\x00" + s))
    if name == "uri" and b"://" not in s and b"\n" not in s and b"%" not in s:
        out.append(("fuzz_uri", b"\x01" + s))
        out.append(("fuzz_uri", b"\x02" + s))
    if name == "acl" and b"\n" not in s and b"%" not in s:
        out.append(("fuzz_acl", s))
    if name == "dest" and b"\n" not in s and b"%" not in s:
        out.append(("fuzz_dest", s))
    if name == "config" and b"=" in s and b"\n" in s:
        out.append(("fuzz_config", s))
    if name == "cred" and (s == b"" or s[:1].isalpha()):
        out.append(("fuzz_cred", s))
    if name == "socks5" and s[:1] in (b"\x01", b"\x04", b"\x05"):
        out.append(("fuzz_socks5", s))
    if name == "proxyproto" and s[:1] in (b"P", b"p", b"G"):
        out.append(("fuzz_proxyproto", s))
    if name == "errpage" and b"%" not in s and len(s) > 3:
        out.append(("fuzz_errpage", b"\x90\x01\x00\x80" + s))
    return out


def proxyproto_v2():
    """v2 PROXY headers, which check_proxyproto.c builds in code."""
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    tcp4 = bytes([192, 0, 2, 1, 198, 51, 100, 1, 0xdc, 0x04, 0x01, 0xbb])
    tcp6 = bytes(15) + b"\x01" + bytes(15) + b"\x02" + b"\x00\x50\x1f\x90"
    tlvs = b"\x01\x00\x02h2\x04\x00\x00\x02\x00\x0bexample.com"
    http = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"

    def v2(cmd, fam, body, blen=None):
        n = len(body) if blen is None else blen
        return sig + bytes([cmd, fam, n >> 8, n & 0xff]) + body + http

    return [
        v2(0x21, 0x11, tcp4), v2(0x21, 0x21, tcp6),
        v2(0x21, 0x11, tcp4 + tlvs), v2(0x21, 0x21, tcp6 + tlvs),
        v2(0x20, 0x00, b""), v2(0x20, 0x11, tcp4), v2(0x21, 0x00, b""),
        v2(0x21, 0x12, tcp4), v2(0x21, 0x31, bytes(216)),
        v2(0x11, 0x11, tcp4), v2(0x22, 0x11, tcp4), v2(0x21, 0x41, tcp4),
        v2(0x21, 0x11, tcp4, 11), v2(0x21, 0x11, tcp4 + b"\x01\x00\x05ab"),
        v2(0x21, 0x11, tcp4 + b"\x04\x00"), v2(0x21, 0x11, tcp4, 0xffff),
    ]


def main():
    seeds = {}
    for fname in sorted(os.listdir(TESTS)):
        m = re.match(r"check_(\w+)\.c$", fname)
        if not m:
            continue
        for s in strings(os.path.join(TESTS, fname)):
            for harness, seed in classify(m.group(1), s):
                seeds.setdefault(harness, {})[seed] = True
    with open(os.path.join(TOP, "etc", "ferry.ini"), "rb") as f:
        seeds.setdefault("fuzz_config", {})[f.read()] = True
    seeds.setdefault("fuzz_errpage", {})[b"\xf8\x01\x01\x80<b>&'\""] = True
    for seed in proxyproto_v2():
        seeds.setdefault("fuzz_proxyproto", {})[seed] = True
    for harness, found in sorted(seeds.items()):
        d = os.path.join(HERE, "corpus", harness)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for seed in list(found)[:LIMIT]:
            name = hashlib.sha1(seed).hexdigest()
            with open(os.path.join(d, name), "wb") as f:
                f.write(seed)
        print(f"{harness}: {min(len(found), LIMIT)} seeds")


if __name__ == "__main__":
    main()
