"""The pool arithmetic without a database: exact counts, slot <-> prefix, refusals."""

from __future__ import annotations

import pytest

from ipv6wgm_ipv6.netmath import PoolGeometry, PrefixError, parse_network, utilization


def test_counts_are_exact_at_any_size() -> None:
    assert PoolGeometry.of("2001:db8::/32", 64).total == 4_294_967_296
    assert PoolGeometry.of("2001:db8::/48", 64).total == 65_536
    assert PoolGeometry.of("::/2", 64).total == 2**62
    with pytest.raises(PrefixError):
        PoolGeometry.of("::/1", 64)
    assert PoolGeometry.of("2001:db8::/64", 64).total == 1


def test_slot_and_prefix_round_trip() -> None:
    geo = PoolGeometry.of("2001:db8::/32", 64)
    assert geo.prefix_of(0) == "2001:db8::/64"
    assert geo.prefix_of(1) == "2001:db8:0:1::/64"
    assert geo.prefix_of(2**32 - 1) == "2001:db8:ffff:ffff::/64"
    assert geo.slot_of("2001:db8:ffff:ffff::/64") == 2**32 - 1
    assert geo.slot_range("2001:db8::/56") == (0, 255)
    assert geo.slot_range("2001:db8:0:5::1/128") == (5, 5)


@pytest.mark.parametrize(("prefix", "length", "field"), [
    ("10.0.0.0/8", 24, "prefix"),
    ("2001:db8::1/64", 64, "prefix"),
    ("2001:db8::/48", 40, "prefix_length"),
    ("2001:db8::/48", 129, "prefix_length"),
    ("2001:db8::/48", 128, "prefix_length"),  # 2^80 units: more than a BIGINT slot can number
    ("2001:db8::/33x", 64, "prefix"),
    ("fe80::%eth0/64", 64, "prefix"),
])
def test_refusals_name_the_field(prefix: str, length: int, field: str) -> None:
    with pytest.raises(PrefixError) as exc:
        PoolGeometry.of(prefix, length)
    assert exc.value.field == field


def test_requested_prefix_must_be_one_unit_inside() -> None:
    geo = PoolGeometry.of("2001:db8::/48", 64)
    for bad in ("2001:db9::/64", "2001:db8::/56", "2001:db8::1/64"):
        with pytest.raises(PrefixError):
            geo.slot_of(bad)
    assert parse_network("2001:DB8::/48").compressed == "2001:db8::/48"


def test_utilization() -> None:
    assert utilization(4, 3) == 75.0
    assert utilization(2**32, 1) == 0.0
    assert utilization(3, 1) == 33.3333
    assert utilization(2**62, 2**62) == 100.0
