"""Request and response models of /ipv6.

Syntax is checked here, by ``ipv6wgm_ipv6.validation`` (422 naming the field): an IPv6 prefix
without zone id, names and holder tags that fullmatch their pattern, text without control or
line-breaking characters, all in canonical form. The patterns below only document that in the
OpenAPI schema. What depends on arithmetic or on a pool (host bits set, a length shorter than
the pool's, a prefix outside the pool) is checked by the code and answers 409 with the field.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from ipv6wgm.api import IsoDatetime, PageQuery, Pagination, StrictBody
from ipv6wgm_ipv6 import validation as v

PREFIX = r"^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*/[0-9]{1,3}$"
TEXT = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
MAX_ID = 2**63 - 1

Prefix = Annotated[str, Field(pattern=PREFIX, min_length=4, max_length=49), AfterValidator(v.prefix_text)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"), AfterValidator(v.name)]
Description = Annotated[str, Field(max_length=v.MAX_DESCRIPTION, pattern=TEXT), AfterValidator(v.description)]
ClientName = Annotated[str, Field(min_length=1, max_length=v.MAX_CLIENT_NAME, pattern=TEXT),
                       AfterValidator(v.client_name)]
Holder = Annotated[str, Field(max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$"),
                   AfterValidator(v.holder)]

PoolStatus = Literal["active", "disabled"]
AllocationStatus = Literal["active", "quarantined"]


class PoolCreate(StrictBody):
    name: Name = Field(description="unique pool name")
    prefix: Prefix = Field(description="IPv6 prefix with host bits zero, e.g. 2001:db8::/48")
    prefix_length: int = Field(ge=0, le=128, description="length handed out, from the pool's length to 128")
    description: Description = ""
    status: PoolStatus = "active"
    announce: bool = Field(False, description="offer the pool aggregate to the BGP plugin")


class PoolUpdate(StrictBody):
    """Any subset; ``prefix``/``prefix_length`` change only while the pool is empty."""

    name: Name | None = None
    prefix: Prefix | None = None
    prefix_length: int | None = Field(None, ge=0, le=128)
    description: Description | None = None
    status: PoolStatus | None = None
    announce: bool | None = None


class PoolOut(BaseModel):
    id: int
    name: str
    prefix: str
    prefix_length: int
    description: str
    status: str
    announce: bool
    total_prefixes: int = Field(description="allocation units in the pool (exact, may exceed 2^53)")
    allocated_prefixes: int
    reserved_prefixes: int
    quarantined_prefixes: int
    available_prefixes: int
    utilization: float = Field(description="percent of units not available (allocated, reserved, quarantined)")
    created_at: str | None
    updated_at: str | None


class PoolQuery(PageQuery):
    status: PoolStatus | None = None


class PoolList(BaseModel):
    pools: list[PoolOut]
    pagination: Pagination


class ReservationCreate(StrictBody):
    prefix: Prefix = Field(description="any prefix inside the pool; every unit it touches is reserved")
    description: Description = ""


class ReservationOut(BaseModel):
    id: int
    pool_id: int
    prefix: str
    reserved_prefixes: int
    description: str
    created_at: str | None


class ReservationList(BaseModel):
    reservations: list[ReservationOut]


class AllocationCreate(StrictBody):
    pool_id: int = Field(ge=1, le=MAX_ID)
    client_name: ClientName
    description: Description = ""
    prefix: Prefix | None = Field(None, description="ask for this exact prefix instead of the next free one")
    prefix_length: int | None = Field(None, ge=0, le=128, description="if given, must equal the pool's")
    expires_at: IsoDatetime | None = Field(None, description="released automatically after this time")


class AllocationOut(BaseModel):
    id: int
    pool_id: int
    client_name: str
    allocated_prefix: str
    prefix_length: int
    description: str
    holder: str | None
    owner_id: int | None
    status: str
    allocated_at: str | None
    released_at: str | None
    quarantine_until: str | None
    expires_at: str | None


class AllocationQuery(PageQuery):
    pool_id: int | None = Field(None, ge=1, le=MAX_ID)
    status: AllocationStatus | None = None
    holder: Holder | None = None
    client_name: ClientName | None = None


class AllocationList(BaseModel):
    allocations: list[AllocationOut]
    pagination: Pagination
