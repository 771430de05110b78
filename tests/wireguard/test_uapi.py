from __future__ import annotations

import time

import pytest

from ipv6wgm_wireguard.dataplane.base import WireGuardBackend
from ipv6wgm_wireguard.dataplane.types import PeerSpec
from ipv6wgm_wireguard.dataplane.uapi import (
    UapiError,
    _parse_fast,
    _parse_generic,
    build_set,
    check_errno,
    parse_get,
)
from ipv6wgm_wireguard.dataplane.userspace import UserspaceBackend
from ipv6wgm_wireguard.keys import hex_to_key, key_to_hex

# The example reply from https://www.wireguard.com/xplatform/ (get=1).
XPLATFORM_GET = b"""private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a
listen_port=12912
public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33
preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52
allowed_ip=192.168.4.4/32
endpoint=[abcd:23::33%2]:51820
last_handshake_time_sec=1
last_handshake_time_nsec=500000000
tx_bytes=38333
rx_bytes=2224
persistent_keepalive_interval=0
protocol_version=1
public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376
preshared_key=0000000000000000000000000000000000000000000000000000000000000000
allowed_ip=192.168.4.6/32
allowed_ip=fd00::/64
endpoint=182.122.22.19:3233
last_handshake_time_sec=0
last_handshake_time_nsec=0
tx_bytes=1212111
rx_bytes=1929999999
persistent_keepalive_interval=111
protocol_version=1
errno=0

"""

PSK_HEX = "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52"
K1 = hex_to_key("b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33")
K2 = hex_to_key("58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376")


def test_parse_get() -> None:
    dev = parse_get(XPLATFORM_GET)
    assert dev.private_key == hex_to_key("e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a")
    assert dev.listen_port == 12912 and dev.fwmark is None
    assert list(dev.peers) == [K1, K2]
    p1, p2 = dev.peers[K1], dev.peers[K2]
    assert p1.allowed_ips == ["192.168.4.4/32"] and p1.endpoint == "[abcd:23::33%2]:51820"
    assert p1.last_handshake == 1.5 and (p1.rx_bytes, p1.tx_bytes) == (2224, 38333)
    assert p1.has_preshared_key and p1.persistent_keepalive is None
    assert dev.preshared_keys[K1] == hex_to_key(PSK_HEX)
    assert p2.allowed_ips == ["192.168.4.6/32", "fd00::/64"] and p2.last_handshake is None
    assert not p2.has_preshared_key and dev.preshared_keys[K2] is None
    assert p2.persistent_keepalive == 111 and p2.rx_bytes == 1929999999
    assert "preshared" not in repr(p1).replace("has_preshared_key", "")


def test_errno() -> None:
    check_errno(b"errno=0\n\n")
    with pytest.raises(UapiError) as info:
        check_errno(b"errno=-22\n\n")
    assert info.value.errno == -22
    with pytest.raises(UapiError):
        parse_get(b"private_key=00\n")  # truncated reply: no errno line


def test_build_set() -> None:
    psk = hex_to_key("188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52")
    req = build_set(
        listen_port=51820,
        fwmark=0,
        remove=[K2],
        upsert=[PeerSpec(K1, ["fd00::1/64", "10.0.0.2/32"], psk, "[FD00::9]:51820", 25)],
    ).decode()
    assert req == (
        "set=1\nlisten_port=51820\nfwmark=0\n"
        f"public_key={key_to_hex(K2)}\nremove=true\n"
        f"public_key={key_to_hex(K1)}\nreplace_allowed_ips=true\n"
        "allowed_ip=10.0.0.2/32\nallowed_ip=fd00::/64\n"
        f"preshared_key={key_to_hex(psk)}\npersistent_keepalive_interval=25\n"
        "endpoint=[fd00::9]:51820\n\n"
    )
    cleared = build_set(upsert=[PeerSpec(K2, [])]).decode()
    assert f"preshared_key={'0' * 64}\npersistent_keepalive_interval=0\n" in cleared
    assert "endpoint" not in cleared
    assert build_set() == b"set=1\n\n"


def test_build_set_rejects_smuggled_lines() -> None:
    peer = PeerSpec(K1, [])
    peer.endpoint = "1.2.3.4:5\nremove=true"  # bypassing __post_init__ on purpose
    with pytest.raises(ValueError):
        build_set(upsert=[peer])


