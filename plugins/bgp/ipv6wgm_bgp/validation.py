"""Every value a caller can put into a BIRD file, checked in one place.

The request schemas (422 before anything is stored) and the renderer's specs (the last check
before a file is written) call the same functions, so the API refuses exactly what the renderer
would. Built on ``ipv6wgm.validation``: zone ids refused (``2001:db8::1%x\\n}`` would otherwise
survive ``str()`` and end the ``neighbor`` line), ``fullmatch`` only, no control or
line-breaking characters, bounded lengths, and canonical forms returned so that what is stored
is what is rendered.

Every error is ``ValueError("<field>: <why>")``; callers map the field name onto the envelope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ipv6wgm import validation as core

__all__ = [
    "MAX_AS_PATH",
    "MAX_COMMUNITIES",
    "U16",
    "U32",
    "address",
    "as_path",
    "as_path_text",
    "asn",
    "bounded_int",
    "communities",
    "community",
    "community_text",
    "include_path",
    "name",
    "password",
    "prefix",
    "router_id",
    "split_communities",
    "text",
]

U16 = 0xFFFF
U32 = 0xFFFFFFFF
MAX_AS_PATH = 32
MAX_COMMUNITIES = 32
NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
# Printable ASCII without the two characters that end or escape a BIRD string.
PASSWORD = re.compile(r"[ !#-\[\]-~]{1,80}")
STD_COMMUNITY = re.compile(r"([0-9]{1,5}):([0-9]{1,5})")
LARGE_COMMUNITY = re.compile(r"([0-9]{1,10}):([0-9]{1,10}):([0-9]{1,10})")
# Lists typed as one string: ASNs or communities separated by spaces and/or commas.
AS_PATH = re.compile(r"[0-9]{1,10}(?:[ ,]+[0-9]{1,10})*")
COMMUNITY_LIST = re.compile(r"[0-9:]{3,32}(?:[ ,]+[0-9:]{3,32})*")
_SEPARATORS = re.compile(r"[ ,]+")


def _fail(field: str, why: str) -> ValueError:
    return ValueError(f"{field}: {why}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def name(value: object, field: str = "name") -> str:
    """A session name: it becomes a BIRD symbol (``wgm_<name>``) and a file name."""
    if not isinstance(value, str) or NAME.fullmatch(value) is None:
        raise _fail(field, f"must be 1-64 letters, digits or underscores, got {value!r}")
    return value


_NODE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def node_id(value: object, field: str = "node_id") -> str:
    """The node whose BIRD runs a session (``IPV6WGM_NODE_ID``'s syntax)."""
    if not isinstance(value, str) or _NODE_ID.fullmatch(value) is None:
        raise _fail(field, f"must be 1-64 letters, digits, '_', '.' or '-', got {value!r}")
    return value


def asn(value: object, field: str) -> int:
    if not _is_int(value) or not 1 <= value <= U32:  # type: ignore[operator]
        raise _fail(field, f"ASN must be an integer 1-4294967295, got {value!r}")
    return value  # type: ignore[return-value]


def bounded_int(value: object, field: str, lo: int, hi: int) -> int | None:
    if value is None:
        return None
    if not _is_int(value) or not lo <= value <= hi:  # type: ignore[operator]
        raise _fail(field, f"must be an integer {lo}-{hi}, got {value!r}")
    return value  # type: ignore[return-value]


def address(value: object, field: str) -> core.IPAddress:
    """A neighbor, source address or next hop, canonical. Link-local IPv6 is refused: it needs
    an interface scope, which is exactly the zone id this module exists to keep out."""
    if not isinstance(value, str):
        raise _fail(field, "must be an IP address string")
    try:
        addr = core.ip_address(value)
    except ValueError as exc:
        raise _fail(field, str(exc)) from None
    if addr.is_unspecified or addr.is_multicast:
        raise _fail(field, "unspecified and multicast addresses are not allowed")
    if addr.version == 6 and addr.is_link_local:
        raise _fail(field, "IPv6 link-local addresses are not supported")
    return addr


def prefix(value: object, field: str = "prefix") -> core.IPNetwork:
    """A prefix with host bits zero (``192.0.2.1/24`` is refused, not truncated)."""
    if not isinstance(value, str):
        raise _fail(field, "must be a prefix string")
    try:
        return core.ip_network(value, strict=True)
    except ValueError as exc:
        raise _fail(field, f"not a prefix with host bits zero: {exc}") from None


def router_id(value: object, field: str = "router_id") -> str:
    if not isinstance(value, str):
        raise _fail(field, "must be an IPv4 address")
    try:
        return str(core.ip_address(value, version=4))
    except ValueError:
        raise _fail(field, f"must be an IPv4 address, got {value!r}") from None


def text(value: object, field: str, max_len: int = 255) -> str:
    """Text written inside a BIRD string (``description "…"``): one line, no quote, no
    backslash, no control or line-breaking character."""
    try:
        core.text(value, min_len=1, max_len=max_len, field=field)  # type: ignore[arg-type]
    except ValueError as exc:
        raise _fail(field, str(exc).removeprefix(f"{field} ")) from None
    assert isinstance(value, str)
    if '"' in value or "\\" in value:
        raise _fail(field, "quotes and backslashes are not allowed")
    return value


def password(value: object, field: str = "password") -> str:
    """A TCP-MD5 key: printable ASCII (both ends must type it), 1-80 characters."""
    if not isinstance(value, str) or PASSWORD.fullmatch(value) is None:
        raise _fail(field, "must be 1-80 printable ASCII characters without quotes or backslashes")
    return value


def include_path(value: object, field: str = "extra_includes") -> str:
    path = text(value, field, max_len=4096)
    if not path.startswith("/"):
        raise _fail(field, "paths must be absolute")
    return path


def community(value: object, field: str, large: bool) -> str:
    """``a:b`` (16-bit parts) or, ``large``, ``a:b:c`` (32-bit parts), in canonical form."""
    pattern, hi = (LARGE_COMMUNITY, U32) if large else (STD_COMMUNITY, U16)
    m = pattern.fullmatch(value) if isinstance(value, str) else None
    if m is None or any(int(part) > hi for part in m.groups()):
        shape = "a:b:c with each part 0-4294967295" if large else "a:b with each part 0-65535"
        raise _fail(field, f"{value!r} is not a community of the form {shape}")
    return ":".join(str(int(p)) for p in m.groups())


def communities(values: object, field: str, large: bool) -> tuple[str, ...]:
    """A list of communities, canonical and without duplicates, in the given order."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise _fail(field, "must be a list of strings")
    out: list[str] = []
    for v in values:
        canon = community(v, field, large)
        if canon not in out:
            out.append(canon)
    if len(out) > MAX_COMMUNITIES:
        raise _fail(field, f"at most {MAX_COMMUNITIES} communities")
    return tuple(out)


def _list_text(value: object, pattern: re.Pattern[str], field: str, what: str) -> list[str]:
    if not isinstance(value, str):
        raise _fail(field, "must be a string")
    core_checked = text(value, field, max_len=400) if value else ""
    stripped = core_checked.strip(" ,")
    if not stripped:
        return []
    if pattern.fullmatch(stripped) is None:
        raise _fail(field, f"must be {what} separated by spaces or commas")
    return _SEPARATORS.split(stripped)


def as_path(value: object, field: str = "as_path") -> tuple[int, ...]:
    """``"65000 65000"`` → ``(65000, 65000)``: the ASNs put after ours, in order."""
    parts = _list_text(value, AS_PATH, field, "ASNs")
    if len(parts) > MAX_AS_PATH:
        raise _fail(field, f"at most {MAX_AS_PATH} ASNs")
    return tuple(asn(int(p), field) for p in parts)


def as_path_text(value: object, field: str = "as_path") -> str:
    return " ".join(str(a) for a in as_path(value, field))


def split_communities(value: object, field: str = "community") -> tuple[list[str], list[str]]:
    """The spec's single ``community`` string: ``a:b`` and ``a:b:c`` separated by spaces."""
    std: list[str] = []
    large: list[str] = []
    for part in _list_text(value, COMMUNITY_LIST, field, "communities a:b or a:b:c"):
        is_large = part.count(":") == 2
        canon = community(part, field, is_large)
        target = large if is_large else std
        if canon not in target:
            target.append(canon)
    if len(std) > MAX_COMMUNITIES or len(large) > MAX_COMMUNITIES:
        raise _fail(field, f"at most {MAX_COMMUNITIES} communities of each kind")
    return std, large


def community_text(value: object, field: str = "community") -> str:
    std, large = split_communities(value, field)
    if not std and not large:
        raise _fail(field, "give at least one community a:b or a:b:c")
    return " ".join(std + large)
