"""/system (info, live config), /status (health, detailed health, host status), /plugins."""

from __future__ import annotations

import asyncio

from quart import Blueprint
from quart_schema import document_response, validate_request

from ipv6wgm import SERVICE_NAME, __version__
from ipv6wgm.api import Envelope, iso, now_iso, ok
from ipv6wgm.runtime import current
from ipv6wgm.security.rbac import current_principal, public, require
from ipv6wgm.system import facts, health
from ipv6wgm.system.models import ConfigEntry
from ipv6wgm.system.schemas import (
    ConfigOut,
    ConfigUpdate,
    DetailedHealth,
    Health,
    PluginOut,
    SystemInfo,
    SystemStatus,
)

bp = Blueprint("system", __name__, url_prefix="/api/v1")


async def _config_data() -> dict:
    rt = current()
    last = await ConfigEntry.all().order_by("-updated_at").first()
    return {
        "app_name": SERVICE_NAME,
        "app_version": __version__,
        "debug_mode": rt.settings.debug,
        **rt.config.as_dict(),
        "database_pool_size": rt.settings.database_pool_size if rt.settings.database_kind == "mysql" else 1,
        "cache_enabled": rt.redis is not None,
        "updated_at": iso(last.updated_at) if last else None,
    }


@bp.get("/system/info")
@require("system.read")
@document_response(Envelope[SystemInfo])
async def system_info():
    """Host, application and database facts, read live."""
    return ok({"system": await asyncio.to_thread(facts.host_facts), "application": facts.app_facts(),
               "database": await facts.database_facts()})


@bp.get("/system/config")
@require("system.read")
@document_response(Envelope[ConfigOut])
async def get_config():
    """The effective configuration (settings plus live overrides)."""
    return ok(await _config_data())


@bp.put("/system/config")
@require("system.write")
@validate_request(ConfigUpdate)
@document_response(Envelope[ConfigOut])
async def put_config(data: ConfigUpdate):
    """Change live settings; persisted, applied at once, and pushed to every process."""
    changes = data.model_dump(exclude_none=True)
    rt = current()
    if changes:
        await rt.config.save(changes, current_principal().id)
        await rt.hub.control("config_changed", origin=id(rt))
    return ok(await _config_data(), "configuration updated")


@bp.get("/status/health")
@public
@document_response(Envelope[Health])
async def health_basic():
    """Liveness: the process answers. Needs no token."""
    return ok({"status": "healthy", "service": SERVICE_NAME, "version": __version__, "timestamp": now_iso()})


@bp.get("/status/health/detailed")
@require("system.read")
@document_response(Envelope[DetailedHealth])
async def health_detailed():
    """Every component (database, cache and each plugin's) checked now, with response times."""
    overall, table = await health.components()
    return ok({"status": overall, "service": SERVICE_NAME, "version": __version__, "components": table,
               "timestamp": now_iso()})


@bp.get("/status/system")
@require("system.read")
@document_response(Envelope[SystemStatus])
async def status_system():
    """Host identity and resource usage."""
    host = await asyncio.to_thread(facts.host_facts)
    return ok({"system": {k: host[k] for k in ("hostname", "os", "uptime", "load_average")},
               "resources": await asyncio.to_thread(facts.resources), "timestamp": now_iso()})


@bp.get("/plugins")
@require("plugins.read")
@document_response(Envelope[list[PluginOut]])
async def list_plugins():
    """Installed plugins with version, status (loaded/failed/disabled) and error."""
    return ok(current().plugins.public())
