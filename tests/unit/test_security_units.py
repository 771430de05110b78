"""Pure security primitives: at-rest encryption, token typing, password policy."""

from __future__ import annotations

import os

import pytest

from ipv6wgm.security.passwords import check_policy
from ipv6wgm.security.secrets_at_rest import SecretBox
from ipv6wgm.security.tokens import ACCESS, REFRESH, TokenError, TokenService


def test_secret_box_round_trip_and_binding() -> None:
    box = SecretBox(os.urandom(32))
    sealed = box.encrypt("private-key", aad="wireguard.client:7:private")
    assert "private-key" not in sealed and sealed.startswith("v1:")
    assert box.decrypt(sealed, aad="wireguard.client:7:private") == "private-key"
    with pytest.raises(ValueError):
        box.decrypt(sealed, aad="wireguard.client:8:private")
    with pytest.raises(ValueError):
        SecretBox(os.urandom(32)).decrypt(sealed, aad="wireguard.client:7:private")
    assert box.encrypt("x") != box.encrypt("x")  # fresh nonce every time


def test_token_types_are_not_interchangeable() -> None:
    svc = TokenService(os.urandom(32), "ipv6wgm", "api")
    access, claims = svc.issue(1, "s" * 32, ACCESS, 60)
    assert svc.verify(access, ACCESS).session_id == "s" * 32 and claims.typ == ACCESS
    with pytest.raises(TokenError):
        svc.verify(access, REFRESH)
    expired, _ = svc.issue(1, "s" * 32, ACCESS, -60)
    with pytest.raises(TokenError) as info:
        svc.verify(expired, ACCESS)
    assert info.value.expired


@pytest.mark.parametrize(("password", "ok"), [
    ("short", False), ("        ", False), ("good password", True), ("x" * 129, False), ("tab\there1", False),
])
def test_password_policy(password: str, ok: bool) -> None:
    assert (check_policy(password) is None) is ok


def test_unsafe_char_ascii_fast_path_agrees_with_the_categories() -> None:
    """The ASCII shortcut (``isprintable``) refuses exactly the characters the categories do."""
    import unicodedata

    from ipv6wgm.validation import unsafe_char

    for code in range(128):
        char = chr(code)
        unsafe = unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}
        assert unsafe_char(f"a{char}b") == (char if unsafe else None), code
    assert unsafe_char("peer-é ok") is None
    assert unsafe_char("x\u202ey") == "\u202e" and unsafe_char("x\u2028") == "\u2028"
