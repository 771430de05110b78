"""BGP plugin for IPv6 WireGuard Manager.

The database keeps BGP sessions and announcements; a supervised BIRD 2 is made to match
them through generated config files and its control socket (see ``ipv6wgm_bgp.bird``).
"""
