"""A strict reader of the BIRD tree this product writes, for the injection tests.

It lexes like BIRD (``#`` and ``/* */`` comments, ``"…"`` strings without line breaks, braces and
semicolons), builds the statement tree, and accepts only the statements the renderer writes, each
in its exact shape. Anything else (an extra protocol, a statement a value smuggled in, a stray
brace or token) fails with AssertionError. ``bird_parses`` then has BIRD's own parser read the
same files, so a tree that passes both is exactly ours and valid.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_TOKEN = re.compile(
    r"""(?P<ws>[ \t\n]+)|(?P<comment>\#[^\n]*)|(?P<block>/\*.*?\*/)|(?P<string>"[^"\n]*")
    |(?P<punct>[{};(),=])|(?P<word>[A-Za-z0-9_.:/|-]+)|(?P<bad>.)""",
    re.S | re.X,
)
_INT = re.compile(r"[0-9]{1,10}")
_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
_SESSION_FILE = re.compile(r'"sessions/([A-Za-z0-9_]{1,64})\.conf"')


@dataclass(frozen=True)
class Stmt:
    words: tuple[str, ...]
    block: tuple[Stmt, ...] | None = None


def tokens(text: str) -> list[str]:
    out: list[str] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        around = text[max(0, m.start() - 40):m.start() + 40]
        assert kind != "bad", f"unexpected character {m.group()!r} at {m.start()}: {around!r}"
        if kind in ("string", "punct", "word"):
            out.append(m.group())
    return out


def parse(text: str) -> tuple[Stmt, ...]:
    toks = tokens(text)
    pos = 0

    def block(depth: int) -> tuple[Stmt, ...]:
        nonlocal pos
        out: list[Stmt] = []
        words: list[str] = []
        while True:
            if pos == len(toks):
                assert depth == 0, "unbalanced braces: end of file inside a block"
                assert not words, f"statement without ';': {words}"
                return tuple(out)
            tok = toks[pos]
            pos += 1
            if tok == "}":
                assert depth > 0, "unbalanced braces: '}' at top level"
                assert not words, f"statement without ';' before '}}': {words}"
                return tuple(out)
            if tok == ";":
                assert words, "empty statement"
                out.append(Stmt(tuple(words)))
                words = []
            elif tok == "{":
                inner = block(depth + 1)
                if pos < len(toks) and toks[pos] == ";":
                    pos += 1
                out.append(Stmt(tuple(words), inner))
                words = []
            else:
                words.append(tok)

    return block(0)


def _int(tok: str) -> int:
    assert _INT.fullmatch(tok), f"not an integer: {tok!r}"
    return int(tok)


def _addr(tok: str) -> str:
    assert "%" not in tok
    return str(ipaddress.ip_address(tok))


def _string(tok: str) -> str:
    assert len(tok) >= 2 and tok[0] == tok[-1] == '"' and '"' not in tok[1:-1], tok
    return tok[1:-1]


def _one(stmts: tuple[Stmt, ...], what: str) -> Stmt:
    assert len(stmts) == 1, f"{what}: expected one statement, got {stmts}"
    return stmts[0]


_SESSION_SHAPES: dict[str, re.Pattern[str]] = {
    "description": re.compile(r'description "[^"\n]*"'),
    "disabled": re.compile(r"disabled"),
    "local": re.compile(r"local (?:[0-9a-f.:]+ )?as [0-9]+"),
    "neighbor": re.compile(r"neighbor [0-9a-f.:]+ as [0-9]+"),
    "password": re.compile(r'password "[^"\n]*"'),
    "hold": re.compile(r"hold time [0-9]+"),
    "multihop": re.compile(r"multihop [0-9]+"),
    "passive": re.compile(r"passive on"),
    "connect": re.compile(r"connect retry time [0-9]+"),
}
_CHANNEL_SHAPES = (
    re.compile(r"import (?:all|none)"),
    re.compile(r"import limit [0-9]+ action restart"),
    re.compile(r"export filter ipv6wgm_export"),
    re.compile(r"next hop keep"),
)
_ROUTE_STMT = re.compile(
    r"bgp_next_hop = [0-9a-f.:]+|bgp_path\.prepend \( [0-9]+ \)"
    r"|bgp_community\.add \( \( [0-9]+ , [0-9]+ \) \)|bgp_large_community\.add \( \( [0-9]+ , [0-9]+ , [0-9]+ \) \)"
)


def session(stmts: tuple[Stmt, ...], name: str) -> dict[str, object]:
    """One ``sessions/<name>.conf``: exactly one ``protocol bgp wgm_…`` of the known shape."""
    proto = _one(stmts, f"sessions/{name}.conf")
    assert proto.block is not None and proto.words[:2] == ("protocol", "bgp") and len(proto.words) == 3, proto.words
    assert proto.words[2].startswith("wgm_") and _NAME.fullmatch(proto.words[2]), proto.words
    out: dict[str, object] = {"protocol": proto.words[2]}
    channels = [s for s in proto.block if s.block is not None]
    assert len(channels) == 1 and channels[0].words in (("ipv4",), ("ipv6",)), channels
    for stmt in proto.block:
        if stmt.block is not None:
            continue
        line = " ".join(stmt.words)
        shape = _SESSION_SHAPES.get(stmt.words[0])
        assert shape is not None and shape.fullmatch(line), f"unexpected statement in {proto.words[2]}: {line!r}"
        assert stmt.words[0] not in out, f"statement twice: {line!r}"
        out[stmt.words[0]] = stmt.words[1:]
    assert "local" in out and "neighbor" in out
    neighbor = out["neighbor"]
    assert isinstance(neighbor, tuple)
    out["neighbor_address"] = _addr(neighbor[0])
    for word in ("description", "password"):
        if word in out:
            value = out[word]
            assert isinstance(value, tuple)
            out[word] = _string(value[0])
    channel = channels[0]
    assert channel.block is not None
    for stmt in channel.block:
        line = " ".join(stmt.words)
        assert stmt.block is None and any(p.fullmatch(line) for p in _CHANNEL_SHAPES), f"unexpected {line!r}"
    out["channel"] = channel.words[0]
    return out


def announcements(stmts: tuple[Stmt, ...]) -> dict[str, list[str]]:
    """``announcements.conf``: the export filter and the two static protocols, nothing else."""
    assert [s.words for s in stmts] == [("filter", "ipv6wgm_export"), ("protocol", "static", "ipv6wgm_ann4"),
                                        ("protocol", "static", "ipv6wgm_ann6")], [s.words for s in stmts]
    flt = stmts[0].block
    assert flt is not None and [" ".join(s.words) for s in flt] == [
        'if proto = "ipv6wgm_ann4" || proto = "ipv6wgm_ann6" then accept', "reject"], flt
    routes: dict[str, list[str]] = {}
    for proto, family in ((stmts[1], "ipv4"), (stmts[2], "ipv6")):
        assert proto.block is not None and proto.block[0] == Stmt((family,)), proto.block[:1]
        for route in proto.block[1:]:
            assert len(route.words) == 3 and route.words[0] == "route" and route.words[2] == "blackhole", route
            net = ipaddress.ip_network(route.words[1])
            assert f"ipv{net.version}" == family and str(net) == route.words[1] and route.words[1] not in routes
            body = [" ".join(s.words) for s in route.block or ()]
            for line in body:
                assert _ROUTE_STMT.fullmatch(line), f"unexpected route statement {line!r}"
            routes[route.words[1]] = body
    return routes


def read_tree(files: Mapping[str, str]) -> dict[str, object]:
    """The whole tree: ``{"router_id", "sessions": {name: …}, "routes": {prefix: …}}``."""
    main = parse(files["bird.conf"])
    heads = [" ".join(s.words) for s in main[:4]]
    assert heads[0].startswith("router id ") and len(main[0].words) == 3, heads
    router_id = str(ipaddress.IPv4Address(main[0].words[2]))
    assert heads[1:] == ['timeformat protocol "%s"', 'timeformat route "%s"', "protocol device ipv6wgm_device"], heads
    assert main[3].block == (), main[3]
    includes = [s for s in main[4:]]
    assert all(s.block is None and len(s.words) == 2 and s.words[0] == "include" for s in includes), includes
    assert includes and includes[0].words[1] == '"announcements.conf"', includes
    names: list[str] = []
    for inc in includes[1:]:
        m = _SESSION_FILE.fullmatch(inc.words[1])
        assert m, f"unexpected include {inc.words[1]!r}"
        names.append(m.group(1))
    expected_files = {"bird.conf", "announcements.conf", *(f"sessions/{n}.conf" for n in names)}
    assert set(files) == expected_files, sorted(set(files) ^ expected_files)
    sessions = {n: session(parse(files[f"sessions/{n}.conf"]), n) for n in names}
    protocols = [s["protocol"] for s in sessions.values()]
    assert len(set(protocols)) == len(protocols), protocols
    return {"router_id": router_id, "sessions": sessions, "routes": announcements(parse(files["announcements.conf"]))}


def load(directory: Path) -> dict[str, str]:
    """Every file under a generation directory (``<data dir>/bgp/current``)."""
    return {str(p.relative_to(directory)): p.read_text() for p in sorted(directory.rglob("*")) if p.is_file()}


def write(directory: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        (directory / rel).parent.mkdir(parents=True, exist_ok=True)
        (directory / rel).write_text(text)
    return directory / "bird.conf"


def bird_parses(bird_binary: str, conf: Path) -> None:
    res = subprocess.run([bird_binary, "-p", "-c", str(conf)], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stdout + res.stderr
