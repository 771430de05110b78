"""Periodic jobs ("crons"): their scope, the intervals every runner keeps exactly, the arq form.

Two runners execute crons: the embedded loop (no Redis, inside the server process) and arq
(one worker per node). arq schedules on the clock (sets of seconds, minutes or hours), so only
an interval that divides a minute, an hour or a day can be kept exactly. Any other value would
run at one rate embedded and at another under arq (25 s became 30 s), so it is refused where it
enters: at registration and in the settings that feed intervals (``CronInterval``).

Scope says where a cron runs once a cluster has several nodes:
- ``node``: it acts on this node's data plane (reconcile, stats, BIRD state, the node's
  status); every node runs it on every tick.
- ``cluster``: it acts on shared rows (sweeps, pruning); one run per tick across the cluster.

Who runs a cluster tick: when a plugin registers the service ``LEADERSHIP_SERVICE`` (the
cluster plugin does), every node queues the tick and only the holder of the leader lease runs
it, under its epoch (``ctx["leader_epoch"]``, the fencing token). Without it, the first worker
to queue the tick wins through arq's unique job key, as before.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any, Literal, Protocol

from pydantic import AfterValidator

Scope = Literal["node", "cluster"]
SCOPES: tuple[str, ...] = ("node", "cluster")

_SECONDS = tuple(d for d in range(1, 60) if 60 % d == 0)
_MINUTES = tuple(d for d in range(1, 60) if 60 % d == 0)
_HOURS = tuple(d for d in range(1, 25) if 24 % d == 0)
#: Every interval (seconds) that both runners keep exactly.
ALLOWED_INTERVALS: tuple[int, ...] = (*_SECONDS, *(60 * m for m in _MINUTES), *(3600 * h for h in _HOURS))


def _list(values: tuple[int, ...]) -> str:
    return ", ".join(map(str, values))


INTERVAL_HELP = (f"{_list(_SECONDS)} s, {_list(_MINUTES)} min or {_list(_HOURS)} h "
                 "(a divisor of a minute, an hour or a day)")


def check_interval(every: int) -> int:
    """``every`` if both runners can keep it exactly; else ValueError saying what is accepted."""
    if every not in ALLOWED_INTERVALS:
        raise ValueError(f"a cron interval must be one of {INTERVAL_HELP}; got {every} s")
    return every


#: For settings that feed a cron interval: ``reconcile_interval: CronInterval = Field(15, ...)``.
CronInterval = Annotated[int, AfterValidator(check_interval)]


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise ValueError(f"a cron scope must be 'node' or 'cluster'; got {scope!r}")
    return scope


def cron_times(every: int) -> dict[str, Any]:
    """The arq calendar (second/minute/hour sets) for "every N seconds"."""
    check_interval(every)
    if every < 60:
        return {"second": set(range(0, 60, every))}
    if every < 3600:
        return {"minute": set(range(0, 60, every // 60)), "second": 0}
    return {"hour": set(range(0, 24, every // 3600)), "minute": 0, "second": 0}


def arq_cron_name(name: str, scope: str, *, prefix: str, node_id: str) -> str:
    """The arq name of a cron, which is also the stem of its per-tick job id.

    arq de-duplicates a cron tick by the job id ``cron:…:<ms>`` under a key shared by every
    queue on the Redis server. A node cron carries the node id, so each node's tick is its own
    job; a cluster cron does not, so the first worker to queue the tick wins and the others'
    attempts are dropped. The installation prefix keeps two installations on one Redis apart.
    """
    check_scope(scope)
    return f"cron:{prefix}:{node_id}:{name}" if scope == "node" else f"cron:{prefix}:{name}"


def tick_of(epoch_s: float, every: int) -> int:
    """The scheduled tick (epoch seconds, a multiple of ``every``) a run at ``epoch_s`` belongs to."""
    return int(epoch_s // every) * every


#: The service key (``register_services`` name ``leadership`` of the ``cluster`` plugin).
LEADERSHIP_SERVICE = "cluster.leadership"


class Leadership(Protocol):
    """What the cron runners need from a leader election (see ``LEADERSHIP_SERVICE``)."""

    async def claim_tick(self, name: str, tick: int, every: int) -> int | None:
        """The epoch under which this process runs tick ``tick`` of cluster cron ``name``, or
        None when another process runs it (or already ran it)."""

    def fenced(self, epoch: int) -> AbstractAsyncContextManager[Any]:
        """A transaction that holds only while ``epoch`` is still the current lease; entering it
        raises ``ipv6wgm.jobs.JobFailed`` (step ``fencing``) for a stale leader."""
