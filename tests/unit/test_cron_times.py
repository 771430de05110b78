"""arq crons are calendar based: "every N seconds" must map onto second/minute sets."""

from __future__ import annotations

import pytest

from ipv6wgm_entrypoints.worker import _cron_times


@pytest.mark.parametrize(("every", "expected"), [
    (5, {"second": set(range(0, 60, 5))}),
    (7, {"second": set(range(0, 60, 10))}),
    (60, {"minute": set(range(60)), "second": 0}),
    (600, {"minute": set(range(0, 60, 10)), "second": 0}),
    (3600, {"hour": set(range(24)), "minute": 0, "second": 0}),
])
def test_cron_times(every: int, expected: dict) -> None:
    assert _cron_times(every) == expected
