"""Jobs: ``enqueue()``/``call()`` through arq when Redis is configured, in-process otherwise.

The embedded default (no Redis) runs jobs and crons inside the server process so a laptop or
a single gateway needs no worker. With Redis, each node's worker consumes its own queue
(``<prefix>:queue:<node_id>``) so a job lands on the node that owns the data plane it changes.
Jobs apply desired state and are idempotent, which makes arq's at-least-once delivery safe.

A job fails in one way, ``JobFailed``, which survives arq's pickling; ``JobRunner.call_api``
runs a job where it belongs and turns any failure (the job's, a timeout, no live worker for
the node, Redis down) into the API's error envelope, the same in both modes.

An in-process job queued while an HTTP request is handled starts once that request's response
has been sent (``after_response``), as it would on a worker: the request does not share the
event loop with its own jobs (adding a WireGuard peer is a request of a few milliseconds, its
job about as long). Nothing the client is told changes: ``enqueue`` answered "queued" either
way, and a failing job is reported the same (logged; the reconcile crons repair).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from typing import Any

from ipv6wgm.api import SERVICE_UNAVAILABLE, ApiError
from ipv6wgm.cron import LEADERSHIP_SERVICE, Leadership, tick_of
from ipv6wgm.registry import CronSpec, JobSpec, Registry

log = logging.getLogger(__name__)

#: How often a worker refreshes its liveness key (arq's health check); the key lives one second
#: longer, so a worker that died or hangs is noticed within this many seconds.
HEARTBEAT_S = 5


class _Deferred:
    """The starts of in-process jobs an HTTP request queued. ``open`` turns False once they ran:
    a task the request spawned copies the context, and a job it queues later starts at once
    instead of joining a list nobody drains any more."""

    __slots__ = ("open", "starts")

    def __init__(self) -> None:
        self.open = True
        self.starts: list[Callable[[], None]] = []


_after_response: ContextVar[_Deferred | None] = ContextVar("ipv6wgm_after_response", default=None)

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


def after_response(asgi_app: ASGIApp) -> ASGIApp:
    """ASGI middleware: in-process jobs an HTTP request queues start when its response is out
    (the app returns once the last byte is handed to the server)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await asgi_app(scope, receive, send)
            return
        deferred = _Deferred()
        token = _after_response.set(deferred)
        try:
            await asgi_app(scope, receive, send)
        finally:
            _after_response.reset(token)
            deferred.open = False
            for start in deferred.starts:
                start()

    return app


class UnknownJob(KeyError):
    pass


class JobFailed(Exception):
    """The one way a job fails: ``step`` names the part of the work that failed, ``message`` why.

    It crosses arq's pickle boundary intact: ``__reduce__`` rebuilds it from its fields (an
    exception whose ``__init__`` does not take its ``args`` cannot be unpickled, and arq then
    reports a deserialisation error instead of the failure). ``status`` and ``code`` say how the
    API answers: 503 SERVICE_UNAVAILABLE by default (the data plane failed); a job that finds the
    request itself unacceptable (BIRD refused the config) says 422 VALIDATION_ERROR or 409.
    ``details`` (plain, picklable data) go into the envelope with the step and the node.
    Subclasses keep this signature.
    """

    def __init__(self, step: str, message: str, status: int = 503, code: str = SERVICE_UNAVAILABLE,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{step}: {message}")
        self.step, self.message, self.status, self.code = step, message, status, code
        self.details = dict(details or {})

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.step, self.message, self.status, self.code, self.details))

    def api_error(self, node: str) -> ApiError:
        details = {**self.details, "step": self.step, "node_id": node}
        if self.status == 503:
            details.setdefault("error", self.message)
            return ApiError(503, self.code, f"data plane on node {node!r}: {self}", details)
        return ApiError(self.status, self.code, self.message, details)


class NoLiveWorker(ConnectionError):
    """Redis is configured but no worker of the node refreshed its liveness key: a waited job
    would only time out."""

    def __init__(self, node: str) -> None:
        super().__init__(f"no live worker for node {node!r}")
        self.node = node


def queue_name(prefix: str, node_id: str) -> str:
    return f"{prefix}:queue:{node_id}"


def health_key(prefix: str, node_id: str) -> str:
    """The key a node's worker refreshes every ``HEARTBEAT_S`` (arq's ``health_check_key``)."""
    return f"{prefix}:health:{node_id}"


def leadership(ctx: dict[str, Any]) -> Leadership | None:
    """The leader election a plugin offers (``ipv6wgm.cron.LEADERSHIP_SERVICE``), if any."""
    runtime = ctx.get("runtime")
    return runtime.services.get(LEADERSHIP_SERVICE) if runtime is not None else None


def fenced(ctx: dict[str, Any]) -> AbstractAsyncContextManager[Any]:
    """The transaction a cluster cron writes in: fenced by its leader epoch when a leader
    election is installed (a leader that lost the lease while it paused is refused with
    ``JobFailed``, step ``fencing``), a plain transaction otherwise."""
    from tortoise.transactions import in_transaction

    election, epoch = leadership(ctx), ctx.get("leader_epoch")
    return election.fenced(epoch) if election is not None and epoch is not None else in_transaction()


