"""AES-256-GCM for secrets stored in the database (WireGuard keys, BGP passwords).

The associated data binds a ciphertext to its row and column (e.g. ``wireguard.client:7:psk``)
so a ciphertext copied into another row does not decrypt.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ipv6wgm.security.keys import derive_key

PREFIX = "v1:"


class SecretBox:
    def __init__(self, master: bytes) -> None:
        self._aead = AESGCM(derive_key(master, "secrets-at-rest"))

    def encrypt(self, plaintext: str, aad: str = "") -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), aad.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, aad: str = "") -> str:
        if not token.startswith(PREFIX):
            raise ValueError("not an encrypted value")
        raw = base64.urlsafe_b64decode(token[len(PREFIX):])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], aad.encode()).decode()
        except InvalidTag as exc:
            raise ValueError("secret does not decrypt with this key") from exc
