"""Shared constants and helpers of the BGP tests (kept out of conftest to import them)."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx

from ipv6wgm.testing import ServerProcess
from ipv6wgm_bgp.bird import AnnouncementSpec, SessionSpec, render_config

from .birdconf import bird_parses, load, read_tree

T = TypeVar("T")

NS_A, NS_B = "bgpt-a", "bgpt-b"
VETH_A, VETH_B = "bgpt-va", "bgpt-vb"
A4, A4_2, B4, B4_2, NH4 = "10.98.0.1", "10.98.0.3", "10.98.0.2", "10.98.0.4", "10.98.0.5"
A6, B6, NH6 = "fd00:98::1", "fd00:98::2", "fd00:98::5"
AS_A, AS_B = 65001, 65002
MD5_PASSWORD = "right-secret"


def tree(sessions: Sequence[SessionSpec], announcements: Sequence[AnnouncementSpec]) -> dict[str, str]:
    return render_config(A4, sessions, announcements)


def session4(**kw: object) -> SessionSpec:
    args: dict[str, object] = {"hold_time": 9, "connect_retry_time": 1}
    args.update(kw)
    return SessionSpec("peer4", B4, AS_B, AS_A, **args)  # type: ignore[arg-type]


def session6(**kw: object) -> SessionSpec:
    args: dict[str, object] = {"hold_time": 9, "connect_retry_time": 1}
    args.update(kw)
    return SessionSpec("peer6", B6, AS_B, AS_A, **args)  # type: ignore[arg-type]


async def wait_for(
    probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], timeout: float = 20, what: str = ""
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or 'condition'}; last value: {value!r}")
        await asyncio.sleep(0.2)


def _bird() -> str:
    found = shutil.which("bird") or ("/usr/sbin/bird" if os.path.exists("/usr/sbin/bird") else None)
    assert found, "bird (BIRD 2) is needed to parse the generated tree"
    return found


def all_rows(admin: httpx.Client, path: str, key: str) -> list[dict[str, Any]]:
    """Every row of a paginated list (other tests on the shared server may leave many)."""
    rows: list[dict[str, Any]] = []
    for page in range(1, 1000):
        r = admin.get(path, params={"size": 100, "page": page})
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        rows += data[key]
        if len(rows) >= data["pagination"]["total"] or not data[key]:
            return rows
    raise AssertionError(f"{path}: too many pages")


def check_tree(server: ServerProcess, admin: httpx.Client) -> dict[str, Any]:
    """The tree BIRD runs holds exactly the rows of the API, in the product's statements.

    Retried for a few seconds: a reconcile that rendered just before a write committed may apply
    its older tree once more, until the re-apply queued after the commit (see routes/common.py).
    """
    deadline = time.monotonic() + 15
    while True:
        try:
            return _check_tree(server, admin)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _check_tree(server: ServerProcess, admin: httpx.Client) -> dict[str, Any]:
    current = Path(os.path.realpath(server.data_dir / "bgp" / "current"))
    assert (current / "bird.conf").is_file(), "the BIRD owner has not written a tree yet (worker starting?)"
    tree = read_tree(load(current))
    bird_parses(_bird(), current / "bird.conf")
    sessions = all_rows(admin, "/bgp/sessions", "sessions")
    assert sorted(tree["sessions"]) == sorted(s["name"] for s in sessions)
    for row in sessions:
        got = tree["sessions"][row["name"]]
        assert got["neighbor_address"] == row["neighbor"] and got.get("description") == row["description"]
    announced = {a["prefix"] for a in all_rows(admin, "/bgp/announcements", "announcements") if a["enabled"]}
    pools = {p["prefix"] for p in all_rows(admin, "/ipv6/pools", "pools") if p["announce"] and p["status"] == "active"}
    assert announced <= set(tree["routes"]) <= announced | pools, (sorted(tree["routes"]), announced, pools)
    return tree
