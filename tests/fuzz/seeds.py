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
    if name == "errpage" and b"%" not in s and len(s) > 3:
        out.append(("fuzz_errpage", b"\x90\x01\x00\x80" + s))
    return out


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
