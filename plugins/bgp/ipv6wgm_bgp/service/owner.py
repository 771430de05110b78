"""The one BIRD of this node and the process that owns it, kept in the plugin's process state.

The data-plane owner is the server process in the embedded mode (no Redis) and the
``ipv6wgm worker`` with Redis; an API process with Redis never starts BIRD, it reaches it
through jobs. Ownership is decided once, in the ``startup`` hook, which builds ``BgpState``
and keeps it on the runtime; ``shutdown`` closes it, which stops the BIRD it supervises (or
detaches from a system BIRD it attached to).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ipv6wgm.runtime import Runtime, current
from ipv6wgm_bgp.bird import BirdConfigError, BirdSupervisor, render_config
from ipv6wgm_bgp.settings import bgp_settings, router_id

log = logging.getLogger(__name__)
PLUGIN = "bgp"


class BirdUnavailable(RuntimeError):
    """This process does not own a (running) BIRD."""


class BgpState:
    """What one process keeps: the BIRD it supervises (if it owns the data plane), why that
    BIRD did not start, and the lock that serialises this process's writes (``routes.common``)."""

    def __init__(self) -> None:
        self.supervisor: BirdSupervisor | None = None
        self.start_error: str | None = None
        self.write_lock = asyncio.Lock()

    async def close(self) -> None:
        sup, self.supervisor = self.supervisor, None
        if sup is not None:
            await sup.stop()


def state() -> BgpState:
    return current().state(PLUGIN, BgpState)


def owns_data_plane(runtime: Any) -> bool:
    return runtime.role == "worker" or (runtime.role == "server" and not runtime.settings.redis_url)


def supervisor() -> BirdSupervisor:
    st = state()
    if st.supervisor is None:
        raise BirdUnavailable(st.start_error or "BIRD is not run by this process")
    return st.supervisor


def start_error() -> str | None:
    return state().start_error


def build(runtime: Any) -> BirdSupervisor:
    settings = bgp_settings()
    base = settings.config_dir or (runtime.settings.data_dir / "bgp")
    if settings.socket:
        return BirdSupervisor(base, socket_path=settings.socket, attach=True, timeout=settings.apply_timeout)
    netns = settings.netns or runtime.settings.netns
    prefix = ["ip", "netns", "exec", netns] if netns else []
    return BirdSupervisor(base, bird_binary=settings.bird_binary, command_prefix=prefix,
                          timeout=settings.apply_timeout)


async def start(runtime: Runtime) -> None:
    """Keep this process's state on the runtime; start (or attach to) BIRD if it owns the data
    plane, with the tree the database describes.

    Never fatal for the process: a BIRD that cannot start is reported by the health check and
    by every write (503), and the API keeps serving reads.
    """
    st = BgpState()
    runtime.set_state(PLUGIN, st)
    if not owns_data_plane(runtime):
        return
    from ipv6wgm_bgp.service.desired import render_desired

    sup = build(runtime)
    try:
        files = await render_desired(strict=False)
    except ValueError as e:  # rows that cannot render: start empty rather than not at all
        log.error("BGP rows do not form a valid config (%s); starting BIRD without sessions", e)
        files = render_config(router_id(bgp_settings(), runtime.settings.node_id), [], [])
    try:
        try:
            await sup.start(files)
        except BirdConfigError as e:  # a stored config BIRD refuses: run empty, report it
            log.error("BIRD refused the stored config (%s); starting without sessions", e)
            await sup.start(render_config(router_id(bgp_settings(), runtime.settings.node_id), [], []))
    except Exception as e:  # noqa: BLE001 - see the docstring
        st.start_error = f"BIRD did not start: {e}"[:500]
        log.error("%s", st.start_error)
        await sup.stop()
        return
    st.supervisor = sup
    log.info("BIRD %s on %s (config %s)", "attached" if sup.attach else f"pid {sup.pid}", sup.socket_path,
             sup.config_path)
