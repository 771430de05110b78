"""IPv6 WireGuard Manager core: a small, domain-free host for plugins.

`hookimpl` is re-exported here so a plugin needs only ``from ipv6wgm import hookimpl``.
"""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"
PROJECT_NAME = "ipv6wgm"
SERVICE_NAME = "IPv6 WireGuard Manager"

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
hookspec = pluggy.HookspecMarker(PROJECT_NAME)

__all__ = ["PROJECT_NAME", "SERVICE_NAME", "__version__", "hookimpl", "hookspec"]
