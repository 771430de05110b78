from __future__ import annotations

import pytest

from ipv6wgm_wireguard.dataplane import get_backend
from ipv6wgm_wireguard.dataplane.base import diff_peers, resolve_endpoint, resolve_peers
from ipv6wgm_wireguard.dataplane.types import InterfaceSpec, PeerSpec, PeerState
from ipv6wgm_wireguard.keys import generate_preshared_key, generate_private_key, public_key_from_private
from ipv6wgm_wireguard.validation import ifname as validate_ifname
from ipv6wgm_wireguard.validation import network as normalize_cidr
from ipv6wgm_wireguard.validation import peer_endpoint as normalize_endpoint


def key() -> str:
    return public_key_from_private(generate_private_key())


@pytest.mark.parametrize("name", ["wg0", "a", "wg-site_1.x=+", "x" * 15])
def test_ifname_ok(name: str) -> None:
    assert validate_ifname(name) == name


@pytest.mark.parametrize("name", ["", "x" * 16, "wg 0", "wg/0", "wg0\n", "..", ".", "wg\x00", "wgé"])
def test_ifname_rejected(name: str) -> None:
    with pytest.raises(ValueError):
        validate_ifname(name)


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("1.2.3.4:51820", "1.2.3.4:51820"),
        ("[2001:DB8::0001]:1", "[2001:db8::1]:1"),
        ("vpn.example.com:443", "vpn.example.com:443"),
    ],
)
def test_endpoint_normalised(raw: str, norm: str) -> None:
    assert normalize_endpoint(raw) == norm


@pytest.mark.parametrize(
    "bad",
    ["1.2.3.4", "2001:db8::1:51820", "[2001:db8::1]", "1.2.3.4:0", "1.2.3.4:70000"]
    + ["a b:1", "h\n:1", "[x]:1", "999.1.1.1:5", "-bad.example:1", "[fe80::1%x]:1", "h:1\n", "h:\u0663"],
)
def test_endpoint_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_endpoint(bad)


def test_cidrs() -> None:
    assert normalize_cidr("10.0.0.1/24") == "10.0.0.0/24"
    assert normalize_cidr("2001:DB8::/32") == "2001:db8::/32"
    for bad in ("10.0.0.0", "10.0.0.0/33", "10.0.0.0/24\n", " 10.0.0.0/24", "fd00::/129", "fe80::%x/64"):
        with pytest.raises(ValueError):
            normalize_cidr(bad)


def test_specs_validate_and_canonicalise() -> None:
    pub = key()
    spec = PeerSpec(pub, ["fd00::1/64", "10.0.0.5/32", "10.0.0.5/32"], persistent_keepalive=0)
    assert spec.allowed_ips == ["10.0.0.5/32", "fd00::/64"] and spec.persistent_keepalive is None
    with pytest.raises(ValueError):
        PeerSpec(pub, ["10.0.0.0/24"], persistent_keepalive=70000)
    with pytest.raises(ValueError):
        PeerSpec(pub + "\n", [])
    iface = InterfaceSpec("wg0", generate_private_key(), 51820, ["10.0.0.1/24", "FD00::1/64"], mtu=1420)
    assert iface.addresses == ["10.0.0.1/24", "fd00::1/64"]
    assert "private_key" not in repr(iface)
    with pytest.raises(ValueError):
        InterfaceSpec("wg0", generate_private_key(), 70000)
    with pytest.raises(ValueError):
        InterfaceSpec("wg0", generate_private_key(), 1, mtu=100)


def _state(pub: str, ips: list[str], endpoint: str | None = None, keepalive: int | None = None) -> PeerState:
    return PeerState(pub, endpoint, ips, None, 0, 0, keepalive, False)


def test_diff_peers() -> None:
    same, changed, extra, new, psk_peer = key(), key(), key(), key(), key()
    psk = generate_preshared_key()
    current = {
        same: _state(same, ["fd00::/64", "10.0.0.2/32"], endpoint="[fd00::9]:1"),
        changed: _state(changed, ["10.0.0.3/32"]),
        extra: _state(extra, ["10.0.0.4/32"]),
        psk_peer: _state(psk_peer, ["10.0.0.6/32"]),
    }
    desired = [
        # Roamed endpoint differs from the configured one: not drift.
        PeerSpec(same, ["10.0.0.2/32", "fd00::/64"], endpoint="1.2.3.4:5"),
        PeerSpec(changed, ["10.0.0.3/32", "10.0.1.0/24"]),
        PeerSpec(new, ["10.0.0.5/32"]),
        PeerSpec(psk_peer, ["10.0.0.6/32"], preshared_key=psk),
    ]
    diff = diff_peers(desired, current, {same: None, changed: None, extra: None, psk_peer: None})
    assert [p.public_key for p in diff.add] == [new]
    assert diff.remove == [extra]
    assert sorted(p.public_key for p in diff.update) == sorted([changed, psk_peer])
    assert diff.result().added == 1 and diff.result().changed
    nothing = diff_peers(desired[:1], {same: current[same]}, {same: None})
    assert not nothing.result().changed
    with pytest.raises(ValueError, match="duplicate"):
        diff_peers([desired[0], desired[0]], {}, {})


def test_missing_endpoint_and_keepalive_are_drift() -> None:
    pub = key()
    want = PeerSpec(pub, ["10.0.0.2/32"], endpoint="1.2.3.4:5", persistent_keepalive=25)
    assert diff_peers([want], {pub: _state(pub, ["10.0.0.2/32"], None, 25)}, {}).update
    assert diff_peers([want], {pub: _state(pub, ["10.0.0.2/32"], "9.9.9.9:1", None)}, {}).update
    assert not diff_peers([want], {pub: _state(pub, ["10.0.0.2/32"], "9.9.9.9:1", 25)}, {}).update


@pytest.mark.asyncio
async def test_resolve_endpoints() -> None:
    assert await resolve_endpoint("[fd00::1]:5") == "[fd00::1]:5"
    assert await resolve_endpoint("localhost:51820") in ("127.0.0.1:51820", "[::1]:51820")
    peers = await resolve_peers([PeerSpec(key(), [], endpoint="localhost:1"), PeerSpec(key(), [])])
    assert peers[0].endpoint in ("127.0.0.1:1", "[::1]:1") and peers[1].endpoint is None


def test_get_backend() -> None:
    assert get_backend("userspace", wireguard_go="/opt/wg-go").wireguard_go == "/opt/wg-go"
    assert get_backend("kernel").kind == "kernel"
    assert get_backend("auto").kind in ("kernel", "userspace")
    with pytest.raises(ValueError):
        get_backend("boringtun")
