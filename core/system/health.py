"""Detailed health: every component really checked, timed and bounded by a timeout."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ipv6wgm.runtime import current
from ipv6wgm.system.facts import database_facts

CHECK_TIMEOUT_S = 3.0
ORDER = {"healthy": 0, "degraded": 1, "unhealthy": 2}


async def _timed(check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = dict(await asyncio.wait_for(check(), CHECK_TIMEOUT_S))
    except TimeoutError:
        result = {"status": "unhealthy", "error": f"no answer within {CHECK_TIMEOUT_S}s"}
    except Exception as exc:  # noqa: BLE001 - a failing check is a finding, not an error
        result = {"status": "unhealthy", "error": f"{type(exc).__name__}: {exc}"[:300]}
    result.setdefault("response_time", round((time.perf_counter() - started) * 1000, 2))
    return result


async def database_check() -> dict[str, Any]:
    facts = await database_facts(CHECK_TIMEOUT_S)
    status = "healthy" if facts.get("status") == "connected" else "unhealthy"
    return {"status": status, "connections": facts.get("active_connections"),
            "type": facts.get("type"), **({"error": facts["error"]} if "error" in facts else {})}


async def cache_check() -> dict[str, Any]:
    redis = current().redis
    if redis is None:
        return {"status": "healthy", "backend": "in-process", "configured": False}
    result = {**await redis.ping(), "backend": "redis", "configured": True,
              "fanout": "listening" if current().hub.listening else "reconnecting"}
    if result["status"] == "healthy" and not current().hub.listening:
        result["status"] = "degraded"  # events and revocations reach only this process meanwhile
    return result


async def components() -> tuple[str, dict[str, dict[str, Any]]]:
    checks = {name: spec.check for name, spec in current().registry.health.items()}
    results = await asyncio.gather(*(_timed(c) for c in checks.values()))
    table = dict(zip(checks, results, strict=True))
    worst = max((ORDER.get(r.get("status", "unhealthy"), 2) for r in results), default=0)
    overall = "healthy" if worst == 0 else ("unhealthy" if table.get("database", {}).get("status") != "healthy"
                                            else "degraded")
    return overall, table