async def run_cron(spec: CronSpec, ctx: dict[str, Any]) -> Any:
    """One tick of a cron, the same under both runners: a ``JobFailed`` is an expected,
    reported condition (a warning, the next tick retries); anything else is a bug and raises.
    A cluster cron runs only where the leader election (if installed) grants the tick."""
    try:
        election = leadership(ctx) if spec.scope == "cluster" else None
        if election is not None:
            tick = ctx.get("cron_tick")
            epoch = await election.claim_tick(spec.name, int(tick if tick is not None else time.time()), spec.every)
            if epoch is None:
                return None
            ctx["leader_epoch"] = epoch
        return await spec.func(ctx)
    except JobFailed as exc:
        log.warning("cron %s failed: %s", spec.name, exc)
        return None


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

    def _spec(self, name: str) -> JobSpec:
        spec = self.registry.jobs.get(name)
        if spec is None:
            raise UnknownJob(name)
        return spec

    async def _queue(self) -> Any:
        if self._pool is None:
            await self.start(run_crons=False)
        if self._pool is None:
            raise ConnectionError("job queue (Redis) unavailable")
        return self._pool

    async def enqueue(self, name: str, *args: Any, node: str | None = None, job_id: str | None = None) -> str | None:
        """Queue a job for ``node`` (default: this node). Returns the job id, or None if a job
        with the same ``job_id`` is already queued (arq de-duplication). A node without a live
        worker keeps the job queued until its worker starts."""
        spec = self._spec(name)
        if self.redis_url:
            from redis.exceptions import RedisError

            pool = await self._queue()
            try:
                job = await pool.enqueue_job(
                    name, *args, _job_id=job_id, _queue_name=queue_name(self.prefix, node or self.node_id))
            except RedisError as exc:
                raise ConnectionError(f"job queue (Redis): {exc}") from exc
            return job.job_id if job is not None else None
        job_id = job_id or uuid.uuid4().hex
        deferred = _after_response.get()
        if deferred is None or not deferred.open:
            self._start_local(spec, args, job_id)
        else:
            deferred.starts.append(lambda: self._start_local(spec, args, job_id))
        return job_id

    def _start_local(self, spec: JobSpec, args: tuple[Any, ...], job_id: str) -> None:
        task = asyncio.create_task(self._run_local(spec, args, job_id), name=f"job:{spec.name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def call(self, name: str, *args: Any, node: str | None = None, wait_s: float = 30.0) -> Any:
        """Run a job where it belongs and wait for its result (or its exception).

        Inline in the embedded mode, through the owning node's worker with Redis. Raises what
        the job raised (``JobFailed``), ``NoLiveWorker`` at once when no worker of the node is
        alive, ``TimeoutError`` when the worker does not answer in time, ``ConnectionError``
        when Redis is down. API routes use ``call_api``, which maps all of these.
        """
        spec = self._spec(name)
        node = node or self.node_id
        if not self.redis_url:
            return await asyncio.wait_for(spec.func(self._ctx(uuid.uuid4().hex), *args), wait_s)
        from redis.exceptions import RedisError

        pool = await self._queue()
        try:
            if not await pool.exists(health_key(self.prefix, node)):
                raise NoLiveWorker(node)
            job = await pool.enqueue_job(name, *args, _queue_name=queue_name(self.prefix, node))
        except RedisError as exc:
            raise ConnectionError(f"job queue (Redis): {exc}") from exc
        try:
            return await job.result(timeout=wait_s, poll_delay=0.05)
        except RedisError as exc:
            raise ConnectionError(f"job queue (Redis): {exc}") from exc

    async def call_api(self, name: str, *args: Any, node: str | None = None, wait_s: float = 30.0) -> Any:
        """``call()`` for a route: every way the job can fail becomes an ``ApiError``.

        A ``JobFailed`` answers with its own status (503 by default) and ``details.step``;
        no live worker, a timeout or Redis down answer 503. Every answer names the node.
        """
        node = node or self.node_id
        try:
            return await self.call(name, *args, node=node, wait_s=wait_s)
        except JobFailed as exc:
            raise exc.api_error(node) from None
        except NoLiveWorker:
            raise ApiError(503, SERVICE_UNAVAILABLE,
                           f"no live worker for node {node!r}: run `ipv6wgm worker` with IPV6WGM_NODE_ID={node}",
                           {"node_id": node, "job": name}) from None
        except TimeoutError:
            raise ApiError(503, SERVICE_UNAVAILABLE, f"node {node!r} did not finish {name} within {wait_s:g} s",
                           {"node_id": node, "job": name}) from None
        except ConnectionError as exc:
            raise ApiError(503, SERVICE_UNAVAILABLE, f"job queue unavailable: {exc}",
                           {"node_id": node, "job": name}) from None

    async def run_now(self, name: str, *args: Any) -> Any:
        """Run a job inline and return its result (CLI, tests of idempotence)."""
        return await self._spec(name).func(self._ctx(uuid.uuid4().hex), *args)

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
            except JobFailed as exc:
                log.warning("job %s failed: %s", spec.name, exc)
                return
            except Exception:
                log.exception("job %s failed", spec.name)
                return

    async def _cron_loop(self, spec: CronSpec) -> None:
        """Run on the same clock ticks as arq (multiples of ``every``), so a cron behaves the
        same embedded and in a worker; a tick missed while the previous run lasted is skipped."""
        last = -math.inf
        if spec.run_at_startup:
            last = tick_of(time.time(), spec.every)
            await self._cron_tick(spec, last)
        while True:
            now = time.time()
            tick = max(tick_of(now, spec.every) + spec.every, last + spec.every)
            await asyncio.sleep(max(0.0, tick - now))
            last = tick
            await self._cron_tick(spec, int(tick))

    async def _cron_tick(self, spec: CronSpec, tick: int) -> None:
        ctx = {**self._ctx(f"cron:{spec.name}:{tick}"), "cron_tick": tick}
        try:
            await asyncio.wait_for(run_cron(spec, ctx), spec.timeout)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("cron %s failed", spec.name)
