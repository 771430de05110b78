"""Argon2id hashing in a bounded thread pool.

argon2-cffi costs 64 MiB and tens of milliseconds per hash: off the event loop, and at most a
few at once so a login flood cannot exhaust memory. Unknown users verify against a dummy hash
so response time does not reveal which usernames exist.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")
_dummy_hash = _hasher.hash("dummy password for unknown users")

MIN_LENGTH = 8
MAX_LENGTH = 128


def check_policy(password: str) -> str | None:
    """Return why a password is unacceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"password must be at most {MAX_LENGTH} characters"
    if password.strip(" ") == "" or any(ord(c) < 32 or ord(c) == 127 for c in password):
        return "password must not be blank or contain control characters"
    return None


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_pool, _hasher.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy_hash, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_pool, _verify, stored, password)
