from __future__ import annotations

import base64

import pytest

from ipv6wgm_wireguard.keys import (
    generate_preshared_key,
    generate_private_key,
    hex_to_key,
    is_zero_key,
    key_to_hex,
    public_key_from_private,
    validate_key,
)

# RFC 7748 §6.1 test vector (Alice).
ALICE_PRIV = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
ALICE_PUB = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")


def test_public_key_matches_rfc7748_vector() -> None:
    priv = base64.b64encode(ALICE_PRIV).decode()
    assert public_key_from_private(priv) == base64.b64encode(ALICE_PUB).decode()


def test_generated_keys_are_valid_and_distinct() -> None:
    priv, psk = generate_private_key(), generate_preshared_key()
    assert validate_key(priv) == priv and validate_key(psk) == psk
    assert validate_key(public_key_from_private(priv))
    assert len({generate_private_key() for _ in range(20)}) == 20
    assert base64.b64decode(priv)[0] & 7 == 0  # clamped


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "A" * 44,  # no padding
        "A" * 43 + "=\n",  # trailing newline
        " " + "A" * 42 + "=",
        "A" * 42 + "B=",  # non-canonical: low bits of the last char set
        base64.b64encode(bytes(31)).decode(),
        base64.b64encode(bytes(33)).decode(),
        "A" * 42 + "\n=",
        "A" * 41 + "-_=",  # urlsafe alphabet
        None,
    ],
)
def test_validate_key_is_strict(bad: object) -> None:
    with pytest.raises(ValueError):
        validate_key(bad)  # type: ignore[arg-type]


def test_hex_round_trip() -> None:
    key = generate_private_key()
    hexed = key_to_hex(key)
    assert len(hexed) == 64 and hexed == hexed.lower()
    assert hex_to_key(hexed) == key
    with pytest.raises(ValueError):
        hex_to_key(hexed.upper())
    with pytest.raises(ValueError):
        hex_to_key(hexed[:-1])
    assert is_zero_key(hex_to_key("0" * 64)) and not is_zero_key(key)
