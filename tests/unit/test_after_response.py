"""In-process jobs a request queues start after its response; none is ever lost."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from ipv6wgm.jobs import JobRunner, after_response
from ipv6wgm.registry import JobSpec


def test_jobs_queued_by_a_request_start_after_its_response_and_late_ones_at_once() -> None:
    async def scenario() -> None:
        events: list[str] = []

        async def job(ctx: dict[str, Any], tag: str) -> None:
            events.append(f"job {tag}")

        runner = JobRunner(SimpleNamespace(jobs={"t.job": JobSpec("t.job", job)}),  # type: ignore[arg-type]
                           node_id="n", prefix="p", redis_url=None)
        late = asyncio.Event()
        spawned: list[asyncio.Task[None]] = []

        async def handler(scope: Any, receive: Any, send: Any) -> None:
            await runner.enqueue("t.job", "during")

            async def later() -> None:  # a task the request spawned: it copies the request's context
                await late.wait()
                await runner.enqueue("t.job", "spawned")

            spawned.append(asyncio.create_task(later()))
            await asyncio.sleep(0.01)
            events.append("response sent")

        await after_response(handler)({"type": "http"}, None, None)
        await asyncio.sleep(0.01)
        assert events == ["response sent", "job during"]
        late.set()
        await spawned[0]
        await asyncio.sleep(0.01)
        assert events == ["response sent", "job during", "job spawned"]
        await runner.enqueue("t.job", "outside")  # no request: at once
        await asyncio.sleep(0.01)
        assert events[-1] == "job outside"

    asyncio.run(scenario())
