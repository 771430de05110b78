"""Login throttling per (account, source address), with a delay that doubles per failure.

A lock per account lets anyone who knows a username lock its owner out; so failures are counted
per account *and* source address (an IPv6 source counts as its /64, which one client usually
holds whole). The first ``lockout_threshold`` failures from a source cost nothing; from then on
each failure blocks that pair for 1, 2, 4, ... seconds, at most ``lockout_seconds``. The owner,
from any other address, logs in as usual. Failures are forgotten a day after the last one, or
when the pair logs in successfully.

A blocked attempt answers exactly like a wrong password (same status, body and, since the
password is still verified once, same time): the answer reveals neither the block nor whether
the account exists. Unknown usernames are counted the same way as known ones.

The counters live in the rate limiter: Redis when configured (every process and node sees the
same counts), process memory otherwise.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from ipv6wgm.security.ratelimit import RateLimiter

FORGET_AFTER_S = 86_400


def source_of(address: str | None) -> str:
    """The source a failure is charged to: an IPv4 address, or an IPv6 address's /64."""
    try:
        ip = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def delay_after(failures: int, threshold: int, longest: int) -> int:
    """Seconds a pair stays blocked after its ``failures``-th failure (0 below the threshold)."""
    if failures < threshold:
        return 0
    return min(longest, 2 ** min(failures - threshold, 30))


@dataclass
class LoginThrottle:
    limiter: RateLimiter
    threshold: int
    longest: int

    @staticmethod
    def _key(username: str, address: str | None) -> str:
        # Hashed: keys stay short, and Redis holds no usernames or addresses.
        pair = f"{username.casefold()}\0{source_of(address)}".encode()
        return "login:" + hashlib.sha256(pair).hexdigest()[:32]

    async def blocked(self, username: str, address: str | None) -> bool:
        return await self.limiter.get(self._key(username, address) + ":block") is not None

    async def failed(self, username: str, address: str | None) -> int:
        """Count a failure; returns the delay now imposed on this pair (0: none yet)."""
        key = self._key(username, address)
        failures = await self.limiter.incr(key + ":n", FORGET_AFTER_S)
        delay = delay_after(failures, self.threshold, self.longest)
        if delay:
            await self.limiter.set_flag(key + ":block", delay)
        return delay

    async def succeeded(self, username: str, address: str | None) -> None:
        key = self._key(username, address)
        await self.limiter.clear(key + ":n", key + ":block")
