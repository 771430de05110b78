"""ASGI entry point: ``hypercorn ipv6wgm_entrypoints.asgi:app`` (settings from the environment)."""

from __future__ import annotations

from ipv6wgm.app import create_app

app = create_app()
