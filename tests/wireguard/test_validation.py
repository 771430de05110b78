"""The plugin's one validation module, the renderers' last line of defence and the import
parser, against every hostile string (no server needed)."""

from __future__ import annotations

import pytest

from ipv6wgm.validation import UnsafeValue
from ipv6wgm_wireguard import peerconfig
from ipv6wgm_wireguard import validation as v
from ipv6wgm_wireguard.importing import peer_name
from ipv6wgm_wireguard.keys import generate_preshared_key, generate_private_key, public_key_from_private

from .hostile import CLIENT_KEYS, POST_UP, SERVER_KEYS, hostile, read_wg_quick

PRIV = generate_private_key()
PUB = public_key_from_private(PRIV)
PSK = generate_preshared_key()

VALIDATORS = {
    "name": (v.name, "laptop"),
    "ifname": (v.ifname, "wg0"),
    "node_id": (v.node_id, "gw1"),
    "server_address4": (lambda x: v.server_address(x, 4), "10.0.0.1/24"),
    "server_address6": (lambda x: v.server_address(x, 6), "fd00::1/64"),
    "client_address4": (lambda x: v.client_address(x, 4), "10.0.0.2"),
    "client_address6": (lambda x: v.client_address(x, 6), "fe80::2"),
    "dns": (lambda x: v.ip_list([x]), "fe80::53"),
    "allowed_ips": (lambda x: v.cidr_list([x]), "fe80::/64"),
    "network": (v.network, "fe80::/64"),
    "interface_address": (v.interface_address, "fe80::1/64"),
    "endpoint": (v.endpoint, "vpn.example.com"),
    "endpoint_v6": (v.endpoint, "[fe80::1]:51820"),
    "peer_endpoint": (v.peer_endpoint, "10.0.0.1:51820"),
    "key": (v.key, PSK),
    "public_key": (v.public_key, PUB),
}
# "=" and "+" are legal in Linux interface names, and harmless in a file name
CASES = [(name, bad) for name, (_, base) in VALIDATORS.items() for bad in hostile(base)
         if (name, bad) != ("ifname", "wg0=")]


@pytest.mark.parametrize(("name", "bad"), CASES)
def test_every_validator_refuses_every_hostile_string(name: str, bad: str) -> None:
    func, base = VALIDATORS[name]
    func(base)  # the base itself is fine
    with pytest.raises(ValueError):
        func(bad)


def test_free_text_refuses_only_what_breaks_lines() -> None:
    assert v.text('a "quoted" #text; with {braces}') == 'a "quoted" #text; with {braces}'
    for bad in ("x\n", "x\r", "x\x00", "x\u2028", "x\u2029", "x\x85", "x\u202e", "x" * 256):
        with pytest.raises(ValueError):
            v.text(bad)


@pytest.mark.parametrize(("raw", "canonical"), [
    ("VPN.Example.COM", "vpn.example.com"), ("1.2.3.4:51820", "1.2.3.4:51820"),
    ("[2001:DB8::0001]:443", "[2001:db8::1]:443"), ("2001:db8::1", "[2001:db8::1]"),
    ("[2001:db8::1]", "[2001:db8::1]"), ("host-1.example:1", "host-1.example:1"),
])
def test_endpoints_are_stored_canonical(raw: str, canonical: str) -> None:
    assert v.endpoint(raw) == canonical


@pytest.mark.parametrize("bad", ["999.1.1.1", "1.2.3.4:0", "h:65536", "h:\u0663", "h:+1", "-h.example",
                                 "[::1]x", "a..b", "x" * 254, "[fe80::1%eth0]:1", "h:1:2"])
def test_endpoints_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        v.endpoint(bad)


def test_canonical_addresses() -> None:
    assert v.server_address("FD00:0::1/64", 6) == "fd00::1/64"
    assert str(v.client_address("10.0.0.2/32", 4)) == "10.0.0.2"
    assert v.cidr_list(["FD00::/64", "fd00::/64", "10.0.0.0/8"]) == ["fd00::/64", "10.0.0.0/8"]
    assert v.ip_list(["2001:4860:4860:0::8888", "2001:4860:4860::8888"]) == ["2001:4860:4860::8888"]
    assert v.network("10.0.0.1/24") == "10.0.0.0/24"
    with pytest.raises(ValueError):
        v.cidr_list(["10.0.0.1/8"])
    with pytest.raises(ValueError):
        v.client_address("10.0.0.0/24", 4)
    with pytest.raises(ValueError):
        v.integer("\u0661\u0664\u0662\u0660", 1280, 9000, "MTU")


def _client(**overrides: object) -> peerconfig.ClientConfig:
    fields: dict = dict(private_key=PRIV, addresses=["10.0.0.2/32", "fd00::2/128"], dns=["fd00::53"], mtu=1420,
                        server_public_key=PUB, preshared_key=PSK, endpoint="vpn.example.com:51820",
                        allowed_ips=["0.0.0.0/0", "::/0"], persistent_keepalive=25, delegated_prefix="fd55::/64")
    fields.update(overrides)
    return peerconfig.ClientConfig(**fields)


