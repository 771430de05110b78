"""The login throttle's arithmetic and its counters (in-memory limiter; Redis is exercised by
tests/core/test_login_throttle.py on the MariaDB + Redis backend), plus the JSON depth guard."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from ipv6wgm.api import MAX_JSON_DEPTH, loads_json
from ipv6wgm.auth.throttle import LoginThrottle, delay_after, source_of
from ipv6wgm.security.ratelimit import RateLimiter
from ipv6wgm.security.tokens import ACCESS, REFRESH, TokenError, TokenService


def test_delay_doubles_from_the_threshold_up_to_the_cap() -> None:
    assert [delay_after(n, 5, 900) for n in range(1, 17)] == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512,
                                                              900, 900]
    assert delay_after(10_000, 1, 60) == 60  # no overflow, however long the attack


@pytest.mark.parametrize(("address", "source"), [
    ("192.0.2.7", "192.0.2.7"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),  # one client usually holds a whole /64
    ("fe80::1%eth0", "fe80::/64"),
    (None, "unknown"),
])
def test_source_address(address: str | None, source: str) -> None:
    assert source_of(address) == source


def test_throttle_is_per_account_and_source() -> None:
    async def scenario() -> None:
        throttle = LoginThrottle(RateLimiter(None), threshold=3, longest=60)
        for _ in range(2):
            assert await throttle.failed("Alice", "192.0.2.1") == 0
        assert not await throttle.blocked("alice", "192.0.2.1")
        assert await throttle.failed("ALICE", "192.0.2.1") == 1  # usernames count case-insensitively
        assert await throttle.blocked("alice", "192.0.2.1")
        assert not await throttle.blocked("alice", "192.0.2.2")  # the owner elsewhere
        assert not await throttle.blocked("bob", "192.0.2.1")  # another account from the attacker
        assert await throttle.failed("alice", "192.0.2.1") == 2
        await throttle.succeeded("alice", "192.0.2.1")
        assert not await throttle.blocked("alice", "192.0.2.1")
        assert await throttle.failed("alice", "192.0.2.1") == 0  # the count restarted
        await asyncio.sleep(0)

    asyncio.run(scenario())


def test_block_expires() -> None:
    async def scenario() -> None:
        limiter = RateLimiter(None)
        await limiter.set_flag("k", 0.2)
        assert await limiter.get("k") == 1
        await asyncio.sleep(0.3)
        assert await limiter.get("k") is None

    asyncio.run(scenario())


def test_json_depth_guard() -> None:
    assert loads_json(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) is not None
    nested: list = []
    for _ in range(80):
        nested = [nested]
    for deep in (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), b"[" * 100_000,
                 json.dumps({"a": [{"b": [[[]]]}], "deep": nested}).encode()):
        with pytest.raises(ValueError, match="nested deeper"):
            loads_json(deep)


@pytest.mark.parametrize("body", [
    b'{"n": 9223372036854775808}', b'{"m": {"n": -1368392026327489573814272}}', b"[1e400]", b'{"x": NaN}',
    b"[Infinity]", b'{"k": "\\ud800"}', b'{"\\udc00": 1}', b'"\\ud9d8"',
])
def test_json_values_that_cannot_be_stored_are_refused(body: bytes) -> None:
    """A body is echoed and stored (JSON columns, orjson answers): what neither can hold is a 400
    at the parser, never a TypeError deep in a route."""
    with pytest.raises(ValueError):
        loads_json(body)


def test_json_limits_keep_what_fits() -> None:
    value = loads_json(b'{"a": [9223372036854775807, -9223372036854775808, 1.5e300, "\\u00e9\\ud83d\\ude00"]}')
    assert value == {"a": [2**63 - 1, -(2**63), 1.5e300, "\u00e9\U0001f600"]}


def test_access_tokens_carry_a_generation() -> None:
    svc = TokenService(os.urandom(32), "ipv6wgm", "api")
    token, claims = svc.issue(1, "s" * 32, ACCESS, 60, gen=3)
    assert claims.gen == 3 and svc.verify(token, ACCESS).gen == 3
    refresh, _ = svc.issue(1, "s" * 32, REFRESH, 60)
    assert svc.verify(refresh, REFRESH).gen == 0
    with pytest.raises(TokenError):
        svc.verify(token, REFRESH)
