"""Per-purpose keys derived from the one master secret (HKDF), so a JWT key leak says
nothing about the key that encrypts WireGuard private keys at rest and vice versa."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(master: bytes, purpose: str, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"ipv6wgm/v1", info=purpose.encode()).derive(
        master
    )