def test_clean_client_config_parses_back_exactly() -> None:
    sections = read_wg_quick(peerconfig.render_client(_client()), CLIENT_KEYS)
    assert [s for s, _ in sections] == ["[Interface]", "[Peer]"]
    assert set(sections[0][1]) == CLIENT_KEYS["[Interface]"] and set(sections[1][1]) == CLIENT_KEYS["[Peer]"]


@pytest.mark.parametrize("field", ["private_key", "addresses", "dns", "server_public_key", "preshared_key",
                                   "endpoint", "allowed_ips", "delegated_prefix"])
@pytest.mark.parametrize("breaker", ["\n", "\r", "\x00", "\u2028", "\u2029", "\x85", "%x" + POST_UP])
def test_render_client_raises_on_any_line_break(field: str, breaker: str) -> None:
    value = getattr(_client(), field)
    bad = [value[0] + breaker] if isinstance(value, list) else value + breaker
    with pytest.raises(UnsafeValue):
        peerconfig.render_client(_client(**{field: bad}))


def test_render_server_raises_and_redacts() -> None:
    peer = peerconfig.ExportPeer("laptop", PUB, PSK, ["10.0.0.2/32"])
    full = peerconfig.render_server(PRIV, 51820, ["10.0.0.1/24"], 1420, [peer])
    assert read_wg_quick(full, SERVER_KEYS)[1][1]["PresharedKey"] == PSK
    redacted = peerconfig.render_server(None, 51820, ["10.0.0.1/24"], None,
                                        [peerconfig.ExportPeer("laptop", PUB, None, ["10.0.0.2/32"], True)],
                                        with_secrets=False)
    sections = read_wg_quick(redacted, SERVER_KEYS)
    assert "PrivateKey" not in sections[0][1] and "PresharedKey" not in sections[1][1]
    assert PRIV not in redacted and PSK not in redacted and redacted.count("<omitted") == 2
    for bad in ("laptop\n[Interface]", "laptop\u2028", "x\x85"):
        with pytest.raises(UnsafeValue):
            peerconfig.render_server(PRIV, 51820, [], None, [peerconfig.ExportPeer(bad, PUB, None, [])])
    with pytest.raises(UnsafeValue):
        peerconfig.render_server(PRIV, 51820, ["10.0.0.1/24\nPostUp = x"], None, [])


def test_qr_payload_is_checked() -> None:
    assert peerconfig.qr_png(peerconfig.render_client(_client())).startswith(b"\x89PNG")
    with pytest.raises(UnsafeValue):
        peerconfig.qr_png("[Interface]\nPrivateKey = x\u2028PostUp = touch /tmp/x\n")


SERVER_FILE = f"[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24\n\n# laptop\n[Peer]\n" \
              f"PublicKey = {PUB}\nAllowedIPs = 10.0.0.2/32\n"


def test_import_reads_what_wg_quick_reads() -> None:
    parsed = peerconfig.parse_server(SERVER_FILE.replace("\n", "\r\n"))
    assert parsed.addresses == ["10.0.0.1/24"] and parsed.peers[0].name == "laptop"
    hooks = peerconfig.parse_server(SERVER_FILE.replace("ListenPort", "PostUp = touch /tmp/x\nListenPort"))
    assert hooks.listen_port == 51820  # shell hooks are never adopted


@pytest.mark.parametrize("bad", [
    SERVER_FILE.replace("10.0.0.1/24", "fe80::1%x/64"),
    SERVER_FILE.replace("10.0.0.2/32", "10.0.0.2/32%x"),
    SERVER_FILE.replace("ListenPort = 51820", "ListenPort = \u0665\u0661\u0668\u0662\u0660"),
    SERVER_FILE.replace("ListenPort = 51820", "DNS = 1.1.1.1%x"),
    SERVER_FILE.replace("ListenPort = 51820", "MTU = 14\r20"),
    SERVER_FILE.replace(f"PrivateKey = {PRIV}", f"PrivateKey = {PRIV}\u2028PostUp = touch /tmp/x"),
    SERVER_FILE.replace("# laptop", "# lap\x85[Interface]"),
    SERVER_FILE.replace("# laptop", "# lap\u2029top"),
    SERVER_FILE.replace("[Peer]", "[Peer]\x00"),
    SERVER_FILE.replace("[Peer]", "[Hooks]"),
    SERVER_FILE + "[Interface]\n",
    SERVER_FILE.replace("AllowedIPs", "Table = off\nAllowedIPs").replace("[Peer]", "[Peer]\nFwMark = 1"),
])
def test_import_refuses_hostile_files(bad: str) -> None:
    with pytest.raises(ValueError):
        peerconfig.parse_server(bad)


@pytest.mark.parametrize(("comment", "name"), [
    ("laptop", "laptop"), ('evil"; }#x', "evil-----x"), ("", "peer-3"), ("---", "peer-3"), ("é" * 80, "peer-3"),
])
def test_peer_names_from_comments_pass_the_name_rule(comment: str, name: str) -> None:
    got = peer_name(comment, 3)
    assert got == name and v.name(got) == got
