"""wg-quick text: client configs (and their QR codes), server export, and import parsing.

A wg-quick file is an export and import format only; the database stays the source of truth.
The renderers pass every value through ``render_safe``: a value with a line break or a control
character raises ``UnsafeValue`` (never escaped), so a validation gap cannot become an extra
``[Interface]`` or ``PostUp`` line in a file that wg-quick runs as root. The import parser
reads with the same module the API uses, and refuses what wg-quick would read differently.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass, field

from ipv6wgm.validation import UnsafeValue, render_all, render_safe
from ipv6wgm_wireguard import qrcodes
from ipv6wgm_wireguard import validation as v

SECRET_OMITTED = "<omitted: needs the wireguard.servers.secrets permission>"  # noqa: S105 - a placeholder


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
    endpoint_source: str | None = None  # said in a comment: which setting the endpoint came from


def _line(key: str, value: object) -> str:
    return f"{key} = {render_safe(value, what=key)}"


def _list(key: str, values: Iterable[object]) -> str:
    return f"{key} = {', '.join(render_all(values, what=key))}"


def render_client(cfg: ClientConfig) -> str:
    lines = ["[Interface]"]
    if cfg.private_key:
        lines.append(_line("PrivateKey", cfg.private_key))
    else:
        lines.append("# PrivateKey = <the private key that belongs to this client's public key;"
                     " this server never held it>")
    if cfg.addresses:
        lines.append(_list("Address", cfg.addresses))
    if cfg.dns:
        lines.append(_list("DNS", cfg.dns))
    if cfg.mtu:
        lines.append(_line("MTU", int(cfg.mtu)))
    if cfg.delegated_prefix:
        lines.append(f"# Routed prefix delegated to this client: {render_safe(cfg.delegated_prefix, what='prefix')}")
    lines += ["", "[Peer]", _line("PublicKey", cfg.server_public_key)]
    if cfg.preshared_key:
        lines.append(_line("PresharedKey", cfg.preshared_key))
    if cfg.endpoint_source:
        lines.append(f"# Endpoint from {render_safe(cfg.endpoint_source, what='endpoint source')}")
    lines.append(_line("Endpoint", cfg.endpoint))
    if cfg.allowed_ips:
        lines.append(_list("AllowedIPs", cfg.allowed_ips))
    if cfg.persistent_keepalive:
        lines.append(_line("PersistentKeepalive", int(cfg.persistent_keepalive)))
    return "\n".join(lines) + "\n"


def check_lines(text: str) -> str:
    """A rendered file, checked line by line (a QR payload is one, too)."""
    for number, line in enumerate(text.split("\n"), 1):
        render_safe(line, what=f"line {number}")
    return text


def qr_png(text: str) -> bytes:
    """The config as a QR code (comments left out); ``qrcodes.QrTooLarge`` if it cannot be one."""
    return qrcodes.png_of_config(check_lines(text))


def qr_data_url(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(text)).decode()


@dataclass
class ExportPeer:
    name: str
    public_key: str
    preshared_key: str | None  # None: none, or withheld (see has_preshared_key)
    allowed_ips: list[str]
    has_preshared_key: bool = False


def render_server(private_key: str | None, listen_port: int, addresses: list[str], mtu: int | None,
                  peers: list[ExportPeer], *, with_secrets: bool = True) -> str:
    """The server as wg-quick text; without ``with_secrets`` the private and preshared keys are
    commented placeholders (the file still parses, it just cannot bring the interface up)."""
    lines = ["[Interface]"]
    lines.append(_line("PrivateKey", private_key) if with_secrets and private_key
                 else f"# PrivateKey = {SECRET_OMITTED}")
    lines.append(_line("ListenPort", int(listen_port)))
    if addresses:
        lines.append(_list("Address", addresses))
    if mtu:
        lines.append(_line("MTU", int(mtu)))
    for peer in peers:
        lines += ["", f"# {render_safe(peer.name, what='peer name')}", "[Peer]", _line("PublicKey", peer.public_key)]
        if with_secrets and peer.preshared_key:
            lines.append(_line("PresharedKey", peer.preshared_key))
        elif peer.has_preshared_key or peer.preshared_key:
            lines.append(f"# PresharedKey = {SECRET_OMITTED}")
        if peer.allowed_ips:
            lines.append(_list("AllowedIPs", peer.allowed_ips))
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


# wg-quick's own keys (shell hooks, routing table, save-on-exit) are never adopted.
_IGNORED = {"[interface]": {"postup", "postdown", "preup", "predown", "table", "saveconfig", "fwmark"},
            "[peer]": {"endpoint", "persistentkeepalive"}}


def _lines(text: str) -> Iterable[tuple[int, str]]:
    """Lines as wg-quick sees them: split on LF only. Anything else that some reader would take
    as a line break (CR inside a line, U+2028, U+0085, form feed...) or any other control
    character is refused, so this parser and wg-quick can never disagree about the lines."""
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw[:-1] if raw.endswith("\r") else raw
        try:
            render_safe(line.replace("\t", " "), what=f"line {number}")
        except UnsafeValue as exc:
            raise ImportError_(str(exc)) from None
        yield number, line.replace("\t", " ").strip()


def parse_server(text: str) -> ParsedServer:
    server = ParsedServer()
    section, pending_name, seen_interface = None, None, False
    for number, line in _lines(text):
        if not line:
            continue
        if line.startswith("#"):
            pending_name = line[1:].strip() or None
            continue
        if line.startswith("["):
            section = line.lower()
            if section not in ("[interface]", "[peer]"):
                raise ImportError_(f"line {number}: unknown section {line[:32]!r}")
            if section == "[interface]":
                if seen_interface:
                    raise ImportError_(f"line {number}: a second [Interface] section")
                seen_interface = True
            else:
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
    if key in _IGNORED[section]:
        return
    if section == "[interface]":
        if key == "privatekey":
            server.private_key = v.public_key(value)
        elif key == "listenport":
            server.listen_port = v.integer(value, 1, 65535, "ListenPort")
        elif key == "address":
            server.addresses += [v.interface_address(a) for a in _items(value)]
        elif key == "mtu":
            server.mtu = v.integer(value, 1280, 9000, "MTU")
        elif key == "dns":
            server.dns += v.ip_list(_items(value), limit=16)
        else:
            raise ValueError(f"unknown [Interface] key {key[:32]!r}")
        return
    peer = server.peers[-1]
    if key == "publickey":
        peer.public_key = v.public_key(value)
    elif key == "presharedkey":
        peer.preshared_key = v.key(value)
    elif key == "allowedips":
        peer.allowed_ips += [v.network(a) for a in _items(value)]
    else:
        raise ValueError(f"unknown [Peer] key {key[:32]!r}")
