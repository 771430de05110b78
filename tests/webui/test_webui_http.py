"""The web UI over HTTP against a real server (SQLite, and MariaDB + Redis + worker): login
cookie, CSRF and Origin checks, revocation shared with the API, per-object authorization,
pages contributed through ``register_ui`` (the core's, the bundled plugins', the sample's)."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

import pytest

from ipv6wgm.testing import ServerProcess
from tests.webui.helpers import WebSession
from tests.wireguard.helpers import make_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def web(server: ServerProcess):
    with WebSession(server) as session:
        session.login("admin", server.admin_password)
        yield session


@pytest.mark.hooks("register_ui")
def test_pages_nav_and_cards_come_from_register_ui(server: ServerProcess, web: WebSession) -> None:
    home = web.get("/")
    assert home.status_code == 200
    for card in ("webui-servers", "webui-my_clients", "webui-host", "webui-bgp", "sample-notes"):
        assert f'id="card-{card}"' in home.text, card
    assert "could not be loaded" not in home.text
    for path in ("/wireguard/servers", "/wireguard/clients", "/users", "/logs", "/system", "/sample/notes", "/bgp",
                 "/ipv6/pools", "/monitoring/alerts"):
        assert f'href="{path}"' in home.text, f"{path} is in the menu"
        page = web.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert "Content-Security-Policy" in page.headers and page.headers["Cache-Control"] == "no-store"
    assert 'id="sample-page"' in web.get("/sample/notes").text  # the sample plugin's own template
    assert web.get("/no/such/page").status_code == 404


def test_cookie_flags_and_anonymous_redirect(server: ServerProcess) -> None:
    with WebSession(server) as anon:
        r = anon.get("/wireguard/clients?search=x")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/wireguard/clients%3Fsearch%3Dx"
        anon.get("/login")
        r = anon.post("/login", {"username": "admin", "password": server.admin_password})
        cookie = r.headers["set-cookie"]
        assert "ipv6wgm_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Secure" not in cookie  # plain HTTP here; over TLS the flag is set
        wrong = anon.post("/login", {"username": "admin", "password": "not-the-password"})
        assert wrong.status_code == 401 and "invalid username or password" in wrong.text


def test_no_open_redirect_after_login(server: ServerProcess) -> None:
    with WebSession(server) as s:
        s.get("/login")
        for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
            r = s.http.post(f"/login?next={target}", data={"username": "admin", "password": server.admin_password,
                                                           "csrf_token": s.csrf}, headers={"Origin": server.base})
            assert r.status_code == 303 and r.headers["location"] == "/", target


def test_csrf_less_or_cross_origin_post_is_refused(server: ServerProcess, web: WebSession, admin) -> None:
    web.get("/wireguard/servers")
    name = f"csrf{secrets.token_hex(3)}"
    form = {"name": name, "listen_port": "51999", "ipv4_address": "10.99.0.1/24", "endpoint": "vpn.example.com"}
    refused = [
        web.post("/wireguard/servers", form, csrf=False),
        web.post("/wireguard/servers", {**form, "csrf_token": "0" * 64}, csrf=False),
        web.post("/wireguard/servers", form, origin="https://evil.example"),
        web.post("/wireguard/servers", form, origin=None),
        web.post("/wireguard/servers", form, csrf=False, headers={"X-CSRF-Token": "f" * 64}),
    ]
    for response in refused:
        assert response.status_code == 403 and ("CSRF" in response.text or "Origin" in response.text)
    names = [s["name"] for s in admin.get("/wireguard/servers", params={"size": 100}).json()["data"]["servers"]]
    assert name not in names, "a refused post changed nothing"
    with WebSession(server) as fresh:  # the login form is protected too
        assert fresh.post("/login", {"username": "admin", "password": server.admin_password},
                          csrf=False).status_code == 403
    ok = web.post("/wireguard/servers", form)
    assert ok.status_code == 303, ok.text
    header = web.post("/wireguard/servers", {**form, "name": name + "h", "listen_port": "51998"}, csrf=False,
                      headers={"X-CSRF-Token": web.csrf, "HX-Request": "true"})
    assert header.status_code == 204 and header.headers["HX-Redirect"].startswith("/wireguard/servers/")


def test_logout_and_revocation_end_the_browser_session(server: ServerProcess, admin_token: str) -> None:
    user = server.make_user(admin_token)
    with WebSession(server) as s:
        s.login(user["username"], user["password"])
        cookie = s.http.cookies["ipv6wgm_session"]
        assert s.get("/").status_code == 200
        s.post("/logout")
        with WebSession(server) as replay:  # a copied cookie is dead too: the session row is revoked
            replay.http.cookies.set("ipv6wgm_session", cookie)
            assert replay.get("/").status_code == 303
    with WebSession(server) as s:
        s.login(user["username"], user["password"])
        assert s.get("/").status_code == 200
        # A password change through the API ends every other session of the user, this one included.
        with server.client(user["token"]) as api:
            r = api.post("/auth/change-password", json={"current_password": user["password"],
                                                        "new_password": "another-password-456"})
            assert r.status_code == 200, r.text
        assert s.get("/").status_code == 303


def test_a_user_sees_only_their_own_clients(server: ServerProcess, admin, admin_token: str) -> None:
    wg_server = make_server(admin)
    alice, bob = server.make_user(admin_token), server.make_user(admin_token)
    ids = {}
    for owner, names in ((alice, ("alice-phone", "alice-laptop")), (bob, ("bob-phone",))):
        with server.client(owner["token"]) as api:
            for name in names:
                r = api.post("/wireguard/clients", json={"name": name, "server_id": wg_server["id"]})
                assert r.status_code == 201, r.text
                ids[name] = r.json()["data"]["id"]
    with WebSession(server) as s:
        s.login(bob["username"], bob["password"])
        page = s.get("/wireguard/clients").text
        assert "bob-phone" in page and "alice-phone" not in page and "alice-laptop" not in page
        assert s.get(f"/wireguard/clients/{ids['alice-phone']}").status_code == 404
        assert s.get(f"/wireguard/clients/{ids['alice-phone']}/config").status_code == 404
        r = s.post(f"/wireguard/clients/{ids['alice-phone']}/disable")
        assert r.status_code == 404
        assert s.get("/wireguard/servers").status_code == 403  # an operator page
        assert 'href="/wireguard/servers"' not in s.get("/").text
    with WebSession(server) as s:
        s.login(alice["username"], alice["password"])
        page = s.get("/wireguard/clients", params={"search": "laptop"}).text
        assert "alice-laptop" in page and "alice-phone" not in page
        conf = s.get(f"/wireguard/clients/{ids['alice-phone']}/config")
        assert conf.status_code == 200 and "[Interface]" in conf.text and "PrivateKey" in conf.text
        qr = s.get(f"/wireguard/clients/{ids['alice-phone']}/qr")
        assert qr.status_code == 200 and qr.headers["content-type"] == "image/png"
        r = s.post(f"/wireguard/clients/{ids['alice-phone']}/disable")
        assert r.status_code == 303
        disabled = s.get("/wireguard/clients", params={"status": "disabled"}).text
        assert "alice-phone" in disabled and "alice-laptop" not in disabled
        ordered = s.get("/wireguard/clients", params={"sort": "-name"}).text
        assert ordered.index("alice-phone") < ordered.index("alice-laptop")


def test_kept_page_parts_never_cross_users_languages_or_changes(server: ServerProcess, admin,
                                                                admin_token: str) -> None:
    """The clients page keeps its rows' HTML and the HTML around them between requests
    (``render_page``'s row memo, ``frames``): whatever differs — the viewer, their CSRF token,
    the language, a row changed through the API, an empty result — shows at once."""
    wg_server = make_server(admin)
    alice, bob = server.make_user(admin_token), server.make_user(admin_token)
    ids = {}
    for owner, name in ((alice, "alice-tablet"), (bob, "bob-tablet")):
        with server.client(owner["token"]) as api:
            r = api.post("/wireguard/clients", json={"name": name, "server_id": wg_server["id"]})
            assert r.status_code == 201, r.text
            ids[name] = r.json()["data"]["id"]
    with WebSession(server) as a, WebSession(server) as b:
        a.login(alice["username"], alice["password"])
        b.login(bob["username"], bob["password"])
        for _ in range(2):  # the second time from the memos
            mine, theirs = a.get("/wireguard/clients").text, b.get("/wireguard/clients").text
            assert a.csrf and b.csrf and a.csrf != b.csrf
            assert f'id="account">{alice["username"]}<' in mine and bob["username"] not in mine
            assert "alice-tablet" in mine and "bob-tablet" not in mine and b.csrf not in mine
            row = mine[mine.index(f'id="client-row-{ids["alice-tablet"]}"'):]
            assert f'name="csrf_token" value="{a.csrf}"' in row[:row.index("</tr>")], "the viewer's token"
            assert f'id="account">{bob["username"]}<' in theirs and "alice-tablet" not in theirs
            assert "bob-tablet" in theirs and a.csrf not in theirs
        with server.client(alice["token"]) as api:
            r = api.put(f"/wireguard/clients/{ids['alice-tablet']}", json={"name": "alice-renamed"})
            assert r.status_code == 200, r.text
        page = a.get("/wireguard/clients").text
        assert "alice-renamed" in page and "alice-tablet" not in page
        chinese = a.get("/wireguard/clients", headers={"Accept-Language": "zh-CN"}).text
        assert "<h1>WireGuard 客户端</h1>" in chinese and ">未活跃</span>" in chinese and ">inactive<" not in chinese
        english = a.get("/wireguard/clients").text
        assert "<h1>WireGuard clients</h1>" in english and ">inactive</span>" in english and "未活跃" not in english
        table = a.get("/wireguard/clients", headers={"HX-Request": "true", "HX-Target": "client-table"}).text
        assert table.lstrip().startswith('<div id="client-table"') and "<html" not in table
        assert "alice-renamed" in table and f'value="{a.csrf}"' in table
        empty = a.get("/wireguard/clients", params={"search": "no-such-client"}).text
        assert "No clients match." in empty and "client-row-" not in empty


def test_docs_load_the_vendored_swagger_ui(server: ServerProcess) -> None:
    import httpx

    docs = httpx.get(f"{server.base}/docs", timeout=30).text
    assert "/static/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    lines = (ROOT / "core/static/swagger-ui/SHA256SUMS").read_text().splitlines()
    sums = {name: digest for digest, name in (line.split() for line in lines)}
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        body = httpx.get(f"{server.base}/static/swagger-ui/{name}", timeout=30).content
        assert hashlib.sha256(body).hexdigest() == sums[name]


@pytest.mark.hooks("register_ui")
def test_pages_of_a_missing_plugin_are_not_mounted() -> None:
    """``requires=`` pages (the web UI's monitoring pages) and a plugin's own pages (the
    sample's) disappear with the plugin: no route, no menu entry, no card."""
    server = ServerProcess(env={"IPV6WGM_DISABLED_PLUGINS": "monitoring,sample"}, netns=False).start()
    try:
        with WebSession(server) as web:
            web.login("admin", server.admin_password)
            home = web.get("/").text
            assert 'href="/wireguard/clients"' in home and 'id="card-webui-servers"' in home
            assert 'href="/monitoring/alerts"' not in home and 'href="/sample/notes"' not in home
            assert 'id="card-webui-host"' not in home and 'id="card-sample-notes"' not in home
            assert web.get("/monitoring/alerts").status_code == 404
            assert web.get("/sample/notes").status_code == 404
    finally:
        server.cleanup()
