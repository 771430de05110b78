"""Rows → BIRD specs → the whole config tree.

Always the whole tree from the database (plus the IPv6 plugin's announced pool aggregates):
apply is then idempotent and order-free, and the supervisor's per-file diff plus BIRD's own
``configure`` keep a change to one row a change to one protocol.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from tortoise.expressions import Q

from ipv6wgm.runtime import current
from ipv6wgm_bgp import validation
from ipv6wgm_bgp.bird import AnnouncementSpec, SessionSpec, render_config
from ipv6wgm_bgp.models import BgpAnnouncement, BgpSession
from ipv6wgm_bgp.settings import bgp_settings, router_id

log = logging.getLogger(__name__)
T = TypeVar("T")

PASSWORD_AAD = "bgp:session:password"  # noqa: S105 - associated data, not a secret
POOL_ID_BASE = 1_000_000_000  # ids of pool aggregates in comments of the generated file


def seal_password(password: str) -> str:
    return current().secrets.encrypt(password, aad=PASSWORD_AAD)


def session_spec(row: BgpSession) -> SessionSpec:
    password = current().secrets.decrypt(row.password_enc, aad=PASSWORD_AAD) if row.password_enc else None
    return SessionSpec(
        name=row.name, neighbor=row.neighbor, remote_as=int(row.remote_as), local_as=int(row.local_as),
        password=password, description=row.description, source_address=row.source_address,
        hold_time=row.hold_time, multihop=row.multihop,
        import_limit=int(row.import_limit) if row.import_limit is not None else None,
        import_policy=row.import_policy,  # type: ignore[arg-type]
        enabled=bool(row.enabled),
    )


def announcement_spec(row: BgpAnnouncement) -> AnnouncementSpec:
    return AnnouncementSpec(
        id=row.id, prefix=row.prefix, next_hop=row.next_hop, as_path_prepend=validation.as_path(row.as_path or ""),
        communities=list(row.communities or []), large_communities=list(row.large_communities or []),
        enabled=bool(row.enabled),
    )


async def pool_prefixes() -> list[str]:
    """Aggregates of IPv6 pools flagged ``announce`` (empty without the IPv6 plugin).

    Must be called outside a write transaction: on SQLite the service's own query would wait
    for the transaction's lock.
    """
    service = current().services.get("ipv6.announcements")
    if service is None:
        return []
    try:
        return [str(p) for p in await service.prefixes()]
    except Exception:  # the IPv6 plugin's trouble must not stop our own sessions
        log.exception("ipv6.announcements.prefixes() failed; pool aggregates left out")
        return []


def pool_specs(prefixes: list[str], explicit: list[AnnouncementSpec]) -> list[AnnouncementSpec]:
    """One announcement per pool aggregate, unless an explicit enabled announcement has it."""
    taken = {a.prefix for a in explicit if a.enabled}
    out: list[AnnouncementSpec] = []
    for i, prefix in enumerate(prefixes):
        try:
            spec = AnnouncementSpec(POOL_ID_BASE + i, prefix)
        except ValueError:
            log.warning("pool aggregate %r is not a prefix; not announced", prefix)
            continue
        if spec.prefix not in taken:
            taken.add(spec.prefix)
            out.append(spec)
    return out


def on_node(node: str) -> Q:
    """The sessions a node's BIRD runs: those placed on it and those not placed (every node)."""
    return Q(node_id=None) | Q(node_id=node)


async def render_desired(prefixes: list[str] | None = None, conn: Any = None, *, strict: bool = True,
                         node: str | None = None) -> dict[str, str]:
    """The tree for the current rows (read through ``conn`` when inside a transaction).

    Raises ValueError ("field: why") when the rows cannot form a valid config. With
    ``strict=False`` (start-up, reconcile) a row that does not validate, such as one stored before
    a validation rule existed, is left out and logged instead: it never reaches BIRD, and it does
    not take every other session down with it. Writes stay strict, so such a row is refused
    (422) until it is fixed or deleted. ``node`` (default: this process's) is the node whose BIRD
    the tree is for: its own sessions and the unplaced ones.
    """
    node = node or current().settings.node_id
    sessions = BgpSession.filter(on_node(node)).order_by("id")
    anns = BgpAnnouncement.all().order_by("id")
    if conn is not None:
        sessions, anns = sessions.using_db(conn), anns.using_db(conn)
    session_specs = _specs(session_spec, await sessions, "session", strict)
    ann_specs = _specs(announcement_spec, await anns, "announcement", strict)
    if prefixes is None:
        prefixes = await pool_prefixes()
    settings = bgp_settings()
    rid = router_id(settings, node)
    return render_config(rid, session_specs, ann_specs + pool_specs(prefixes, ann_specs),
                         settings.extra_includes)


def _specs(build: Callable[[Any], T], rows: list[Any], what: str, strict: bool) -> list[T]:
    out: list[T] = []
    for row in rows:
        try:
            out.append(build(row))
        except ValueError as exc:
            if strict:
                raise
            log.error("BGP %s %s does not validate (%s); left out of BIRD until it is fixed", what, row.id, exc)
    return out
