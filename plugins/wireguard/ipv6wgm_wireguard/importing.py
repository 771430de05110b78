"""Adopting an existing wg-quick server: its peers become clients with their own keys.

The server never had those clients' private keys, so adopted clients are bring-your-own-key
clients; addresses come from each peer's AllowedIPs inside the server's networks, and one extra
routed network (if any) is kept as the client's routed prefix.
"""

from __future__ import annotations

import re

from ipv6wgm import validation as iv
from ipv6wgm_wireguard import service, validation
from ipv6wgm_wireguard.addressing import Network
from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer
from ipv6wgm_wireguard.peerconfig import ParsedServer


async def adopt(server: WireGuardServer, parsed: ParsedServer) -> tuple[int, list[str]]:
    nets = {4: Network.of(server.ipv4_address), 6: Network.of(server.ipv6_address)}
    count, skipped, seen, used = 0, [], set(), set()
    for number, peer in enumerate(parsed.peers, 1):
        if peer.public_key in seen:
            skipped.append(f"peer {number}: duplicate public key")
            continue
        seen.add(peer.public_key)
        fields: dict = {}
        extra = []
        for cidr in peer.allowed_ips:
            net = iv.ip_network(cidr)
            home = nets.get(net.version)
            if home is not None and net.prefixlen == net.max_prefixlen and net.network_address in home.net \
                    and f"ipv{net.version}_index" not in fields:
                index = int(net.network_address) - int(home.net.network_address)
                fields[f"ipv{net.version}_index"] = index
                fields[f"ipv{net.version}_address"] = home.address(index)
            else:
                extra.append(cidr)
        name = peer_name(peer.name, number)
        if name in used:
            name = f"peer-{number}"
        used.add(name)
        await WireGuardClient.create(
            server_id=server.id, name=name,
            public_key=peer.public_key, private_key_enc=None,
            preshared_key_enc=service.seal(peer.preshared_key, peer.public_key, "client-psk")
            if peer.preshared_key else None,
            allowed_ips=["0.0.0.0/0", "::/0"], delegated_prefix=extra[0] if extra else None, **fields)
        if len(extra) > 1:
            skipped.append(f"peer {number}: only one routed prefix adopted, dropped {extra[1:]}")
        count += 1
    return count, skipped


def peer_name(comment: str | None, number: int) -> str:
    """A client name from the ``# name`` comment above a peer, made to pass ``validation.name``
    (anything else becomes ``-``), or ``peer-<n>``."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", (comment or "")[:64])
    try:
        return validation.name(name) if name.strip("-") else f"peer-{number}"
    except ValueError:
        return f"peer-{number}"
