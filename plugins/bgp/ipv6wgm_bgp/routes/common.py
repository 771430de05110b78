"""The write path shared by every /bgp route, and job calls mapped onto API errors.

A write is: change the rows inside a transaction, render the whole candidate tree from that
transaction's view, have the BIRD owner apply exactly that tree (``configure check`` first, so
a tree BIRD refuses changes nothing), and commit only when it was accepted. A refused tree
therefore rolls the change back and the API answers 422 with BIRD's message (the job's
``JobFailed``, mapped by the core's ``call_api`` like every other job failure). After the commit
a plain ``bgp.apply`` (rendered from the committed rows) is queued without waiting: it is a
no-op when nothing else changed, and converges BIRD should the commit itself have failed or
another process have written concurrently. One waited job per write keeps a change cheap when
the owner is a worker behind Redis. Writes in one process are serialized (the lock is in the
plugin's process state, ``owner.BgpState``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from ipv6wgm.api import conflict
from ipv6wgm.runtime import current
from ipv6wgm_bgp.jobs import value_error
from ipv6wgm_bgp.service import owner
from ipv6wgm_bgp.service.desired import pool_prefixes, render_desired
from ipv6wgm_bgp.settings import bgp_settings

log = logging.getLogger(__name__)
T = TypeVar("T")


async def run_job(name: str, *args: Any, node: str | None = None) -> dict[str, Any]:
    """Run ``bgp.<name>`` on the BIRD owner of ``node`` (default: this one) and wait; any
    failure is raised as the envelope."""
    return await current().jobs.call_api(f"bgp.{name}", *args, node=node, wait_s=bgp_settings().apply_timeout)


async def write(mutate: Callable[[Any], Awaitable[T]], node: str | None = None) -> T:
    """Run ``mutate(conn)`` in a transaction that commits only if BIRD accepts the result:
    the BIRD of ``node`` (a placed session's; default this node, whose reconcile other nodes
    follow for unplaced rows)."""
    prefixes = await pool_prefixes()  # before the transaction (see pool_prefixes)
    async with owner.state().write_lock:
        try:
            async with in_transaction() as conn:
                result = await mutate(conn)
                try:
                    files = await render_desired(prefixes, conn, node=node)
                except ValueError as exc:
                    raise value_error(exc) from None
                await run_job("apply_files", files, node=node)
        except IntegrityError:
            await _converge(node)
            raise conflict("name or prefix already taken") from None
        except BaseException:
            await _converge(node)  # e.g. a timed-out apply_files may still land: re-apply the rows
            raise
        await _converge(node)
    return result


async def _converge(node: str | None = None) -> None:
    try:
        await current().jobs.enqueue("bgp.apply", node=node)
    except Exception as exc:  # noqa: BLE001 - the reconcile cron converges anyway
        log.warning("could not queue bgp.apply: %s", exc)


async def refresh_state(node: str | None = None) -> None:
    """On-demand observation for GETs; best effort (the cron keeps it fresh anyway)."""
    try:
        await current().jobs.call("bgp.collect_state", node=node, wait_s=5)
    except Exception as exc:  # noqa: BLE001 - stale-by-seconds data is still an answer
        log.debug("on-demand bgp.collect_state failed: %s", exc)
