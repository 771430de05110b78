"""Write guards: a plugin can make the whole API refuse writes for a while.

A restore replaces every table in one transaction; a write accepted meanwhile would be lost or
would block on the restore's locks. A plugin offers a guard as the service ``<plugin>.write_guard``
(``register_services``): an ``async () -> WriteBlock | None``. Every API process asks each guard
before a POST, PUT, PATCH or DELETE and answers 503 ``SERVICE_UNAVAILABLE`` with ``Retry-After``
while one says so. The guard decides how it knows (the backup plugin keeps the flag in the
database, with an expiry, so every process sees it and a killed restore cannot lock the API for
ever); it must be cheap, since it runs on every write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

SERVICE_SUFFIX = ".write_guard"
BODY_LIMIT_SUFFIX = ".body_limit"


@dataclass(frozen=True)
class WriteBlock:
    """Why writes wait, and for how long a client should wait before it retries (seconds)."""

    reason: str
    retry_after: int = 5


WriteGuard = Callable[[], Awaitable[WriteBlock | None]]


def write_guards(services: Mapping[str, Any]) -> list[WriteGuard]:
    """Every ``<plugin>.write_guard`` service, in plugin order."""
    return [service for name, service in services.items() if name.endswith(SERVICE_SUFFIX)]


async def blocked(guards: list[WriteGuard]) -> WriteBlock | None:
    for guard in guards:
        block = await guard()
        if block is not None:
            return block
    return None


@dataclass(frozen=True)
class BodyLimit:
    """A route that takes more than the API's 1 MiB body (an archive upload): offered as the
    service ``<plugin>.body_limit``; ``path`` is the full request path (``/api/v1/...``)."""

    path: str
    max_bytes: int


def body_limits(services: Mapping[str, Any]) -> dict[str, int]:
    return {s.path: s.max_bytes for name, s in services.items()
            if name.endswith(BODY_LIMIT_SUFFIX) and isinstance(s, BodyLimit)}
