"""The kernel backend's pure half: netlink messages built and parsed without the module."""

from __future__ import annotations

from pyroute2.netlink.generic.wireguard import WGPEER_F_REMOVE_ME, WGPEER_F_REPLACE_ALLOWEDIPS, wgmsg

from ipv6wgm_wireguard.dataplane.kernel import ZERO_KEY, build_set_msgs, parse_dump, peer_attrs
from ipv6wgm_wireguard.dataplane.types import PeerSpec
from ipv6wgm_wireguard.keys import generate_preshared_key, generate_private_key, public_key_from_private


def key() -> str:
    return public_key_from_private(generate_private_key())


def wire(msg: wgmsg) -> wgmsg:
    """Encode then decode, as if the message had crossed the socket."""
    msg["header"]["type"] = 30
    msg.encode()
    out = wgmsg(msg.data)
    out.decode()
    return out


def as_dump(peers: list[dict], **device: object) -> wgmsg:
    msg = wgmsg()
    msg["cmd"] = 0
    msg["version"] = 1
    msg["attrs"].append(["WGDEVICE_A_IFNAME", "wgt0"])
    for name, value in device.items():
        msg["attrs"].append([name, value])
    msg["attrs"].append(["WGDEVICE_A_PEERS", peers])
    return wire(msg)


def test_set_message_contents() -> None:
    a, b, gone, psk = key(), key(), key(), generate_preshared_key()
    (msg,) = build_set_msgs(
        "wgt0",
        listen_port=51820,
        upsert=[PeerSpec(a, ["10.0.0.0/24", "fd00::/64"], psk, "[fd00::1]:5", 25), PeerSpec(b, [])],
        remove=[gone],
    )
    msg = wire(msg)
    assert msg.get_attr("WGDEVICE_A_IFNAME") == "wgt0" and msg.get_attr("WGDEVICE_A_LISTEN_PORT") == 51820
    removed, pa, pb = msg.get_attr("WGDEVICE_A_PEERS")
    assert removed.get_attr("WGPEER_A_FLAGS") == WGPEER_F_REMOVE_ME
    assert pa.get_attr("WGPEER_A_PUBLIC_KEY").decode() == a
    assert pa.get_attr("WGPEER_A_FLAGS") == WGPEER_F_REPLACE_ALLOWEDIPS
    assert pa.get_attr("WGPEER_A_PRESHARED_KEY").decode() == psk
    assert pa.get_attr("WGPEER_A_ENDPOINT")["addr"] == "fd00::1"
    assert [x["addr"] for x in pa.get_attr("WGPEER_A_ALLOWEDIPS")] == ["10.0.0.0/24", "fd00::/64"]
    # No PSK / keepalive desired: explicitly cleared, so an update really matches the spec.
    assert pb.get_attr("WGPEER_A_PRESHARED_KEY").decode() == ZERO_KEY
    assert pb.get_attr("WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL") == 0


def test_large_batches_are_split_device_attrs_first() -> None:
    peers = [PeerSpec(key(), [f"10.{i >> 8}.{i & 255}.0/24", "fd00::/64"]) for i in range(2000)]
    msgs = build_set_msgs("wgt0", private_key=generate_private_key(), upsert=peers)
    assert len(msgs) > 1
    decoded = [wire(m) for m in msgs]
    assert decoded[0].get_attr("WGDEVICE_A_PRIVATE_KEY") is not None
    assert all(m.get_attr("WGDEVICE_A_PRIVATE_KEY") is None for m in decoded[1:])
    assert all(len(m.data) <= 20_000 for m in msgs)
    sent = [p.get_attr("WGPEER_A_PUBLIC_KEY").decode() for m in decoded for p in m.get_attr("WGDEVICE_A_PEERS")]
    assert sent == [p.public_key for p in peers]


def test_parse_multi_message_dump_merges_split_peers() -> None:
    a, b = key(), key()
    priv = generate_private_key()
    first = peer_attrs(PeerSpec(a, ["10.0.0.0/24"], generate_preshared_key(), "1.2.3.4:5", 25))
    first["attrs"] += [
        ["WGPEER_A_LAST_HANDSHAKE_TIME", {"tv_sec": 1_700_000_000, "tv_nsec": 250_000_000}],
        ["WGPEER_A_RX_BYTES", 10],
        ["WGPEER_A_TX_BYTES", 1 << 40],
    ]
    # The kernel continues a peer whose allowed IPs did not fit with the same public key.
    continued = {"attrs": [["WGPEER_A_PUBLIC_KEY", a], peer_attrs(PeerSpec(a, ["fd00::/64"]))["attrs"][-1]]}
    second = peer_attrs(PeerSpec(b, ["10.0.1.1/32"]))
    msgs = [
        as_dump([first], WGDEVICE_A_PRIVATE_KEY=priv, WGDEVICE_A_LISTEN_PORT=51820, WGDEVICE_A_FWMARK=0),
        as_dump([continued, second]),
    ]
    dev = parse_dump(msgs)
    assert dev.private_key == priv and dev.listen_port == 51820 and dev.fwmark is None
    pa, pb = dev.peers[a], dev.peers[b]
    assert pa.allowed_ips == ["10.0.0.0/24", "fd00::/64"]
    assert pa.last_handshake == 1_700_000_000.25 and pa.rx_bytes == 10 and pa.tx_bytes == 1 << 40
    assert pa.endpoint == "1.2.3.4:5" and pa.persistent_keepalive == 25 and pa.has_preshared_key
    assert pb.allowed_ips == ["10.0.1.1/32"] and not pb.has_preshared_key and dev.preshared_keys[b] is None
    assert pb.last_handshake is None and pb.endpoint is None
