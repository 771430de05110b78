"""Shared constants and helpers of the BGP tests (kept out of conftest to import them)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from ipv6wgm_bgp.bird import AnnouncementSpec, SessionSpec, render_config

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
