"""/wireguard/clients/{id}/traffic: stored traffic history, scoped like the client itself."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import document_response, validate_querystring

from ipv6wgm.api import Envelope, ok
from ipv6wgm.security.rbac import current_principal, get_owned, require
from ipv6wgm_wireguard import traffic
from ipv6wgm_wireguard.models import WireGuardClient
from ipv6wgm_wireguard.schemas import TrafficOut, TrafficQuery

bp = Blueprint("wireguard_traffic", __name__)


@bp.get("/clients/<int:client_id>/traffic")
@require("wireguard.clients.read")
@validate_querystring(TrafficQuery)
@document_response(Envelope[TrafficOut])
async def client_traffic(client_id: int, query_args: TrafficQuery):
    """Bytes received and sent per hour (``24h``, ``7d``) or per day (``30d``, ``1y``); every bucket
    of the range is present, zeros included. A ``user`` sees only its own clients (404 otherwise)."""
    client = await get_owned(WireGuardClient.all(), client_id, current_principal(), "wireguard.all", "client")
    return ok(await traffic.history(client.id, query_args.range))
