"""Whole-archive encryption: AES-256-GCM, the key derived from a passphrase by scrypt.

File layout: ``MAGIC | salt (16) | nonce (12) | key check (16) | ciphertext | tag (16)``. The
header is authenticated as associated data. The key check (an HMAC of a constant under the
derived key) lets a route refuse a wrong passphrase at once, before a job decrypts gigabytes;
it reveals nothing the tag would not. Encryption and decryption stream, so an archive never has
to fit in memory; decrypted bytes count only once the tag has been verified (``finish``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"IPV6WGM-BACKUP-AESGCM-1\n"
SALT, NONCE, CHECK, TAG = 16, 12, 16, 16
HEADER = len(MAGIC) + SALT + NONCE + CHECK
#: scrypt cost: 2^15 x 8 x 1 (32 MiB, ~0.1 s), the interactive-login recommendation.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
CHUNK = 1024 * 1024


class WrongPassphrase(ValueError):
    pass


class NotEncrypted(ValueError):
    pass


def derive(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase.encode())


def _check_value(key: bytes) -> bytes:
    return hmac.new(key, b"ipv6wgm-backup-key-check", hashlib.sha256).digest()[:CHECK]


def is_encrypted(path: os.PathLike[str] | str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(MAGIC)) == MAGIC


class EncryptingWriter:
    """A write-only file object: what is written is encrypted into ``out``; ``close`` adds the tag."""

    def __init__(self, out: BinaryIO, passphrase: str) -> None:
        salt, nonce = os.urandom(SALT), os.urandom(NONCE)
        key = derive(passphrase, salt)
        header = MAGIC + salt + nonce + _check_value(key)
        self._enc = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
        self._enc.authenticate_additional_data(header)
        self._out = out
        out.write(header)
        self.closed = False

    def write(self, data: bytes) -> int:
        self._out.write(self._enc.update(data))
        return len(data)

    def flush(self) -> None:
        self._out.flush()

    def close(self) -> None:
        if not self.closed:
            self._out.write(self._enc.finalize() + self._enc.tag)
            self.closed = True


def read_header(fh: BinaryIO) -> tuple[bytes, bytes, bytes, bytes]:
    header = fh.read(HEADER)
    if len(header) < HEADER or not header.startswith(MAGIC):
        raise NotEncrypted("not an encrypted archive")
    salt = header[len(MAGIC):len(MAGIC) + SALT]
    nonce = header[len(MAGIC) + SALT:len(MAGIC) + SALT + NONCE]
    return header, salt, nonce, header[-CHECK:]


def check_passphrase(path: os.PathLike[str] | str, passphrase: str) -> bytes:
    """The derived key if ``passphrase`` opens the archive at ``path``; else ``WrongPassphrase``."""
    with open(path, "rb") as fh:
        _, salt, _, check = read_header(fh)
    key = derive(passphrase, salt)
    if not hmac.compare_digest(_check_value(key), check):
        raise WrongPassphrase("wrong passphrase")
    return key


def decrypt_to(path: os.PathLike[str] | str, passphrase: str, out: BinaryIO) -> None:
    """Decrypt the archive at ``path`` into ``out``; ``WrongPassphrase`` if the key check or the
    tag fails (a wrong passphrase, or a corrupted or truncated file): ``out`` is then garbage."""
    key = check_passphrase(path, passphrase)
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        header, _, nonce, _ = read_header(fh)
        remaining = size - HEADER - TAG
        if remaining < 0:
            raise WrongPassphrase("the encrypted archive is truncated")
        dec = Cipher(algorithms.AES(key), modes.GCM(nonce)).decryptor()
        dec.authenticate_additional_data(header)
        while remaining > 0:
            chunk = fh.read(min(CHUNK, remaining))
            if not chunk:
                raise WrongPassphrase("the encrypted archive is truncated")
            remaining -= len(chunk)
            out.write(dec.update(chunk))
        tag = fh.read(TAG)
        try:
            out.write(dec.finalize_with_tag(tag))
        except (InvalidTag, ValueError):
            raise WrongPassphrase("the archive does not decrypt: it is corrupted or truncated") from None
