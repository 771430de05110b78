"""Access ends with the account: what the WireGuard plugin does on ``account_changed``.

The desired state already derives from the owner's ``is_active`` (``service.off_reason``), so
deactivation and reactivation change no client row: each affected server is applied once, now,
so the user's peers leave (or rejoin) the live interface before the API answers, and the
reconcile cron enforces the same if anything is lost on the way. Deletion removes the clients
(peers, routes and delegated prefixes with them) or, with ``keep_objects``, keeps them disabled
and ownerless with ``disabled_by = "owner_deleted"``.
"""

from __future__ import annotations

import logging

from ipv6wgm.accounts import AccountEvent
from ipv6wgm_wireguard import service
from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer
from ipv6wgm_wireguard.provisioning import release_prefix
from ipv6wgm_wireguard.routes.common import call_node

log = logging.getLogger(__name__)


async def account_changed(event: AccountEvent) -> None:
    server_ids = set(await WireGuardClient.filter(owner_id=event.user_id).values_list("server_id", flat=True))
    if not server_ids:
        return
    drop_routes: dict[int, list[str]] = {}
    if event.kind == "deleted" and event.keep_objects:
        # the owner column goes NULL with the user row (ON DELETE SET NULL), in the same statement
        # that deletes it: a deletion refused after this hook leaves the clients still owned
        await WireGuardClient.filter(owner_id=event.user_id).update(enabled=False, disabled_by=service.OWNER_DELETED)
    elif event.kind == "deleted":
        for client in await WireGuardClient.filter(owner_id=event.user_id):
            if client.delegated_prefix:
                drop_routes.setdefault(client.server_id, []).append(client.delegated_prefix)
            await release_prefix(client)
            await client.delete()
    log.info("account %s %s: applying %d WireGuard server(s)", event.user_id, event.kind, len(server_ids))
    for server in await WireGuardServer.filter(id__in=server_ids, is_active=True).order_by("id"):
        await call_node("apply_server", server.id, drop_routes.get(server.id, []), node=server.node_id)
