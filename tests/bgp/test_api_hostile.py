"""Injection through the /bgp API on both backends: every rendered field, create and update.

Each hostile value either gets 422 naming the field and changes nothing, or is stored and the
BIRD tree the data-plane owner wrote under the server's data dir reads back as exactly the
product's statements (one ``protocol bgp`` per session row, one route per announcement, nothing
else) and passes ``bird -p``.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from ipv6wgm.testing import ServerProcess, hostile_variants

from .helpers import all_rows, check_tree

SESSION_BASE = {"neighbor": "10.96.0.1", "remote_as": 65096, "source_address": "10.96.0.254",
                "description": "uplink", "password": "secret"}
SESSION_FIELDS = {"name": "hostile", **{k: v for k, v in SESSION_BASE.items() if k != "remote_as"}}
ANN_BASE: dict[str, Any] = {"prefix": "100.64.96.0/24", "next_hop": "10.96.0.5", "as_path": "65000 65001",
                            "community": "65000:1", "communities": ["65000:2"], "large_communities": ["65000:1:2"],
                            "description": "customer"}
_ids = itertools.count()


def _refused(r: httpx.Response, field: str, value: object) -> bool:
    if r.status_code in (200, 201):
        return False
    assert r.status_code == 422, (field, value, r.status_code, r.text)
    assert r.json()["error"]["details"]["field"].startswith(field), (field, value, r.text)
    return True


def _value(field: str, variant: str, base: dict[str, Any]) -> Any:
    return [variant] if isinstance(base.get(field), list) else variant


@pytest.mark.parametrize("field", list(SESSION_FIELDS))
def test_session_create_hostile(server: ServerProcess, admin: httpx.Client, field: str) -> None:
    before = len(all_rows(admin, "/bgp/sessions", "sessions"))
    accepted = 0
    for variant in hostile_variants(SESSION_FIELDS[field]):
        body = {**SESSION_BASE, "name": f"hx{next(_ids)}", field: variant}
        r = admin.post("/bgp/sessions", json=body)
        if _refused(r, field, variant):
            continue
        accepted += 1
        row = r.json()["data"]
        try:
            assert field in ("description", "password"), f"{field}={variant!r} was accepted"
            tree = check_tree(server, admin)
            if field == "password":
                assert tree["sessions"][row["name"]]["password"] == variant
                assert row["has_password"] is True and "password" not in row
        finally:
            assert admin.delete(f"/bgp/sessions/{row['id']}").status_code == 200
    assert len(all_rows(admin, "/bgp/sessions", "sessions")) == before
    check_tree(server, admin)
    if field in ("name", "neighbor", "source_address"):
        assert accepted == 0


@pytest.mark.parametrize("field", list(SESSION_FIELDS))
def test_session_update_hostile(server: ServerProcess, admin: httpx.Client, field: str) -> None:
    r = admin.post("/bgp/sessions", json={**SESSION_BASE, "name": f"hu{next(_ids)}"})
    assert r.status_code == 201, r.text
    expected = r.json()["data"]
    try:
        for variant in hostile_variants(SESSION_FIELDS[field]):
            r = admin.put(f"/bgp/sessions/{expected['id']}", json={field: variant})
            if _refused(r, field, variant):
                continue
            assert field in ("description", "password"), f"{field}={variant!r} was accepted"
            expected = r.json()["data"]
            check_tree(server, admin)
        got = admin.get(f"/bgp/sessions/{expected['id']}").json()["data"]
        volatile = ("status", "uptime", "last_update", "updated_at", "last_error", "routes_received",
                    "routes_advertised")
        assert {k: v for k, v in got.items() if k not in volatile} == \
            {k: v for k, v in expected.items() if k not in volatile}
        check_tree(server, admin)
    finally:
        assert admin.delete(f"/bgp/sessions/{expected['id']}").status_code == 200


@pytest.mark.parametrize("field", list(ANN_BASE))
def test_announcement_create_hostile(server: ServerProcess, admin: httpx.Client, field: str) -> None:
    before = len(all_rows(admin, "/bgp/announcements", "announcements"))
    for variant in hostile_variants(ANN_BASE[field][0] if isinstance(ANN_BASE[field], list) else ANN_BASE[field]):
        body = {**ANN_BASE, field: _value(field, variant, ANN_BASE)}
        r = admin.post("/bgp/announcements", json=body)
        if _refused(r, field, variant):
            continue
        row = r.json()["data"]
        try:
            assert field == "description", f"{field}={variant!r} was accepted"
            check_tree(server, admin)
        finally:
            assert admin.delete(f"/bgp/announcements/{row['id']}").status_code == 200
    assert len(all_rows(admin, "/bgp/announcements", "announcements")) == before
    check_tree(server, admin)


@pytest.mark.parametrize("field", list(ANN_BASE))
def test_announcement_update_hostile(server: ServerProcess, admin: httpx.Client, field: str) -> None:
    r = admin.post("/bgp/announcements", json=ANN_BASE)
    assert r.status_code == 201, r.text
    expected = r.json()["data"]
    try:
        for variant in hostile_variants(ANN_BASE[field][0] if isinstance(ANN_BASE[field], list) else ANN_BASE[field]):
            r = admin.put(f"/bgp/announcements/{expected['id']}", json={field: _value(field, variant, ANN_BASE)})
            if _refused(r, field, variant):
                continue
            assert field == "description", f"{field}={variant!r} was accepted"
            expected = r.json()["data"]
            check_tree(server, admin)
        got = admin.get(f"/bgp/announcements/{expected['id']}").json()["data"]
        assert {k: v for k, v in got.items() if k != "updated_at"} == \
            {k: v for k, v in expected.items() if k != "updated_at"}
        tree = check_tree(server, admin)
        assert tree["routes"][ANN_BASE["prefix"]] == [
            "bgp_next_hop = 10.96.0.5", "bgp_path.prepend ( 65001 )", "bgp_path.prepend ( 65000 )",
            "bgp_community.add ( ( 65000 , 2 ) )", "bgp_community.add ( ( 65000 , 1 ) )",
            "bgp_large_community.add ( ( 65000 , 1 , 2 ) )"]
    finally:
        assert admin.delete(f"/bgp/announcements/{expected['id']}").status_code == 200
