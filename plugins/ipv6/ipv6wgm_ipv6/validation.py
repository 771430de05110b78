"""Every value a caller gives the IPv6 plugin, checked in one place.

Prefixes handed out here end up in WireGuard configs (``AllowedIPs``), kernel routes and BIRD
files; names, descriptions and holder tags in answers, events and logs. So: zone ids refused
(``ipaddress`` would keep ``%x\\n…`` in ``str()``), ``fullmatch`` only, no control or
line-breaking characters, bounded lengths, canonical text stored.

Syntax is checked here (422 naming the field); what depends on a pool's arithmetic (host bits
set, a length or a range that does not fit) is ``netmath``'s and answers 409.
"""

from __future__ import annotations

import re

from ipv6wgm import validation as core

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
# Opaque tags other plugins put on their allocations, such as ``wireguard.client:42``.
HOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}")
MAX_DESCRIPTION = 255
MAX_CLIENT_NAME = 128


def name(value: str) -> str:
    return core.matches(NAME, value, "a name is 1-64 letters, digits and _ . : -, starting with a letter or digit")


def holder(value: str) -> str:
    return core.matches(HOLDER, value, "a holder is 1-128 letters, digits and _ . : / -")


def description(value: str) -> str:
    return core.text(value, max_len=MAX_DESCRIPTION, field="description")


def client_name(value: str) -> str:
    return core.text(value, min_len=1, max_len=MAX_CLIENT_NAME, field="client_name")


def prefix_text(value: str) -> str:
    """An IPv6 ``address/length`` in canonical text. Host bits are kept: whether they may be
    set depends on the use (a reservation, a pool) and is decided by ``netmath``."""
    return str(core.ip_interface(value, version=6))
