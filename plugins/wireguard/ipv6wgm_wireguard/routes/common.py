"""Helpers shared by the server and client routes."""

from __future__ import annotations

import logging
from typing import Any

from quart import Response
from tortoise.functions import Count

from ipv6wgm.api import RESOURCE_CONFLICT, ApiError, error_response, not_found
from ipv6wgm.logs.service import audit
from ipv6wgm.runtime import current
from ipv6wgm.security.rbac import current_principal
from ipv6wgm.validation import UnsafeValue
from ipv6wgm_wireguard.models import WireGuardClient, WireGuardServer
from ipv6wgm_wireguard.settings import wg_settings

log = logging.getLogger(__name__)


async def get_server(server_id: int) -> WireGuardServer:
    server = await WireGuardServer.filter(id=server_id).first()
    if server is None:
        raise not_found("server")
    return server


async def client_counts(server_ids: list[int]) -> dict[int, int]:
    rows = await (WireGuardClient.filter(server_id__in=server_ids).group_by("server_id")
                  .annotate(n=Count("id")).values("server_id", "n"))
    return {row["server_id"]: row["n"] for row in rows}


async def call_node(job: str, *args: Any, node: str) -> Any:
    """Run a data-plane job on the server's node and wait; the core maps every failure to the
    envelope (503 naming the node and the failed step)."""
    return await current().jobs.call_api(f"wireguard.{job}", *args, node=node, wait_s=wg_settings().apply_timeout)


async def enqueue_node(job: str, *args: Any, node: str) -> None:
    """Fire and forget: the desired state is already committed, the reconcile cron repairs a
    lost job."""
    try:
        await current().jobs.enqueue(f"wireguard.{job}", *args, node=node)
    except Exception as exc:  # noqa: BLE001 - reconcile catches up
        log.warning("could not queue wireguard.%s: %s", job, exc)


async def _unsafe(exc: UnsafeValue) -> Response:
    """A renderer refused a stored value (one that predates today's validation, or a bug in
    it): nothing is sent, the operator is told which value to fix."""
    log.error("refused to render a WireGuard file: %s", exc)
    return error_response(ApiError(409, RESOURCE_CONFLICT, f"a stored value cannot be written safely: {exc}",
                                   {"error": str(exc)}))


refuse_unsafe = (UnsafeValue, _unsafe)


async def audit_secret(message: str, *, action: str, details: dict[str, Any]) -> None:
    """Every download that carries a private or preshared key leaves an audit entry."""
    principal = current_principal()
    await audit(message, action=action, level="WARNING", module="wireguard", user_id=principal.id,
                username=principal.user.username, details=details)
