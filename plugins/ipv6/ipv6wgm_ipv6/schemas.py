"""Request and response models of /ipv6.

What a JSON schema can say is said here (so it answers 422 before any code runs): IPv6 syntax
(an IPv4 prefix has no colon and fails the pattern), lengths 0–128, text without control
characters. What depends on arithmetic or on a pool — host bits set, a length shorter than the
pool's, a prefix outside the pool — is checked by the code and answers 409 with the field named,
because schema-valid input must never be answered 422 (the OpenAPI contract is fuzzed).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ipv6wgm.api import IsoDatetime, PageQuery, Pagination, StrictBody

PREFIX = r"^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*/[0-9]{1,3}$"
PREFIX_FIELD = {"pattern": PREFIX, "min_length": 4, "max_length": 49}
TEXT = r"^[^\x00-\x1f\x7f]*$"
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
CLIENT = r"^[^\x00-\x1f\x7f]{1,128}$"
MAX_ID = 2**63 - 1

PoolStatus = Literal["active", "disabled"]
AllocationStatus = Literal["active", "quarantined"]


class PoolCreate(StrictBody):
    name: str = Field(pattern=NAME, description="unique pool name")
    prefix: str = Field(description="IPv6 prefix with host bits zero, e.g. 2001:db8::/48", **PREFIX_FIELD)
    prefix_length: int = Field(ge=0, le=128, description="length handed out, from the pool's length to 128")
    description: str = Field("", max_length=255, pattern=TEXT)
    status: PoolStatus = "active"
    announce: bool = Field(False, description="offer the pool aggregate to the BGP plugin")


class PoolUpdate(StrictBody):
    """Any subset; ``prefix``/``prefix_length`` change only while the pool is empty."""

    name: str | None = Field(None, pattern=NAME)
    prefix: str | None = Field(None, **PREFIX_FIELD)
    prefix_length: int | None = Field(None, ge=0, le=128)
    description: str | None = Field(None, max_length=255, pattern=TEXT)
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
    prefix: str = Field(description="any prefix inside the pool; every unit it touches is reserved",
                        **PREFIX_FIELD)
    description: str = Field("", max_length=255, pattern=TEXT)


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
    client_name: str = Field(pattern=CLIENT)
    description: str = Field("", max_length=255, pattern=TEXT)
    prefix: str | None = Field(None, description="ask for this exact prefix instead of the next free one",
                               **PREFIX_FIELD)
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
    holder: str | None = Field(None, max_length=128)
    client_name: str | None = Field(None, max_length=128)


class AllocationList(BaseModel):
    allocations: list[AllocationOut]
    pagination: Pagination
