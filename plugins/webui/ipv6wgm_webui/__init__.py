"""Web UI plugin: server-rendered pages at ``/`` (Jinja + htmx, vendored assets)."""
