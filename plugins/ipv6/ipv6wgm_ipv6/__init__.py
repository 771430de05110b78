"""IPv6 prefix pools and allocations plugin (see plugin.py for the service contract)."""
