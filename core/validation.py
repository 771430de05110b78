"""Input primitives every plugin's validation module builds on.

Two rules, learnt the hard way:

- ``ipaddress`` accepts an IPv6 zone id (``fe80::1%eth0``) and ``str()`` keeps whatever follows
  the ``%``, newlines included; so addresses are parsed here with zone ids refused and returned
  in canonical form.
- ``re.match(r"^…$")`` lets a trailing ``\\n`` through; patterns are applied with ``fullmatch``.

``render_safe`` is the renderers' last line of defence: a value with a line break or a control
character raises ``UnsafeValue`` (it is never escaped), so a bug in validation cannot turn into
an extra section of a config file.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface

# Cc control, Cf format (bidi overrides, zero-width), Zl/Zp line and paragraph separators,
# Co/Cs/Cn private-use, surrogates and unassigned: none belongs in a name or a config value.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})
# The address grammar: digits, hex, dots, colons and one optional "/len". No "%" (zone id), no
# spaces, nothing else; ipaddress then decides whether it is a valid address.
_ADDRESS_CHARS = re.compile(r"[0-9A-Fa-f.:]{2,45}")
_PREFIX_CHARS = re.compile(r"[0-9A-Fa-f.:]{2,45}/[0-9]{1,3}")


class UnsafeValue(ValueError):
    """A renderer was handed a value that could break out of its line or field."""


def unsafe_char(value: str) -> str | None:
    """The first character of ``value`` that must never reach a file, a header or the kernel."""
    if value.isascii() and value.isprintable():  # in ASCII only Cc is unsafe, which isprintable() refuses
        return None
    for char in value:
        if unicodedata.category(char) in _UNSAFE_CATEGORIES:
            return char
    return None


def text(value: str, *, max_len: int = 255, min_len: int = 0, field: str = "value") -> str:
    """Free text (descriptions, full names): bounded, no control or line-breaking characters."""
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string")
    if not min_len <= len(value) <= max_len:
        raise ValueError(f"{field} must be {min_len}-{max_len} characters")
    bad = unsafe_char(value)
    if bad is not None:
        raise ValueError(f"{field} contains a control or line-breaking character (U+{ord(bad):04X})")
    return value


def matches(pattern: re.Pattern[str], value: str, message: str) -> str:
    """``pattern.fullmatch`` or ``ValueError(message)``: never ``match`` with ``$``."""
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise ValueError(message)
    return value


def ip_address(value: str, *, version: int | None = None) -> IPAddress:
    """A single address in canonical form; zone ids, spaces and prefixes are refused."""
    if not isinstance(value, str) or _ADDRESS_CHARS.fullmatch(value) is None:
        raise ValueError(f"{value!r} is not an IP address (zone ids and spaces are not allowed)")
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address") from None
    if version is not None and address.version != version:
        raise ValueError(f"{value!r} is not an IPv{version} address")
    return address


def ip_network(value: str, *, strict: bool = True, version: int | None = None) -> IPNetwork:
    """``addr/len`` as a network; ``strict`` refuses host bits (``10.0.0.1/24``)."""
    if not isinstance(value, str) or _PREFIX_CHARS.fullmatch(value) is None:
        raise ValueError(f"{value!r} is not a network like 10.0.0.0/24 or 2001:db8::/32")
    try:
        network = ipaddress.ip_network(value, strict=strict)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid network: {exc}") from None
    if version is not None and network.version != version:
        raise ValueError(f"{value!r} is not an IPv{version} network")
    return network


def ip_interface(value: str, *, version: int | None = None) -> IPInterface:
    """``addr/len`` keeping the host part (an interface address)."""
    if not isinstance(value, str) or _PREFIX_CHARS.fullmatch(value) is None:
        raise ValueError(f"{value!r} is not an address with prefix length, e.g. 10.0.0.1/24")
    try:
        iface = ipaddress.ip_interface(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an address with prefix length") from None
    if version is not None and iface.version != version:
        raise ValueError(f"{value!r} is not an IPv{version} address")
    return iface


def render_safe(value: object, *, what: str = "value") -> str:
    """For renderers: ``str(value)`` if it holds no line break or control character, else raise."""
    rendered = str(value)
    bad = unsafe_char(rendered)
    if bad is not None:
        raise UnsafeValue(f"refusing to render {what}: it contains U+{ord(bad):04X}")
    return rendered


def render_all(values: Iterable[object], *, what: str = "value") -> list[str]:
    return [render_safe(v, what=what) for v in values]
