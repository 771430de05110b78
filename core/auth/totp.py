"""The optional TOTP second factor: enrolment, verification (with replay refusal) and
single-use recovery codes. ``POST /auth/login`` (and so the web UI's login) asks for it once a
user has enabled it."""

from __future__ import annotations

import hashlib
import secrets
import time

import pyotp
from tortoise.transactions import in_transaction

from ipv6wgm import SERVICE_NAME
from ipv6wgm.api import utcnow
from ipv6wgm.auth.models import UserTotp
from ipv6wgm.runtime import current

STEP_S = 30
RECOVERY_CODES = 10


def _aad(user_id: int) -> str:
    return f"core:totp:{user_id}"


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).hexdigest()


async def enabled(user_id: int) -> bool:
    return await UserTotp.filter(user_id=user_id, enabled_at__isnull=False).exists()


async def begin(user: object) -> dict[str, str]:
    """A new secret, waiting for its first code (replaces a pending one; an enabled factor
    must be disabled first)."""
    user_id = int(user.id)  # type: ignore[attr-defined]
    secret = pyotp.random_base32()
    sealed = current().secrets.encrypt(secret, aad=_aad(user_id))
    await UserTotp.filter(user_id=user_id, enabled_at__isnull=True).delete()
    await UserTotp.create(user_id=user_id, secret_enc=sealed)
    uri = pyotp.TOTP(secret).provisioning_uri(name=str(user.username), issuer_name=SERVICE_NAME)  # type: ignore[attr-defined]
    return {"secret": secret, "otpauth_uri": uri}


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to (this one or a neighbour: clocks drift), else None."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    for offset in (0, -1, 1):
        at = now + offset * STEP_S
        if secrets.compare_digest(totp.at(at), code):
            return int(at // STEP_S)
    return None


async def enable(user_id: int, code: str) -> list[str] | None:
    """Turn the pending factor on with its first code; returns the recovery codes (shown once)."""
    row = await UserTotp.filter(user_id=user_id, enabled_at__isnull=True).order_by("-id").first()
    if row is None:
        return None
    step = _matching_step(current().secrets.decrypt(row.secret_enc, aad=_aad(user_id)), code)
    if step is None:
        return None
    codes = ["-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(RECOVERY_CODES)]
    await UserTotp.filter(user_id=user_id).exclude(id=row.id).delete()
    await UserTotp.filter(id=row.id).update(enabled_at=utcnow(), last_step=step,
                                            recovery_hashes=[_hash(c) for c in codes])
    return codes


async def verify(user_id: int, code: str | None) -> bool:
    """A current code not used before, or an unused recovery code (which is then spent)."""
    if not code or len(code) > 32:
        return False
    row = await UserTotp.filter(user_id=user_id, enabled_at__isnull=False).first()
    if row is None:
        return False
    step = _matching_step(current().secrets.decrypt(row.secret_enc, aad=_aad(user_id)), code)
    if step is not None:  # only a later step than the last accepted one: a code works once
        return await UserTotp.filter(id=row.id, last_step__lt=step).update(last_step=step) == 1
    digest = _hash(code)
    async with in_transaction() as conn:  # the row locked: two logins cannot spend one code
        locked = await UserTotp.filter(id=row.id).using_db(conn).select_for_update().first()
        remaining = list(locked.recovery_hashes or []) if locked else []
        if digest not in remaining:
            return False
        remaining.remove(digest)
        await UserTotp.filter(id=row.id).using_db(conn).update(recovery_hashes=remaining)
    return True


async def disable(user_id: int) -> bool:
    return await UserTotp.filter(user_id=user_id).delete() > 0
