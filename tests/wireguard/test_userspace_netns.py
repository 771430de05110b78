"""Real wireguard-go in two network namespaces, driven through the userspace backend.

Needs root, wireguard-go, wg, ip and ping; without them the tests FAIL rather than skip, so a
CI image that lost a package cannot pass silently. ``wg``/``ip`` are only used here to observe
the interface and to create drift by hand, never by the product code.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ipv6wgm_wireguard.keys import generate_preshared_key, generate_private_key, public_key_from_private

from .netns import Agent, cleanup, make_pair, missing_prerequisites, nsrun

pytestmark = pytest.mark.netns


@dataclass
class Tunnel:
    ns1: str
    ns2: str
    if_a: str
    if_b: str
    a: Agent
    b: Agent
    spec_a: dict
    peer_b: dict  # B as seen from A
    pub_b: str


def _peer(pub: str, **kw: object) -> dict:
    return {"public_key": pub, **kw}


@pytest.fixture(scope="module")
def tunnel() -> Iterator[Tunnel]:
    problems = missing_prerequisites()
    if problems:
        pytest.fail("integration prerequisites missing: " + "; ".join(problems))
    suffix = str(os.getpid() % 100000)
    ns1, ns2 = f"wgt-a-{suffix}", f"wgt-b-{suffix}"
    if_a, if_b, if_c = f"wgta{suffix}", f"wgtb{suffix}", f"wgtc{suffix}"
    agents: list[Agent] = []
    try:
        make_pair(ns1, ns2, suffix)
        a, b = Agent(ns1), Agent(ns2)
        agents += [a, b]
        priv_a, priv_b, psk = generate_private_key(), generate_private_key(), generate_preshared_key()
        pub_a, pub_b = public_key_from_private(priv_a), public_key_from_private(priv_b)
        spec_a = {
            "name": if_a,
            "private_key": priv_a,
            "listen_port": 51820,
            "addresses": ["10.99.1.1/24", "fd00:99:1::1/64"],
            "mtu": 1400,
        }
        spec_b = {
            "name": if_b,
            "private_key": priv_b,
            "listen_port": 51821,
            "addresses": ["10.99.1.2/24", "fd00:99:1::2/64"],
            "mtu": 1400,
        }
        a.call("ensure_interface", spec=spec_a)
        b.call("ensure_interface", spec=spec_b)
        peer_b = _peer(
            pub_b,
            allowed_ips=["10.99.1.2/32", "fd00:99:1::2/128"],
            preshared_key=psk,
            endpoint="10.99.0.2:51821",
        )
        peer_a = _peer(
            pub_a,
            allowed_ips=["10.99.1.1/32", "fd00:99:1::1/128"],
            preshared_key=psk,
            endpoint="[fd00:99::1]:51820",
            persistent_keepalive=25,
        )
        a.call("set_peer", name=if_a, peer=peer_b)
        b.call("set_peer", name=if_b, peer=peer_a)
        yield Tunnel(ns1, ns2, if_a, if_b, a, b, spec_a, peer_b, pub_b)
    finally:
        for agent, name in zip(agents, (if_a, if_b), strict=False):
            try:
                agent.call("delete_interface", name=name)
            except Exception:  # noqa: S110 - cleanup below kills what is left
                pass
            agent.close()
        cleanup([ns1, ns2], {if_a, if_b, if_c})


def ping(ns: str, addr: str, attempts: int = 4) -> None:
    """A lost first handshake initiation is retried by WireGuard only after 5 s (REKEY_TIMEOUT),
    so a loaded machine gets a few rounds before the tunnel is declared broken."""
    for _ in range(attempts):
        res = nsrun(ns, "ping", "-c", "3", "-i", "0.2", "-W", "2", addr, check=False)
        if res.returncode == 0:
            return
    raise AssertionError(f"ping {addr} from {ns} failed:\n{res.stdout}{res.stderr}")


def baseline(t: Tunnel) -> dict:
    return t.a.call("sync_peers", name=t.if_a, peers=[t.peer_b])


def test_ping_over_tunnel_and_dump(tunnel: Tunnel) -> None:
    ping(tunnel.ns1, "10.99.1.2")
    ping(tunnel.ns1, "fd00:99:1::2")
    dump = tunnel.a.call("dump", name=tunnel.if_a)
    assert dump["listen_port"] == 51820
    assert dump["public_key"] == public_key_from_private(tunnel.spec_a["private_key"])
    peer = dump["peers"][tunnel.pub_b]
    assert peer["last_handshake"] is not None and abs(time.time() - peer["last_handshake"]) < 60
    assert peer["rx_bytes"] > 0 and peer["tx_bytes"] > 0
    assert peer["has_preshared_key"] is True
    # Configured as the v4 underlay; B's keepalive may have roamed it to B's v6 address.
    assert peer["endpoint"] in ("10.99.0.2:51821", "[fd00:99::2]:51821")
    assert sorted(peer["allowed_ips"]) == ["10.99.1.2/32", "fd00:99:1::2/128"]
    # B reached A over the IPv6 underlay endpoint, with keepalive set.
    peer_a = tunnel.b.call("dump", name=tunnel.if_b)["peers"]
    (state_a,) = peer_a.values()
    assert state_a["endpoint"] == "[fd00:99::1]:51820" and state_a["persistent_keepalive"] == 25


def test_set_peer_leaves_other_peers_alone(tunnel: Tunnel) -> None:
    ping(tunnel.ns1, "10.99.1.2")
    before = tunnel.a.call("dump", name=tunnel.if_a)["peers"][tunnel.pub_b]
    pub_c = public_key_from_private(generate_private_key())
    tunnel.a.call("set_peer", name=tunnel.if_a, peer=_peer(pub_c, allowed_ips=["10.99.2.0/24"]))
    after = tunnel.a.call("dump", name=tunnel.if_a)["peers"]
    assert after[tunnel.pub_b]["last_handshake"] == before["last_handshake"]
    assert after[tunnel.pub_b]["rx_bytes"] >= before["rx_bytes"] > 0
    assert after[tunnel.pub_b]["tx_bytes"] >= before["tx_bytes"] > 0
    assert after[pub_c]["allowed_ips"] == ["10.99.2.0/24"]
    # Allowed IPs are replaced, not appended.
    tunnel.a.call("set_peer", name=tunnel.if_a, peer=_peer(pub_c, allowed_ips=["fd00:99:2::/64"]))
    assert tunnel.a.call("dump", name=tunnel.if_a)["peers"][pub_c]["allowed_ips"] == ["fd00:99:2::/64"]
    assert baseline(tunnel) == {"added": 0, "removed": 1, "updated": 0}


def test_sync_restores_peer_removed_by_hand(tunnel: Tunnel) -> None:
    baseline(tunnel)
    nsrun(tunnel.ns1, "wg", "set", tunnel.if_a, "peer", tunnel.pub_b, "remove")
    assert tunnel.pub_b not in tunnel.a.call("dump", name=tunnel.if_a)["peers"]
    assert baseline(tunnel) == {"added": 1, "removed": 0, "updated": 0}
    ping(tunnel.ns1, "fd00:99:1::2")

    tunnel.a.call("remove_peer", name=tunnel.if_a, public_key=tunnel.pub_b)
    tunnel.a.call("remove_peer", name=tunnel.if_a, public_key=tunnel.pub_b)  # idempotent
    assert tunnel.a.call("dump", name=tunnel.if_a)["peers"] == {}
    assert baseline(tunnel) == {"added": 1, "removed": 0, "updated": 0}
    ping(tunnel.ns1, "10.99.1.2")


def test_sync_removes_peer_added_by_hand(tunnel: Tunnel) -> None:
    baseline(tunnel)
    stray = public_key_from_private(generate_private_key())
    nsrun(tunnel.ns1, "wg", "set", tunnel.if_a, "peer", stray, "allowed-ips", "10.99.9.9/32")
    assert stray in tunnel.a.call("dump", name=tunnel.if_a)["peers"]
    assert baseline(tunnel) == {"added": 0, "removed": 1, "updated": 0}
    assert list(tunnel.a.call("dump", name=tunnel.if_a)["peers"]) == [tunnel.pub_b]


def test_sync_repairs_changed_peer(tunnel: Tunnel) -> None:
    baseline(tunnel)
    nsrun(tunnel.ns1, "wg", "set", tunnel.if_a, "peer", tunnel.pub_b, "allowed-ips", "10.99.1.2/32")
    nsrun(tunnel.ns1, "wg", "set", tunnel.if_a, "peer", tunnel.pub_b, "preshared-key", "/dev/null")
    assert baseline(tunnel) == {"added": 0, "removed": 0, "updated": 1}
    peer = tunnel.a.call("dump", name=tunnel.if_a)["peers"][tunnel.pub_b]
    assert sorted(peer["allowed_ips"]) == ["10.99.1.2/32", "fd00:99:1::2/128"]
    assert peer["has_preshared_key"]
    ping(tunnel.ns1, "fd00:99:1::2")


def test_sync_without_drift_changes_nothing(tunnel: Tunnel) -> None:
    baseline(tunnel)
    ping(tunnel.ns1, "10.99.1.2")
    before = tunnel.a.call("dump", name=tunnel.if_a)["peers"][tunnel.pub_b]
    assert baseline(tunnel) == {"added": 0, "removed": 0, "updated": 0}
    after = tunnel.a.call("dump", name=tunnel.if_a)["peers"][tunnel.pub_b]
    assert after["last_handshake"] == before["last_handshake"]
    assert after["rx_bytes"] >= before["rx_bytes"]


def test_route_prefix_to_interface(tunnel: Tunnel) -> None:
    for cidr in ("fd00:99:64::/64", "10.99.64.0/24"):
        tunnel.a.call("add_route", name=tunnel.if_a, cidr=cidr)
        tunnel.a.call("add_route", name=tunnel.if_a, cidr=cidr)  # idempotent
        assert cidr in tunnel.a.call("list_routes", name=tunnel.if_a)
    shown = nsrun(tunnel.ns1, "ip", "-6", "route", "show", "dev", tunnel.if_a).stdout
    assert "fd00:99:64::/64" in shown
    for cidr in ("fd00:99:64::/64", "10.99.64.0/24"):
        tunnel.a.call("remove_route", name=tunnel.if_a, cidr=cidr)
        tunnel.a.call("remove_route", name=tunnel.if_a, cidr=cidr)  # idempotent
        assert cidr not in tunnel.a.call("list_routes", name=tunnel.if_a)
    assert "fd00:99:64::" not in nsrun(tunnel.ns1, "ip", "-6", "route", "show", "dev", tunnel.if_a).stdout


def test_ensure_interface_is_idempotent_and_exact(tunnel: Tunnel) -> None:
    baseline(tunnel)
    ping(tunnel.ns1, "10.99.1.2")
    before = tunnel.a.call("dump", name=tunnel.if_a)
    tunnel.a.call("ensure_interface", spec=tunnel.spec_a)
    after = tunnel.a.call("dump", name=tunnel.if_a)
    assert after["peers"][tunnel.pub_b]["last_handshake"] == before["peers"][tunnel.pub_b]["last_handshake"]
    assert list(after["peers"]) == [tunnel.pub_b]

    changed = {**tunnel.spec_a, "addresses": ["10.99.1.1/24", "fd00:99:5::1/64"], "mtu": 1380}
    tunnel.a.call("ensure_interface", spec=changed)
    addrs = tunnel.a.call("list_addresses", name=tunnel.if_a)
    assert "fd00:99:5::1/64" in addrs and "fd00:99:1::1/64" not in addrs
    assert "mtu 1380" in nsrun(tunnel.ns1, "ip", "link", "show", tunnel.if_a).stdout
    tunnel.a.call("ensure_interface", spec=tunnel.spec_a)
    addrs = tunnel.a.call("list_addresses", name=tunnel.if_a)
    assert {"10.99.1.1/24", "fd00:99:1::1/64"} <= set(addrs) and "fd00:99:5::1/64" not in addrs
    ping(tunnel.ns1, "fd00:99:1::2")


def test_interface_lifecycle_and_name_clash(tunnel: Tunnel) -> None:
    name = "wgtc" + tunnel.if_a[4:]
    spec = {"name": name, "private_key": generate_private_key(), "listen_port": 0, "addresses": []}
    assert tunnel.b.call("interface_exists", name=name) is False
    tunnel.b.call("ensure_interface", spec=spec)
    assert tunnel.b.call("interface_exists", name=name) is True
    # The UAPI socket directory is host-wide: the same name in another namespace is refused.
    with pytest.raises(RuntimeError, match="another namespace"):
        tunnel.a.call("ensure_interface", spec={**spec, "private_key": generate_private_key()})
    tunnel.b.call("delete_interface", name=name)
    tunnel.b.call("delete_interface", name=name)
    assert tunnel.b.call("interface_exists", name=name) is False
    assert not os.path.exists(f"/var/run/wireguard/{name}.sock")
