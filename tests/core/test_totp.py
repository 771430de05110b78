"""The optional TOTP second factor through the API: enrolment, login with a code (each code
once), recovery codes (each once), removal with the password. Both backends."""

from __future__ import annotations

import time

import httpx
import pyotp

from ipv6wgm.testing import ServerProcess


def login(server: ServerProcess, user: dict, **extra: str) -> httpx.Response:
    return httpx.post(f"{server.api}/auth/login", json={"username": user["username"], "password": user["password"],
                                                         **extra}, timeout=30)


def test_totp_enrolment_login_recovery_and_removal(server: ServerProcess, admin_token: str) -> None:
    user = server.make_user(admin_token)
    with server.client(user["token"]) as api:
        setup = api.post("/auth/totp/setup")
        assert setup.status_code == 200, setup.text
        secret = setup.json()["data"]["secret"]
        assert setup.json()["data"]["otpauth_uri"].startswith("otpauth://totp/")
        assert login(server, user).status_code == 200, "nothing changes before the first code"
        assert api.post("/auth/totp/enable", json={"code": "000000"}).status_code == 422
        enabled = api.post("/auth/totp/enable", json={"code": pyotp.TOTP(secret).now()})
        assert enabled.status_code == 200, enabled.text
        recovery = enabled.json()["data"]["recovery_codes"]
        assert len(recovery) == 10 and len(set(recovery)) == 10
        assert api.post("/auth/totp/setup").status_code == 409

    missing = login(server, user)
    assert missing.status_code == 401 and missing.json()["error"]["details"]["totp_required"] is True
    assert login(server, user, totp_code="123456").status_code == 401
    wrong_password = httpx.post(f"{server.api}/auth/login", json={"username": user["username"], "password": "nope",
                                                                 "totp_code": pyotp.TOTP(secret).now()})
    assert wrong_password.status_code == 401 and "totp_required" not in str(wrong_password.json())
    code = pyotp.TOTP(secret).at(time.time() + 30)  # the next step: enrolment spent this one
    assert login(server, user, totp_code=code).status_code == 200
    assert login(server, user, totp_code=code).status_code == 401, "a code works once"
    assert login(server, user, totp_code=recovery[0]).status_code == 200
    assert login(server, user, totp_code=recovery[0]).status_code == 401, "a recovery code works once"
    token = login(server, user, totp_code=recovery[1].upper()).json()["data"]["access_token"]

    with server.client(token) as api:
        assert api.post("/auth/totp/disable", json={"password": "wrong"}).status_code == 422
        assert api.post("/auth/totp/disable", json={"password": user["password"]}).status_code == 200
    assert login(server, user).status_code == 200
