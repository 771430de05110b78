"""The write path shared by every /bgp route, and job calls mapped onto API errors.

A write is: change the rows inside a transaction, render the whole candidate tree from that
transaction's view, have the BIRD owner apply exactly that tree (``configure check`` first, so
a tree BIRD refuses changes nothing), and commit only when it was accepted. A refused tree
therefore rolls the change back and the API answers 422 with BIRD's message. After the commit
a plain ``bgp.apply`` (rendered from the committed rows) is queued without waiting: it is a
no-op when nothing else changed, and converges BIRD should the commit itself have failed or
another process have written concurrently. One waited job per write keeps a change cheap when
the owner is a worker behind Redis. Writes in one process are serialized.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from ipv6wgm.api import SERVICE_UNAVAILABLE, VALIDATION_ERROR, ApiError, conflict, invalid
from ipv6wgm.runtime import current
from ipv6wgm_bgp.service.desired import pool_prefixes, render_desired
from ipv6wgm_bgp.settings import bgp_settings

log = logging.getLogger(__name__)
T = TypeVar("T")
_write_lock = asyncio.Lock()
_CONFLICT_MARKERS = ("is used by", "collides with", "announced twice")


def value_error(exc: ValueError) -> ApiError:
    """The renderer's "field: why" → 409 for clashes between rows, 422 for a bad value."""
    text = str(exc)
    field, _, why = text.partition(": ")
    if not why:
        field, why = "body", text
    if any(m in why for m in _CONFLICT_MARKERS):
        return conflict(why, field=field)
    return invalid(field, why)


async def run_job(name: str, *args: Any, wait_s: float | None = None) -> dict[str, Any]:
    try:
        result = await current().jobs.call(f"bgp.{name}", *args, wait_s=wait_s or bgp_settings().apply_timeout)
    except TimeoutError:
        raise ApiError(503, SERVICE_UNAVAILABLE, f"bgp.{name}: the BIRD owner did not answer in time") from None
    except ConnectionError as exc:
        raise ApiError(503, SERVICE_UNAVAILABLE, f"job queue unavailable: {exc}") from None
    return result if isinstance(result, dict) else {"ok": False, "reason": "unavailable", "message": repr(result)}


def raise_for(result: dict[str, Any], *, saved: bool) -> None:
    if result.get("ok"):
        return
    message = str(result.get("message", ""))[:2000]
    if result.get("reason") == "config":
        raise ApiError(422, VALIDATION_ERROR, "BIRD rejected the configuration",
                       {"field": "config", "message": message, "bird_code": result.get("code"), "saved": saved})
    if result.get("reason") == "invalid":
        raise value_error(ValueError(message))
    what = "saved, but BIRD could not apply it yet (retried by the reconcile job)" if saved else "BIRD unavailable"
    raise ApiError(503, SERVICE_UNAVAILABLE, f"{what}: {message}", {"saved": saved})


async def write(mutate: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``mutate(conn)`` in a transaction that commits only if BIRD accepts the result."""
    prefixes = await pool_prefixes()  # before the transaction (see pool_prefixes)
    async with _write_lock:
        try:
            async with in_transaction() as conn:
                result = await mutate(conn)
                try:
                    files = await render_desired(prefixes, conn)
                except ValueError as exc:
                    raise value_error(exc) from None
                raise_for(await run_job("apply_files", files), saved=False)
        except IntegrityError:
            await _converge()
            raise conflict("name or prefix already taken") from None
        except BaseException:
            await _converge()  # e.g. a timed-out apply_files may still land: re-apply the rows
            raise
        await _converge()
    return result


async def _converge() -> None:
    try:
        await current().jobs.enqueue("bgp.apply")
    except Exception as exc:  # noqa: BLE001 - the reconcile cron converges anyway
        log.warning("could not queue bgp.apply: %s", exc)


async def refresh_state() -> None:
    """On-demand observation for GETs; best effort (the cron keeps it fresh anyway)."""
    try:
        await current().jobs.call("bgp.collect_state", wait_s=5)
    except Exception as exc:  # noqa: BLE001 - stale-by-seconds data is still an answer
        log.debug("on-demand bgp.collect_state failed: %s", exc)
