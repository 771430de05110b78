"""/bgp/announcements: prefixes we originate, with next hop, prepends and communities."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import document_response, validate_querystring, validate_request

from ipv6wgm.api import Envelope, MessageEnvelope, conflict, invalid, not_found, ok, paginate
from ipv6wgm.security.rbac import require
from ipv6wgm_bgp.models import BgpAnnouncement
from ipv6wgm_bgp.routes.common import write
from ipv6wgm_bgp.schemas import (
    AnnouncementCreate,
    AnnouncementList,
    AnnouncementOut,
    AnnouncementQuery,
    AnnouncementUpdate,
)
from ipv6wgm_bgp.service.views import announcement_out
from ipv6wgm_bgp.validation import split_communities

bp = Blueprint("bgp_announcements", __name__)


async def _get(ann_id: int, conn: Any = None) -> BgpAnnouncement:
    qs = BgpAnnouncement.filter(id=ann_id)
    row = await (qs.using_db(conn) if conn is not None else qs).first()
    if row is None:
        raise not_found("BGP announcement")
    return row


async def _prefix_free(prefix: str, conn: Any, exclude: int | None = None) -> None:
    qs = BgpAnnouncement.filter(prefix=prefix).using_db(conn)
    if exclude is not None:
        qs = qs.exclude(id=exclude)
    if await qs.exists():
        raise conflict(f"{prefix} is already announced", field="prefix")


def _merge(std: list[str], large: list[str], community: str | None) -> tuple[list[str], list[str]]:
    extra_std, extra_large = split_communities(community) if community else ([], [])
    return list(dict.fromkeys(std + extra_std)), list(dict.fromkeys(large + extra_large))


def _family_check(prefix: str, next_hop: str | None) -> None:
    if next_hop is not None and (":" in prefix) != (":" in next_hop):
        raise invalid("next_hop", "must be of the same address family as prefix")


@bp.get("/announcements")
@require("bgp.announcements.read")
@validate_querystring(AnnouncementQuery)
@document_response(Envelope[AnnouncementList])
async def list_announcements(query_args: AnnouncementQuery):
    """Announcements (IPv6 pool aggregates are announced too but are managed as pools)."""
    qs = BgpAnnouncement.all().order_by("id")
    if query_args.enabled is not None:
        qs = qs.filter(enabled=query_args.enabled)
    rows, page = await paginate(qs, query_args)
    return ok({"announcements": [announcement_out(r) for r in rows], "pagination": page})


@bp.post("/announcements")
@require("bgp.announcements.write")
@validate_request(AnnouncementCreate)
@document_response(Envelope[AnnouncementOut], 201)
async def create_announcement(data: AnnouncementCreate):
    """Announce a prefix to every session; it is in BIRD when this answers."""
    _family_check(data.prefix, data.next_hop)
    std, large = _merge(data.communities, data.large_communities, data.community)

    async def mutate(conn: Any) -> BgpAnnouncement:
        await _prefix_free(data.prefix, conn)
        return await BgpAnnouncement.create(
            using_db=conn, prefix=data.prefix, next_hop=data.next_hop, as_path=data.as_path, communities=std,
            large_communities=large, description=data.description, enabled=data.enabled)

    row = await write(mutate)
    return ok(announcement_out(row), "BGP announcement created", 201)


@bp.get("/announcements/<int:ann_id>")
@require("bgp.announcements.read")
@document_response(Envelope[AnnouncementOut])
async def get_announcement(ann_id: int):
    """One announcement."""
    return ok(announcement_out(await _get(ann_id)))


@bp.put("/announcements/<int:ann_id>")
@require("bgp.announcements.write")
@validate_request(AnnouncementUpdate)
@document_response(Envelope[AnnouncementOut])
async def update_announcement(ann_id: int, data: AnnouncementUpdate):
    """Change an announcement; ``enabled: false`` withdraws it (only that prefix changes)."""
    changes = data.model_dump(exclude_unset=True)
    for key in ("prefix", "as_path", "enabled", "communities", "large_communities"):
        if key in changes and changes[key] is None:
            raise invalid(key, "must not be null")

    async def mutate(conn: Any) -> BgpAnnouncement:
        row = await _get(ann_id, conn)
        if "prefix" in changes and changes["prefix"] != row.prefix:
            await _prefix_free(changes["prefix"], conn, exclude=row.id)
        community = changes.pop("community", None)
        if community is not None:  # the spec's single field replaces both lists
            row.communities, row.large_communities = [], []
        for key, value in changes.items():
            setattr(row, key, value)
        row.communities, row.large_communities = _merge(list(row.communities or []),
                                                        list(row.large_communities or []), community)
        _family_check(row.prefix, row.next_hop)
        await row.save(using_db=conn)
        return row

    row = await write(mutate)
    return ok(announcement_out(await _get(row.id)), "BGP announcement updated")


@bp.delete("/announcements/<int:ann_id>")
@require("bgp.announcements.write")
@document_response(MessageEnvelope)
async def delete_announcement(ann_id: int):
    """Withdraw and forget an announcement."""

    async def mutate(conn: Any) -> None:
        row = await _get(ann_id, conn)
        await row.delete(using_db=conn)

    await write(mutate)
    return ok(None, "BGP announcement deleted")
