"""wg-quick text: client configs (and their QR codes), server export, and import parsing.

A wg-quick file is an export and import format only; the database stays the source of truth.
"""

from __future__ import annotations

import base64
import io
import ipaddress
from dataclasses import dataclass, field

import qrcode
from qrcode.image.pure import PyPNGImage

from ipv6wgm_wireguard import validation as v


@dataclass
class ClientConfig:
    private_key: str | None
    addresses: list[str]
    dns: list[str]
    mtu: int | None
    server_public_key: str
    preshared_key: str | None
    endpoint: str
    allowed_ips: list[str]
    persistent_keepalive: int | None
    delegated_prefix: str | None = None


def render_client(cfg: ClientConfig) -> str:
    lines = ["[Interface]"]
    if cfg.private_key:
        lines.append(f"PrivateKey = {cfg.private_key}")
    else:
        lines.append("# PrivateKey = <the private key that belongs to this client's public key;"
                     " this server never held it>")
    if cfg.addresses:
        lines.append(f"Address = {', '.join(cfg.addresses)}")
    if cfg.dns:
        lines.append(f"DNS = {', '.join(cfg.dns)}")
    if cfg.mtu:
        lines.append(f"MTU = {cfg.mtu}")
    if cfg.delegated_prefix:
        lines.append(f"# Routed prefix delegated to this client: {cfg.delegated_prefix}")
    lines += ["", "[Peer]", f"PublicKey = {cfg.server_public_key}"]
    if cfg.preshared_key:
        lines.append(f"PresharedKey = {cfg.preshared_key}")
    lines.append(f"Endpoint = {cfg.endpoint}")
    lines.append(f"AllowedIPs = {', '.join(cfg.allowed_ips)}")
    if cfg.persistent_keepalive:
        lines.append(f"PersistentKeepalive = {cfg.persistent_keepalive}")
    return "\n".join(lines) + "\n"


def qr_png(text: str) -> bytes:
    buf = io.BytesIO()
    qrcode.make(text, image_factory=PyPNGImage, box_size=6, border=2).save(buf)
    return buf.getvalue()


def qr_data_url(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(text)).decode()


@dataclass
class ExportPeer:
    name: str
    public_key: str
    preshared_key: str | None
    allowed_ips: list[str]


def render_server(private_key: str, listen_port: int, addresses: list[str], mtu: int | None,
                  peers: list[ExportPeer]) -> str:
    lines = ["[Interface]", f"PrivateKey = {private_key}", f"ListenPort = {listen_port}"]
    if addresses:
        lines.append(f"Address = {', '.join(addresses)}")
    if mtu:
        lines.append(f"MTU = {mtu}")
    for peer in peers:
        lines += ["", f"# {peer.name}", "[Peer]", f"PublicKey = {peer.public_key}"]
        if peer.preshared_key:
            lines.append(f"PresharedKey = {peer.preshared_key}")
        lines.append(f"AllowedIPs = {', '.join(peer.allowed_ips)}")
    return "\n".join(lines) + "\n"


@dataclass
class ParsedPeer:
    public_key: str
    preshared_key: str | None = None
    allowed_ips: list[str] = field(default_factory=list)
    name: str | None = None


@dataclass
class ParsedServer:
    private_key: str = ""
    listen_port: int = 51820
    addresses: list[str] = field(default_factory=list)
    mtu: int | None = None
    dns: list[str] = field(default_factory=list)
    peers: list[ParsedPeer] = field(default_factory=list)


class ImportError_(ValueError):
    """A wg-quick file we will not adopt; the message names the line."""


def parse_server(text: str) -> ParsedServer:
    server = ParsedServer()
    section, pending_name = None, None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            pending_name = line[1:].strip() or None
            continue
        if line.lower() in ("[interface]", "[peer]"):
            section = line.lower()
            if section == "[peer]":
                server.peers.append(ParsedPeer(public_key="", name=pending_name))
            pending_name = None
            continue
        key, sep, value = line.partition("=")
        if not sep or section is None:
            raise ImportError_(f"line {number}: expected 'Key = value' inside a section")
        key, value = key.strip().lower(), value.split("#")[0].strip()
        try:
            _apply(server, section, key, value)
        except ValueError as exc:
            raise ImportError_(f"line {number}: {exc}") from None
    if not server.private_key:
        raise ImportError_("[Interface] has no PrivateKey")
    for peer in server.peers:
        if not peer.public_key:
            raise ImportError_("a [Peer] has no PublicKey")
    return server


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _apply(server: ParsedServer, section: str, key: str, value: str) -> None:
    if section == "[interface]":
        if key == "privatekey":
            server.private_key = v.public_key(value)
        elif key == "listenport":
            if not value.isdigit() or not 1 <= int(value) <= 65535:
                raise ValueError("ListenPort must be 1-65535")
            server.listen_port = int(value)
        elif key == "address":
            server.addresses += [str(ipaddress.ip_interface(a)) for a in _items(value)]
        elif key == "mtu":
            server.mtu = int(value)
        elif key == "dns":
            server.dns += v.ip_list([d for d in _items(value)], limit=16)
        # PostUp/PreDown/Table/SaveConfig are deliberately ignored: no shell hooks are adopted.
        return
    peer = server.peers[-1]
    if key == "publickey":
        peer.public_key = v.public_key(value)
    elif key == "presharedkey":
        peer.preshared_key = v.public_key(value)
    elif key == "allowedips":
        peer.allowed_ips += [str(ipaddress.ip_network(a, strict=False)) for a in _items(value)]
