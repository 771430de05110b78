"""Hostile input against every field of /ipv6 on both backends.

Prefixes, names and holder tags: every hostile string is refused with 422 naming the field.
Free text (descriptions, client names): a value with a control or line-breaking character is
refused with 422; the rest (``#``, ``;``, quotes, braces are text) is stored exactly as sent.
Nothing that is refused changes anything.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import httpx
import pytest

from ipv6wgm.testing import hostile_variants
from ipv6wgm.validation import unsafe_char

from .helpers import envelope, error, make_pool, ula

TEXT_FIELDS = ("description", "client_name")


def _pools(admin: httpx.Client) -> int:
    return envelope(admin.get("/ipv6/pools", params={"size": 1}))["pagination"]["total"]


def _unit(pool: dict[str, Any], index: int = 0) -> str:
    net = ipaddress.IPv6Network(pool["prefix"])
    return str(ipaddress.IPv6Network((int(net.network_address) + (index << 64), 64)))


def _try(response: httpx.Response, field: str, value: str, status: int = 201) -> dict[str, Any] | None:
    """None when refused (422 naming ``field``); the stored object when accepted."""
    if field in TEXT_FIELDS and unsafe_char(value) is None:
        return envelope(response, status)
    err = error(response, 422, "VALIDATION_ERROR")
    assert err["details"]["field"] == field, (value, err)
    return None


@pytest.mark.parametrize(("field", "valid"), [("name", "pool-x"), ("prefix", "fd00:1234::/48"),
                                              ("description", "customers")])
def test_pool_create_and_update(admin: httpx.Client, field: str, valid: str) -> None:
    before = _pools(admin)
    pool = make_pool(admin)
    for n, value in enumerate(hostile_variants(valid)):
        body = {"name": f"hostile-{n}", "prefix": ula(), "prefix_length": 64, field: value}
        created = _try(admin.post("/ipv6/pools", json=body), field, value)
        if created is not None:
            assert created[field] == value
            envelope(admin.delete(f"/ipv6/pools/{created['id']}"))
        updated = _try(admin.put(f"/ipv6/pools/{pool['id']}", json={field: value}), field, value, 200)
        if updated is not None:
            assert updated[field] == value
    got = envelope(admin.get(f"/ipv6/pools/{pool['id']}"))
    if field != "description":
        assert {k: v for k, v in got.items() if k != "updated_at"} == \
            {k: v for k, v in pool.items() if k != "updated_at"}
    envelope(admin.delete(f"/ipv6/pools/{pool['id']}"))
    assert _pools(admin) == before


@pytest.mark.parametrize(("field", "valid"), [("prefix", "UNIT"), ("description", "infra")])
def test_reservation_create(admin: httpx.Client, field: str, valid: str) -> None:
    pool = make_pool(admin)
    unit = _unit(pool)
    for value in hostile_variants(unit if valid == "UNIT" else valid):
        body = {"prefix": unit, "description": "infra", field: value}
        created = _try(admin.post(f"/ipv6/pools/{pool['id']}/reservations", json=body), field, value)
        if created is not None:
            assert created[field] == value
            envelope(admin.delete(f"/ipv6/pools/{pool['id']}/reservations/{created['id']}"))
    assert envelope(admin.get(f"/ipv6/pools/{pool['id']}/reservations"))["reservations"] == []
    envelope(admin.delete(f"/ipv6/pools/{pool['id']}"))


@pytest.mark.parametrize(("field", "valid"), [("client_name", "router"), ("description", "home"),
                                              ("prefix", "UNIT")])
def test_allocation_create(admin: httpx.Client, field: str, valid: str) -> None:
    pool = make_pool(admin)
    unit = _unit(pool)
    for value in hostile_variants(unit if valid == "UNIT" else valid):
        body = {"pool_id": pool["id"], "client_name": "router", field: value}
        created = _try(admin.post("/ipv6/allocations", json=body), field, value)
        if created is not None:
            assert created[field] == value
            envelope(admin.delete(f"/ipv6/allocations/{created['id']}"))
    counts = envelope(admin.get(f"/ipv6/pools/{pool['id']}"))
    assert counts["allocated_prefixes"] == 0
    envelope(admin.delete(f"/ipv6/pools/{pool['id']}"))


@pytest.mark.parametrize(("field", "valid"), [("holder", "wireguard.client:1"), ("client_name", "router")])
def test_allocation_filters(admin: httpx.Client, field: str, valid: str) -> None:
    for value in hostile_variants(valid):
        r = admin.get("/ipv6/allocations", params={field: value})
        if field == "client_name" and unsafe_char(value) is None:
            envelope(r)
        else:
            assert error(r, 422, "VALIDATION_ERROR")["details"]["field"] == field, value


def test_prefixes_are_stored_canonical(admin: httpx.Client) -> None:
    base = ipaddress.IPv6Network(ula())
    shouting = f"{base.network_address.exploded.upper()}/48"
    pool = envelope(admin.post("/ipv6/pools", json={"name": "canonical", "prefix": shouting, "prefix_length": 64}),
                    201)
    try:
        assert pool["prefix"] == str(base)
        unit = _unit(pool, 5)
        allocation = envelope(admin.post("/ipv6/allocations", json={
            "pool_id": pool["id"], "client_name": "c", "prefix": unit.upper()}), 201)
        assert allocation["allocated_prefix"] == unit
        envelope(admin.delete(f"/ipv6/allocations/{allocation['id']}"))
    finally:
        envelope(admin.delete(f"/ipv6/pools/{pool['id']}"))
