"""How processes start: the ASGI app for Hypercorn, the arq worker settings, the CLI."""
