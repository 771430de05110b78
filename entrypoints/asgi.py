"""ASGI entry point: ``hypercorn ipv6wgm_entrypoints.asgi:app`` (settings from the environment)."""

from __future__ import annotations

from ipv6wgm.app import create_app
from ipv6wgm.settings import SettingsError

try:
    app = create_app()
except SettingsError as exc:  # one line for the operator, not a traceback from the ASGI server
    raise SystemExit(f"ipv6wgm: {exc}") from None
