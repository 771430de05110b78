"""The web UI in a real browser: Playwright driving Debian's Chromium (``/usr/bin/chromium``).

The operator's whole path: log in, turn on the TOTP second factor (its QR code read back from
the page) and log in again with a code, create a server, start it, create a client, decode its QR
code from the page with zxing-cpp, bring the decoded config up with wireguard-go in a client
namespace and ping through the tunnel, disable the client in the list, and the ping fails.
Screenshots of the main pages in both themes are written to docs/screenshots/ for the README.
"""

from __future__ import annotations

import io
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import zxingcpp
from PIL import Image

from ipv6wgm.testing import ServerProcess, running_server, wait_for
from tests.wireguard.test_api_e2e import FAST, bring_up, ping, sh

pytestmark = pytest.mark.netns
playwright_api = pytest.importorskip("playwright.sync_api", reason="the test extra installs playwright")
expect = playwright_api.expect
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    assert Path(CHROMIUM).exists(), "make test installs Debian's chromium (make system-packages)"
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def ui_server() -> Iterator[ServerProcess]:
    with running_server("sqlite", env=FAST) as server:
        server.api_token = server.token()  # taken before the admin turns TOTP on in the browser
        yield server


@pytest.fixture()
def ui_client_ns(ui_server: ServerProcess) -> Iterator[str]:
    """The client's namespace (prefix ``ui``), joined to the server's by a veth (10.99.1.0/24)."""
    ns, veth = f"ui-c{secrets.token_hex(3)}", f"uiv{secrets.token_hex(3)}"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", f"{veth}s", "netns", ui_server.netns, "type", "veth", "peer", "name", f"{veth}c",
           "netns", ns)
        for where, address, dev in ((ui_server.netns, "10.99.1.1/24", f"{veth}s"), (ns, "10.99.1.2/24", f"{veth}c")):
            sh("ip", "-n", where, "addr", "add", address, "dev", dev)
            sh("ip", "-n", where, "link", "set", dev, "up")
        yield ns
    finally:
        for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
            sh("kill", "-9", pid, check=False)
        sh("ip", "netns", "del", ns, check=False)


def log_in(page: object, username: str, password: str, code: str | None = None) -> None:
    page.goto("/")
    assert "/login" in page.url
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    if code is not None:
        page.get_by_label("Two-factor code").fill(code)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def enrol_totp(page: object) -> pyotp.TOTP:
    """Turn on the second factor from the account page, reading the secret from its QR code."""
    page.goto("/account")
    page.locator("#totp-setup").click()
    uri = decode_qr(page.locator("#totp-qr").screenshot())
    assert uri.startswith("otpauth://totp/") and page.locator("#totp-secret").inner_text() in uri
    totp = pyotp.parse_uri(uri)
    page.get_by_label("Code from the app").fill(totp.now())
    page.get_by_role("button", name="Turn on two-factor login").click()
    assert len(page.locator("#recovery-codes").inner_text().split()) == 10
    return totp


