"""WireGuard plugin for IPv6 WireGuard Manager."""
