"""Hostile inputs and a strict wg-quick reader, shared by the WireGuard injection tests.

``hostile(base)`` turns one valid value into the strings an attacker would try: zone ids that
smuggle an ``[Interface]`` with ``PostUp``, every character some reader takes as a line break,
NUL, and the characters that mean something in wg-quick, BIRD or a header (``#``, ``;``, ``"``,
``}``). ``read_wg_quick`` parses a rendered file back and fails on anything this product does
not write, so an accepted value is proven harmless by the file it ends up in.
"""

from __future__ import annotations

import base64
import ipaddress
import re

POST_UP = "\n[Interface]\nPostUp = touch /tmp/x"
BREAKERS = ["\n", "\r", "\r\n", "\x00", "\x0b", "\x0c", "\x1c", "\x1e", "\x85", "\u2028", "\u2029", "\t",
            "\u202e", "\x7f"]
SPECIALS = ["#", ";", '"', "}", "=", "[", "%", " ", "\\"]


def hostile(base: str) -> list[str]:
    """Variants of a valid ``base``: appended, prefixed and zone-id smuggling."""
    values = [f"{base}%x{POST_UP}", f"{base}{POST_UP}", f"{base}\n", f"{base}%eth0"]
    values += [base + c for c in BREAKERS + SPECIALS]
    values += [c + base for c in ("\n", "\u2028", "#", "[Peer]\n")]
    return values


CLIENT_KEYS = {"[Interface]": {"PrivateKey", "Address", "DNS", "MTU"},
               "[Peer]": {"PublicKey", "PresharedKey", "Endpoint", "AllowedIPs", "PersistentKeepalive"}}
SERVER_KEYS = {"[Interface]": {"PrivateKey", "ListenPort", "Address", "MTU"},
               "[Peer]": {"PublicKey", "PresharedKey", "AllowedIPs"}}
# the only comments this product writes
COMMENTS = [re.compile(r"# PrivateKey = <the private key that belongs to this client's public key; "
                       r"this server never held it>"),
            re.compile(r"# (PrivateKey|PresharedKey) = <omitted: needs the wireguard\.servers\.secrets permission>"),
            re.compile(r"# Routed prefix delegated to this client: [0-9a-f:]+/[0-9]{1,3}"),
            re.compile(r"# Endpoint from (the server's endpoint|IPV6WGM_WIREGUARD_ENDPOINT|the node's primary "
                       r"IPv[46] address \(default route via [A-Za-z0-9_=+.-]{1,15}\))"),
            re.compile(r"# [A-Za-z0-9_.-]{1,64}")]
KEY_RE = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")
LINE_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _key(value: str) -> None:
    assert KEY_RE.fullmatch(value), value
    assert len(base64.b64decode(value, validate=True)) == 32


def _addresses(value: str, *, interface: bool) -> None:
    for item in value.split(", "):
        assert "%" not in item and item == item.strip(), item
        parsed = ipaddress.ip_interface(item) if interface else ipaddress.ip_network(item)
        assert str(parsed) == item, item


def _endpoint(value: str) -> None:
    m = re.fullmatch(r"(\[[0-9a-f:]+\]|[a-z0-9.-]+):([0-9]{1,5})", value)
    assert m and 1 <= int(m.group(2)) <= 65535, value
    host = m.group(1)
    if host.startswith("["):
        assert str(ipaddress.IPv6Address(host[1:-1])) == host[1:-1]


def _dns(value: str) -> None:
    for item in value.split(", "):
        assert "%" not in item and str(ipaddress.ip_address(item)) == item, item


def _int(lo: int, hi: int):  # noqa: ANN202
    def check(value: str) -> None:
        assert re.fullmatch(r"[0-9]{1,5}", value) and lo <= int(value) <= hi, value
    return check


CHECKS = {
    "PrivateKey": _key, "PublicKey": _key, "PresharedKey": _key,
    "Address": lambda v: _addresses(v, interface=True), "AllowedIPs": lambda v: _addresses(v, interface=False),
    "DNS": _dns, "MTU": _int(1280, 9000), "ListenPort": _int(1, 65535), "PersistentKeepalive": _int(0, 65535),
    "Endpoint": _endpoint,
}


def read_wg_quick(text: str, allowed: dict[str, set[str]]) -> list[tuple[str, dict[str, str]]]:
    """Sections and keys of a rendered file; asserts it holds nothing this product did not write."""
    assert text.endswith("\n") and not LINE_BREAKS.search(text), repr(text)
    sections: list[tuple[str, dict[str, str]]] = []
    for line in text[:-1].split("\n"):
        assert all(ch >= " " and ch != "\x7f" for ch in line), repr(line)
        if not line:
            continue
        if line.startswith("#"):
            assert any(p.fullmatch(line) for p in COMMENTS), repr(line)
            continue
        if line.startswith("["):
            assert line in allowed, repr(line)
            assert line == "[Peer]" or not sections, "one [Interface], first"
            sections.append((line, {}))
            continue
        key, sep, value = line.partition(" = ")
        assert sep and sections and key in allowed[sections[-1][0]], repr(line)
        assert key not in sections[-1][1], f"duplicate {key}"
        assert "#" not in value and value == value.strip(), repr(line)
        CHECKS[key](value)
        sections[-1][1][key] = value
    assert sections and sections[0][0] == "[Interface]"
    return sections
