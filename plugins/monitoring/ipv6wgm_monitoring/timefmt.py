"""Times and durations as the API writes and reads them (UTC, ISO-8601 with ``Z``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

DURATION = re.compile(r"([0-9]{1,9})([smhdw]?)")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
EPOCH = re.compile(r"[0-9]{1,11}")
MIN_EPOCH, MAX_EPOCH = 0, 253402300799  # 9999-12-31T23:59:59Z


def iso_epoch(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: str) -> int:
    """Epoch seconds from ISO-8601 (``2024-01-01T00:00:00Z``, offsets allowed, naive = UTC) or
    an integer of epoch seconds; ValueError otherwise."""
    if EPOCH.fullmatch(value):
        ts = int(value)
    else:
        if len(value) < 10 or len(value) > 40 or value[4:5] != "-":
            raise ValueError("expected ISO-8601 (2024-01-01T00:00:00Z) or epoch seconds")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("expected ISO-8601 (2024-01-01T00:00:00Z) or epoch seconds") from None
        ts = int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())
    if not MIN_EPOCH <= ts <= MAX_EPOCH:
        raise ValueError("time out of range")
    return ts


def parse_duration(value: str) -> int:
    """Seconds from ``90``, ``90s``, ``5m``, ``1h``, ``7d`` or ``2w``; ValueError otherwise."""
    match = DURATION.fullmatch(value)
    if match is None:
        raise ValueError("expected a duration such as 60, 30s, 5m, 1h or 1d")
    seconds = int(match.group(1)) * UNITS[match.group(2)]
    if not 1 <= seconds <= 10 * 366 * 86400:
        raise ValueError("duration out of range")
    return seconds
