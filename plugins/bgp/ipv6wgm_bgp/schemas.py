"""Request and response models of /bgp.

Requests are strict (no unknown fields, no coercion) and every value that reaches a BIRD file
is checked by ``ipv6wgm_bgp.validation``, the module the renderer's specs use too: the API
refuses exactly what the renderer would (422 naming the field) instead of failing later in a
job, and stores the canonical form (addresses, prefixes, communities, AS paths).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from ipv6wgm.api import PageQuery, Pagination, StrictBody
from ipv6wgm_bgp import validation as v

U32 = v.U32


def _check(func: Callable[..., Any], *args: Any) -> AfterValidator:
    """An AfterValidator storing ``str(func(value, *args))``: the canonical form."""
    return AfterValidator(lambda value: str(func(value, *args)))


def _hold(value: int) -> int:
    if value in (1, 2):
        raise ValueError("hold time must be 0 or 3-65535 (RFC 4271)")
    return value


Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_]+$"), _check(v.name)]
Address = Annotated[str, Field(min_length=2, max_length=45), _check(v.address, "address")]
Prefix = Annotated[str, Field(min_length=4, max_length=49), _check(v.prefix)]
Asn = Annotated[int, Field(ge=1, le=U32)]
Text = Annotated[str, Field(min_length=1, max_length=255), _check(v.text, "text")]
Password = Annotated[str, Field(min_length=1, max_length=80), _check(v.password)]
HoldTime = Annotated[int, Field(ge=0, le=65535), AfterValidator(_hold)]
Multihop = Annotated[int, Field(ge=1, le=255)]
ImportLimit = Annotated[int, Field(ge=1, le=U32)]
AsPath = Annotated[str, Field(max_length=400, description='ASNs after ours, e.g. "65000 65000"'),
                   _check(v.as_path_text)]
CommunityText = Annotated[str, Field(min_length=3, max_length=400, description='"a:b" or "a:b:c", space separated'),
                          _check(v.community_text)]
Community = Annotated[str, Field(min_length=3, max_length=11), _check(v.community, "community", False)]
LargeCommunity = Annotated[str, Field(min_length=5, max_length=32), _check(v.community, "large_community", True)]
ImportPolicy = Literal["all", "none"]
NodeId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]{1,64}$"), _check(v.node_id)]


class SessionCreate(StrictBody):
    name: Name
    neighbor: Address
    remote_as: Asn
    local_as: Asn | None = Field(None, description="default IPV6WGM_BGP_LOCAL_AS")
    password: Password | None = Field(None, description="TCP MD5 password; stored encrypted, never returned")
    description: Text | None = None
    source_address: Address | None = None
    hold_time: HoldTime | None = None
    multihop: Multihop | None = None
    import_limit: ImportLimit | None = Field(None, description="max prefixes received; the session restarts above")
    import_policy: ImportPolicy = "all"
    enabled: bool = True
    node_id: NodeId | None = Field(None, description="the node whose BIRD runs it; default: the cluster "
                                   "plugin's placement if installed, else every node")


class SessionUpdate(StrictBody):
    """Fields left out are kept; ``null`` clears an optional field (``password`` too)."""

    name: Name | None = None
    neighbor: Address | None = None
    remote_as: Asn | None = None
    local_as: Asn | None = None
    password: Password | None = None
    description: Text | None = None
    source_address: Address | None = None
    hold_time: HoldTime | None = None
    multihop: Multihop | None = None
    import_limit: ImportLimit | None = None
    import_policy: ImportPolicy | None = None
    enabled: bool | None = None


class SessionQuery(PageQuery):
    status: Literal["idle", "connect", "active", "opensent", "openconfirm", "established"] | None = None


class SessionOut(BaseModel):
    id: int
    name: str
    neighbor: str
    remote_as: int
    local_as: int
    status: str
    uptime: int
    routes_received: int
    routes_advertised: int
    last_update: str | None
    created_at: str | None
    updated_at: str | None
    description: str | None
    source_address: str | None
    hold_time: int | None
    multihop: int | None
    import_limit: int | None
    import_policy: str
    enabled: bool
    node_id: str | None
    has_password: bool
    last_error: str | None
    started_at: str | None
    stopped_at: str | None


class SessionList(BaseModel):
    sessions: list[SessionOut]
    pagination: Pagination


class SessionStarted(BaseModel):
    id: int
    status: str
    started_at: str | None


class SessionStopped(BaseModel):
    id: int
    status: str
    stopped_at: str | None


class RouteOut(BaseModel):
    prefix: str
    next_hop: str | None
    as_path: list[int]
    communities: list[str]
    large_communities: list[str]
    primary: bool
    origin: str | None
    local_pref: int | None


class RoutesOut(BaseModel):
    session_id: int
    routes: list[RouteOut]


class AnnouncementCreate(StrictBody):
    prefix: Prefix
    next_hop: Address | None = None
    as_path: AsPath = ""
    community: CommunityText | None = Field(None, description="merged into communities / large_communities")
    communities: list[Community] = Field(default_factory=list, max_length=32)
    large_communities: list[LargeCommunity] = Field(default_factory=list, max_length=32)
    description: Text | None = None
    enabled: bool = True


class AnnouncementUpdate(StrictBody):
    """Fields left out are kept; ``community`` replaces both community lists."""

    prefix: Prefix | None = None
    next_hop: Address | None = None
    as_path: AsPath | None = None
    community: CommunityText | None = None
    communities: list[Community] | None = Field(None, max_length=32)
    large_communities: list[LargeCommunity] | None = Field(None, max_length=32)
    description: Text | None = None
    enabled: bool | None = None


class AnnouncementQuery(PageQuery):
    enabled: bool | None = None


class AnnouncementOut(BaseModel):
    id: int
    prefix: str
    next_hop: str | None
    as_path: str
    community: str | None
    communities: list[str]
    large_communities: list[str]
    description: str | None
    enabled: bool
    status: Literal["active", "disabled"]
    created_at: str | None
    updated_at: str | None


class AnnouncementList(BaseModel):
    announcements: list[AnnouncementOut]
    pagination: Pagination
