"""The sample plugin's process state: how a plugin keeps what lives as long as its process.

Built in the ``startup`` hook and put on the runtime (``runtime.set_state``), read through
``plugin_state()``, closed in ``shutdown`` (``runtime.close_state``). Never a module global: a
second runtime in the same process (a test, a script) must not inherit it, and something must
close it.
"""

from __future__ import annotations

from ipv6wgm.runtime import current

PLUGIN = "sample"


class SampleState:
    def __init__(self) -> None:
        self.touches = 0  # touch jobs run by this process (shown by the health check)
        self.closed = False

    async def close(self) -> None:
        self.closed = True


def plugin_state() -> SampleState:
    return current().state(PLUGIN, SampleState)
