"""``enqueue()``: through arq when Redis is configured, in-process otherwise.

The embedded default (no Redis) runs jobs and crons inside the server process so a laptop or
a single gateway needs no worker. With Redis, each node's worker consumes its own queue
(``<prefix>:queue:<node_id>``) so a job lands on the node that owns the data plane it changes.
Jobs apply desired state and are idempotent, which makes arq's at-least-once delivery safe.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from ipv6wgm.registry import CronSpec, JobSpec, Registry

log = logging.getLogger(__name__)


class UnknownJob(KeyError):
    pass


def queue_name(prefix: str, node_id: str) -> str:
    return f"{prefix}:queue:{node_id}"


class JobRunner:
    def __init__(self, registry: Registry, *, node_id: str, prefix: str, redis_url: str | None) -> None:
        self.registry = registry
        self.node_id = node_id
        self.prefix = prefix
        self.redis_url = redis_url
        self._pool: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._crons: list[asyncio.Task[Any]] = []
        self.context: dict[str, Any] = {}

    @property
    def mode(self) -> str:
        return "arq" if self.redis_url else "in-process"

    async def start(self, *, run_crons: bool) -> None:
        if self.redis_url:
            from arq import create_pool
            from arq.connections import RedisSettings

            settings = RedisSettings.from_dsn(self.redis_url)
            settings.conn_timeout, settings.conn_retries = 2, 1
            try:
                self._pool = await create_pool(settings)
            except Exception as exc:  # noqa: BLE001 - jobs resume once Redis is back
                log.warning("job queue unavailable at start-up: %s", exc)
        elif run_crons:
            for spec in self.registry.crons.values():
                self._crons.append(asyncio.create_task(self._cron_loop(spec), name=f"cron:{spec.name}"))

    async def stop(self) -> None:
        for task in self._crons:
            task.cancel()
        pending = list(self._tasks) + self._crons
        if pending:
            await asyncio.wait(pending, timeout=10)
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    async def enqueue(self, name: str, *args: Any, node: str | None = None, job_id: str | None = None) -> str | None:
        """Queue a job for ``node`` (default: this node). Returns the job id, or None if a job
        with the same ``job_id`` is already queued (arq de-duplication)."""
        spec = self.registry.jobs.get(name)
        if spec is None:
            raise UnknownJob(name)
        if self.redis_url:
            if self._pool is None:
                await self.start(run_crons=False)
            if self._pool is None:
                raise ConnectionError("job queue (Redis) unavailable")
            job = await self._pool.enqueue_job(
                name, *args, _job_id=job_id, _queue_name=queue_name(self.prefix, node or self.node_id)
            )
            return job.job_id if job is not None else None
        job_id = job_id or uuid.uuid4().hex
        task = asyncio.create_task(self._run_local(spec, args, job_id), name=f"job:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job_id

    async def call(self, name: str, *args: Any, node: str | None = None, wait_s: float = 30.0) -> Any:
        """Run a job where it belongs and wait for its result (or its exception).

        For API calls whose answer depends on the data plane (start a server, read live peers):
        inline in the embedded mode, through the owning node's worker with Redis. Raises
        ``TimeoutError`` when the worker does not answer in time.
        """
        spec = self.registry.jobs.get(name)
        if spec is None:
            raise UnknownJob(name)
        if not self.redis_url:
            return await asyncio.wait_for(spec.func(self._ctx(uuid.uuid4().hex), *args), wait_s)
        if self._pool is None:
            await self.start(run_crons=False)
        if self._pool is None:
            raise ConnectionError("job queue (Redis) unavailable")
        job = await self._pool.enqueue_job(name, *args, _queue_name=queue_name(self.prefix, node or self.node_id))
        return await job.result(timeout=wait_s, poll_delay=0.05)

    async def run_now(self, name: str, *args: Any) -> Any:
        """Run a job inline and return its result (CLI, tests of idempotence)."""
        spec = self.registry.jobs.get(name)
        if spec is None:
            raise UnknownJob(name)
        return await spec.func(self._ctx(uuid.uuid4().hex), *args)

    def _ctx(self, job_id: str, job_try: int = 1) -> dict[str, Any]:
        return {**self.context, "job_id": job_id, "job_try": job_try, "enqueue_time": time.time()}

    async def _run_local(self, spec: JobSpec, args: tuple[Any, ...], job_id: str) -> None:
        from arq.worker import Retry

        for attempt in range(1, spec.max_tries + 1):
            try:
                await asyncio.wait_for(spec.func(self._ctx(job_id, attempt), *args), spec.timeout)
                return
            except Retry as retry:
                delay = retry.defer_score / 1000 if retry.defer_score else attempt
                await asyncio.sleep(delay)
            except Exception:
                log.exception("job %s failed", spec.name)
                return

    async def _cron_loop(self, spec: CronSpec) -> None:
        if not spec.run_at_startup:
            await asyncio.sleep(spec.every)
        while True:
            started = time.monotonic()
            try:
                await asyncio.wait_for(spec.func(self._ctx(f"cron:{spec.name}")), max(spec.every * 5, 60))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("cron %s failed", spec.name)
            await asyncio.sleep(max(0.0, spec.every - (time.monotonic() - started)))
