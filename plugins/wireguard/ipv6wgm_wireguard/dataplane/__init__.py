"""WireGuard data plane: desired interface/peer state applied incrementally.

``get_backend("auto")`` prefers the kernel implementation and falls back to wireguard-go.
"""

from __future__ import annotations

import os
from typing import Any

from .base import WireGuardBackend
from .types import InterfaceSpec, InterfaceState, PeerSpec, PeerState, SyncResult

__all__ = [
    "InterfaceSpec",
    "InterfaceState",
    "PeerSpec",
    "PeerState",
    "SyncResult",
    "WireGuardBackend",
    "get_backend",
    "kernel_wireguard_available",
]


def kernel_wireguard_available() -> bool:
    """The module is loaded (or built in) when its sysfs directory exists.

    Only checked, never loaded: a worker without CAP_SYS_MODULE could not load it anyway, and
    a built-in WireGuard also shows up under /sys/module.
    """
    return os.path.isdir("/sys/module/wireguard")


def get_backend(kind: str = "auto", **opts: Any) -> WireGuardBackend:
    """``kind`` is ``auto``, ``kernel`` or ``userspace``; ``opts`` go to the backend's constructor."""
    if kind == "auto":
        kind = "kernel" if kernel_wireguard_available() else "userspace"
    if kind == "kernel":
        from .kernel import KernelBackend

        return KernelBackend(**opts)
    if kind == "userspace":
        from .userspace import UserspaceBackend

        return UserspaceBackend(**opts)
    raise ValueError(f"unknown WireGuard backend {kind!r} (expected auto, kernel or userspace)")
