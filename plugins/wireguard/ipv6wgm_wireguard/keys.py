"""Curve25519 key handling for WireGuard.

Keys travel as base64 everywhere in the product (database, API, wg-quick files) but the
userspace UAPI wants lowercase hex, so both directions live here next to the one strict
validator: a key that reaches a data plane must be exactly 32 bytes, canonical base64.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

KEY_LEN = 32
# 43 base64 chars + one "=": the only shape a 32-byte key can take. Checking the shape first
# rejects whitespace/newlines, which b64decode would otherwise silently skip.
_B64_KEY_RE = re.compile(r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$")
_HEX_KEY_RE = re.compile(r"^[0-9a-f]{64}$")


def validate_key(value: str) -> str:
    """Return ``value`` if it is a canonical base64 32-byte key, else raise ValueError."""
    if not isinstance(value, str) or not _B64_KEY_RE.fullmatch(value):
        raise ValueError("invalid WireGuard key: expected 44 characters of base64 (32 bytes)")
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as exc:  # pragma: no cover - regex already guarantees validity
        raise ValueError("invalid WireGuard key: bad base64") from exc
    if len(raw) != KEY_LEN:  # pragma: no cover - regex already guarantees the length
        raise ValueError("invalid WireGuard key: expected 32 bytes")
    return value


def generate_private_key() -> str:
    """A new private key, clamped by the X25519 implementation as WireGuard expects."""
    raw = X25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode("ascii")


def public_key_from_private(priv: str) -> str:
    raw = base64.b64decode(validate_key(priv))
    pub = X25519PrivateKey.from_private_bytes(raw).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(pub).decode("ascii")


def generate_preshared_key() -> str:
    """A preshared key is just 32 random bytes; it is not a curve point."""
    return base64.b64encode(os.urandom(KEY_LEN)).decode("ascii")


def key_to_hex(value: str) -> str:
    """Base64 key → the lowercase hex form the UAPI expects."""
    return base64.b64decode(validate_key(value)).hex()


def hex_to_key(value: str) -> str:
    """UAPI hex key → base64. Strict so a garbled reply cannot become a bogus peer."""
    if not _HEX_KEY_RE.fullmatch(value):
        raise ValueError("invalid hex WireGuard key")
    return base64.b64encode(bytes.fromhex(value)).decode("ascii")


def is_zero_key(value: str) -> bool:
    """An all-zero key is how both UAPI and netlink say "no preshared key"."""
    return base64.b64decode(value) == bytes(KEY_LEN)
