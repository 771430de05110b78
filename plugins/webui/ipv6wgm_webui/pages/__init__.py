"""Pages the web UI registers through ``register_ui``: the core's, and the bundled plugins'."""
