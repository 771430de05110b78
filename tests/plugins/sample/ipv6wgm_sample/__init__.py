"""A tiny plugin used by the test suite (and as a template for plugin authors)."""