def wireguard_go_reply(n: int) -> bytes:
    """The exact layout wireguard-go 0.0.2022x prints (endpoint only once known)."""
    lines = ["private_key=" + "11" * 32, "listen_port=51820", "fwmark=7"]
    for i in range(n):
        lines += [f"public_key={i + 1:064x}", "preshared_key=" + ("ab" * 32 if i % 3 == 0 else "0" * 64)]
        lines += ["protocol_version=1"]
        if i % 2:
            lines += [f"endpoint=[fd00::{i:x}]:51820"]
        lines += [
            f"last_handshake_time_sec={1700000000 if i % 5 else 0}",
            f"last_handshake_time_nsec={i if i % 5 else 0}",
            f"tx_bytes={i * 3}",
            f"rx_bytes={i * 7}",
            f"persistent_keepalive_interval={25 if i % 4 else 0}",
        ]
        lines += [f"allowed_ip=10.{i >> 8 & 255}.{i & 255}.1/32", f"allowed_ip=fd00::{i:x}/128"][: i % 3]
    return ("\n".join(lines) + "\nerrno=0\n\n").encode()


def test_fast_and_generic_parsers_agree() -> None:
    text = wireguard_go_reply(50).decode()
    fast, generic = _parse_fast(text), _parse_generic(text)
    assert fast is not None and fast == generic
    assert fast.fwmark == 7 and fast.listen_port == 51820 and len(fast.peers) == 50
    # Another layout (the xplatform doc's order) is not forced through the fast path.
    assert _parse_fast(XPLATFORM_GET.decode()) is None
    # Nor is an unknown key in the middle of a peer.
    assert _parse_fast(text.replace("tx_bytes=", "future_key=1\ntx_bytes=", 1)) is None


def test_parse_10000_peers_is_fast() -> None:
    reply = wireguard_go_reply(10_000)
    assert _parse_fast(reply.decode()) is not None
    start = time.perf_counter()
    dev = parse_get(reply)
    elapsed = time.perf_counter() - start
    assert len(dev.peers) == 10_000
    assert elapsed < 1.0, f"parsing 10,000 peers took {elapsed:.3f}s"


class CannedUapi(UserspaceBackend):
    """The userspace backend with its socket replaced by a list of ``get=1`` replies: the
    decoding and comparison under test are the backend's own."""

    def __init__(self, *replies: bytes) -> None:
        super().__init__()
        self.replies = list(replies)

    async def _request(self, name: str, payload: bytes) -> bytearray:
        assert payload == b"get=1\n\n"
        return bytearray(self.replies.pop(0))


async def test_activity_decodes_only_peers_that_moved() -> None:
    """A live-state collection parses a peer only when its lines differ from the previous look;
    its marks, stored by the caller, make the next look skip it; a counter change, a new
    handshake or another endpoint makes it move again. Both parsers agree with ``parse_get``."""
    moved_k1 = XPLATFORM_GET.replace(b"rx_bytes=2224", b"rx_bytes=9999")
    backend = CannedUapi(XPLATFORM_GET, XPLATFORM_GET, moved_k1, wireguard_go_reply(3))
    seen: dict[str, object] = {}
    first = await backend.activity("wg0", seen)
    assert first.count == 2 and set(first.moved) == {K1, K2}
    assert first.moved[K1].state == parse_get(XPLATFORM_GET).peers[K1]
    assert first.moved[K2].key == key_to_hex(K2)
    assert first.has_peer(K1) and not first.has_peer(hex_to_key("11" * 32))
    seen.update({m.key: m.mark for m in first.moved.values()})
    assert (await backend.activity("wg0", seen)).moved == {}  # nothing changed: nothing decoded
    third = await backend.activity("wg0", seen)
    assert set(third.moved) == {K1} and third.moved[K1].state.rx_bytes == 9999
    fast = await backend.activity("wg0", {})  # wireguard-go's own layout: the fast parser
    assert fast.count == 3 and [m.state for m in fast.moved.values()] == list(
        parse_get(wireguard_go_reply(3)).peers.values())


async def test_default_activity_compares_counters() -> None:
    """Backends without raw lines (kernel netlink) compare counters, handshake and endpoint."""

    class Dumped(CannedUapi):
        activity = WireGuardBackend.activity

    backend = Dumped(XPLATFORM_GET, XPLATFORM_GET.replace(b"tx_bytes=1212111", b"tx_bytes=1212112"))
    first = await backend.activity("wg0", {})
    assert set(first.moved) == {K1, K2} and first.moved[K1].mark == (2224, 38333, 1.5, "[abcd:23::33%2]:51820")
    seen = {m.key: m.mark for m in first.moved.values()}
    assert set((await backend.activity("wg0", seen)).moved) == {K2}