def decode_qr(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert len(found) == 1, "exactly one QR code on the image"
    return found[0].text


def shoot(page: object, name: str, theme: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{theme}.png"), full_page=True)


def test_operator_path_qr_tunnel_ping_disable(browser: object, ui_server: ServerProcess, ui_client_ns: str,
                                              tmp_path: Path) -> None:
    context = browser.new_context(base_url=ui_server.base, color_scheme="light", viewport={"width": 1280,
                                                                                           "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, "admin", ui_server.admin_password)
    totp = enrol_totp(page)
    page.locator("#logout").click()
    page.wait_for_url("**/login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(ui_server.admin_password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#error")).to_contain_text("second factor required")
    errors.clear()  # that 401 was the point
    log_in(page, "admin", ui_server.admin_password, totp.at(time.time() + 30))  # enrolment spent this step

    name = f"ui{secrets.token_hex(3)}"
    page.goto("/wireguard/servers")
    page.locator("#new-server").click()
    form = page.locator("#server-form")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Listen port").fill("51840")
    form.get_by_label("IPv4 address").fill("10.77.0.1/24")
    form.get_by_label("IPv6 address").fill("fd77::1/64")
    form.get_by_label("Endpoint").fill("10.99.1.1")
    form.get_by_role("button", name="Create server").click()
    page.wait_for_url("**/wireguard/servers/*")
    assert page.locator("#server-status").inner_text() != "running"
    page.locator("#server-toggle").click()  # Start
    expect(page.locator("#server-status")).to_have_text("running")

    page.get_by_role("button", name="New client").click()  # a link styled as a button
    page.wait_for_url("**/wireguard/clients/new*")
    page.locator("#client-form").get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create client").click()
    qr = page.locator("#qr")
    qr.wait_for()
    config = decode_qr(qr.screenshot())
    assert "[Interface]" in config and "PrivateKey" in config and "Endpoint = 10.99.1.1:51840" in config
    assert config.strip() == "\n".join(line for line in page.locator("#config").text_content().splitlines()
                                       if not line.startswith("#")).strip()

    bring_up(ui_client_ns, config, tmp_path, iface="uic0")
    wait_for(lambda: ping(ui_client_ns, "10.77.0.1"), timeout=20, message="IPv4 ping through the tunnel")
    assert ping(ui_client_ns, "fd77::1"), "IPv6 ping through the tunnel"

    page.goto("/wireguard/clients?search=laptop")
    row = page.locator("tr", has_text="laptop")
    row.get_by_role("button", name="Disable").click()  # htmx swaps the row in place
    page.locator("tr", has_text="laptop").locator(".badge.disabled").wait_for()
    wait_for(lambda: not ping(ui_client_ns, "10.77.0.1"), timeout=20, message="ping to fail once disabled")
    assert not errors, errors  # no script error and no CSP violation on any page

    # screenshots of the main pages, in the light theme (forced) and the dark one (from the OS)
    client_id = page.locator("tr", has_text="laptop").get_attribute("id").removeprefix("client-row-")
    server_id = ui_server.client(ui_server.api_token).get("/wireguard/servers").json()["data"]["servers"][0]["id"]
    pages = {"dashboard": "/", "servers": "/wireguard/servers", "server": f"/wireguard/servers/{server_id}",
             "clients": "/wireguard/clients", "client": f"/wireguard/clients/{client_id}", "users": "/users",
             "account": "/account"}
    state = context.storage_state()
    for theme in ("light", "dark"):
        themed = browser.new_context(base_url=ui_server.base, color_scheme=theme, storage_state=state,
                                     viewport={"width": 1280, "height": 860})
        tab = themed.new_page()
        for shot, path in pages.items():
            tab.goto(path)
            shoot(tab, shot, theme)
        background = tab.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        assert (background == "rgb(255, 255, 255)") == (theme == "light"), background
        themed.close()
    for theme in ("light", "dark"):  # Simplified Chinese, as the browser asks for it
        chinese = browser.new_context(base_url=ui_server.base, color_scheme=theme, storage_state=state,
                                      locale="zh-CN", viewport={"width": 1280, "height": 860})
        tab = chinese.new_page()
        for shot in ("dashboard", "clients", "client"):
            tab.goto(pages[shot])
            assert tab.locator("html").get_attribute("lang") == "zh-CN"
            shoot(tab, f"{shot}-zh", theme)
        assert "仪表盘" in tab.locator("nav").inner_text() and "客户端" in tab.locator("nav").inner_text()
        chinese.close()
    anonymous = browser.new_context(base_url=ui_server.base, color_scheme="dark")
    login_page = anonymous.new_page()
    login_page.goto("/login")
    shoot(login_page, "login", "dark")
    anonymous.close()
    context.close()


def test_theme_toggle_and_a_user_sees_only_own_clients(browser: object, ui_server: ServerProcess) -> None:
    token = ui_server.api_token
    api = ui_server.client(token)
    r = api.post("/wireguard/servers", json={"name": f"ui{secrets.token_hex(3)}", "listen_port": 51841,
                                             "ipv4_address": "10.78.0.1/24", "endpoint": "vpn.example.com"})
    assert r.status_code == 201, r.text
    server_id = r.json()["data"]["id"]
    carol, dave = ui_server.make_user(token), ui_server.make_user(token)
    for owner, client in ((carol, "carol-phone"), (dave, "dave-phone")):
        with ui_server.client(owner["token"]) as mine:
            assert mine.post("/wireguard/clients", json={"name": client, "server_id": server_id}).status_code == 201
    context = browser.new_context(base_url=ui_server.base, color_scheme="light")
    page = context.new_page()
    log_in(page, dave["username"], dave["password"])
    page.goto("/wireguard/clients")
    table = page.locator("#client-table").inner_text()
    assert "dave-phone" in table and "carol-phone" not in table
    assert page.get_by_role("link", name="Servers").count() == 0  # no operator menu for a user
    page.get_by_label("Search").fill("carol")
    expect(page.locator("#client-table")).not_to_contain_text("dave-phone")  # htmx replaced the table
    assert "carol-phone" not in page.locator("#client-table").inner_text()

    html = page.locator("html")
    assert html.get_attribute("data-theme") is None  # automatic: follows the OS
    page.locator("#theme-toggle").click()
    assert html.get_attribute("data-theme") == "light"
    page.locator("#theme-toggle").click()
    assert html.get_attribute("data-theme") == "dark"
    page.reload()
    assert page.locator("html").get_attribute("data-theme") == "dark", "the choice is kept"
    context.close()
