"""Account lifecycle events that plugins act on (``account_changed``).

The user table is the core's; the objects a user owns (WireGuard clients, prefixes) are the
plugins'. Deactivating or deleting an account must end that user's access everywhere, so the
core announces the change and every plugin takes its own objects off the data plane.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from ipv6wgm.api import SERVICE_UNAVAILABLE, ApiError
from ipv6wgm.runtime import current

log = logging.getLogger(__name__)
AccountChange = Literal["deactivated", "reactivated", "deleted"]


@dataclass(frozen=True)
class AccountEvent:
    user_id: int
    kind: AccountChange
    keep_objects: bool = False  # deleted only: keep the user's objects, disabled and ownerless
    actor_id: int | None = None


async def announce(event: AccountEvent) -> None:
    """Run every plugin's ``account_changed``; any failure is raised as a 503 naming the plugin.

    Unlike start-up hooks, a failure here does not disable the plugin: it refuses the change
    the caller asked for (or, for a deactivation already stored, reports that the data plane
    could not be updated yet; the plugins' reconcile enforces it from the user table anyway).
    """
    failures = await current().plugins.notify("account_changed", event=event)
    if failures:
        names = ", ".join(name for name, _ in failures)
        for name, exc in failures:
            log.error("account_changed(%s, user %s) failed in %s: %s", event.kind, event.user_id, name, exc)
        raise ApiError(503, SERVICE_UNAVAILABLE, f"could not apply the account change in: {names}",
                       {"plugins": [name for name, _ in failures], "event": event.kind},
                       {"Retry-After": "5"})
