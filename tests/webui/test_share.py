"""One-time share links: a config handed to someone without an account works once, then never
again; a password-protected link is not spent by a wrong password; only those who may read a
client's config can share it."""

from __future__ import annotations

import re
import secrets

from ipv6wgm.testing import ServerProcess
from tests.webui.helpers import WebSession
from tests.wireguard.helpers import make_server

URL_RE = re.compile(r'id="share-url" readonly value="(https?://[^"]+/share/([A-Za-z0-9_-]{22}))"')


def share(web: WebSession, client_id: int, **form: str) -> str:
    web.get(f"/wireguard/clients/{client_id}")
    r = web.post(f"/wireguard/clients/{client_id}/share", {"hours": "1", **form})
    assert r.status_code == 200, r.text
    found = URL_RE.search(r.text)
    assert found, r.text
    return f"/share/{found.group(2)}"


def test_share_link_works_once(server: ServerProcess, admin, admin_token: str) -> None:
    wg_server = make_server(admin)
    r = admin.post("/wireguard/clients", json={"name": f"shared{secrets.token_hex(2)}", "server_id": wg_server["id"]})
    assert r.status_code == 201, r.text
    client = r.json()["data"]
    with WebSession(server) as web:
        web.login("admin", server.admin_password)
        link = share(web, client["id"])
        protected = share(web, client["id"], password="open sesame")
    with WebSession(server) as stranger:
        first = stranger.get(link)
        assert first.status_code == 200 and "[Interface]" in first.text and "PrivateKey" in first.text
        assert 'id="qr"' in first.text
        again = stranger.get(link)
        assert again.status_code == 404 and "[Interface]" not in again.text, "a link works once"
        assert stranger.get(f"/share/{secrets.token_urlsafe(16)}").status_code == 404

        form = stranger.get(protected)
        assert form.status_code == 200 and "[Interface]" not in form.text
        wrong = stranger.post(protected, {"password": "guess"})
        assert wrong.status_code == 403 and "[Interface]" not in wrong.text
        right = stranger.post(protected, {"password": "open sesame"})
        assert right.status_code == 200 and "[Interface]" in right.text, "a wrong password did not spend it"
        assert stranger.post(protected, {"password": "open sesame"}).status_code == 404
        assert stranger.post(protected, {"password": "x"}, csrf=False).status_code == 403  # CSRF first

    mallory = server.make_user(admin_token)
    with WebSession(server) as web:
        web.login(mallory["username"], mallory["password"])
        web.get("/")
        r = web.post(f"/wireguard/clients/{client['id']}/share", {"hours": "1"})
        assert r.status_code == 404, "only who may read the client's config can share it"
