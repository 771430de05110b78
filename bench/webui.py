"""The web UI's clients page against the JSON API for the same page, at 10,000 clients.

Both are served by the same server process, measured in the same run with the same load
generator (bench/api.py): the first page, a search, and the last page (page size 50 on both).
Each is measured as a full page (``web``: a first visit, layout included) and as the htmx
request the page itself sends when one searches, sorts or pages (``partial``: the table only).
A ratio is page time / API time per request (requests/second of the API over those of the page;
target <= 1.5). The last line is one JSON object.

    python bench/webui.py [--seconds 5] [--connections 8] [--clients 10000]
"""

from __future__ import annotations

import argparse
import json
import math
import re

import httpx
from api import measure, seed_clients  # bench/api.py: the load generator and the bulk seeding

from ipv6wgm.testing import ServerProcess

SIZE = 50  # the web UI's page size


def web_cookie(server: ServerProcess) -> str:
    """Log in through the login form, as a browser does; returns the Cookie header."""
    with httpx.Client(base_url=server.base, timeout=30) as web:
        page = web.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
        assert csrf, "login form without a CSRF token"
        r = web.post("/login", data={"username": "admin", "password": server.admin_password,
                                     "csrf_token": csrf.group(1)}, headers={"Origin": server.base})
        assert r.status_code == 303, r.text
        return "; ".join(f"{k}={v}" for k, v in web.cookies.items())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--clients", type=int, default=10_000)
    args = parser.parse_args()

    server = ServerProcess(env={"IPV6WGM_LOG_LEVEL": "WARNING"})
    try:
        server.start()
        token = server.token()
        seed_clients(server, token, args.clients)
        bearer = {"Authorization": f"Bearer {token}"}
        cookie = {"Cookie": web_cookie(server)}
        last = math.ceil(args.clients / SIZE)
        cases = {
            "first": ("/wireguard/clients", f"/api/v1/wireguard/clients?size={SIZE}"),
            "search": ("/wireguard/clients?search=bench-99", f"/api/v1/wireguard/clients?size={SIZE}&search=bench-99"),
            "last": (f"/wireguard/clients?page={last}", f"/api/v1/wireguard/clients?size={SIZE}&page={last}"),
        }
        with httpx.Client(base_url=server.base, timeout=30) as check:
            for web_path, api_path in cases.values():
                page = check.get(web_path, headers=cookie)
                assert page.status_code == 200 and 'id="client-table"' in page.text, web_path
                api = check.get(api_path, headers=bearer).json()["data"]
                names = [c["name"] for c in api["clients"]]
                assert names and all(f">{name}</a>" in page.text for name in names), "same rows on both"
        result: dict[str, float | int] = {"clients": args.clients, "page_size": SIZE}
        partial = {**cookie, "HX-Request": "true", "HX-Target": "client-table"}
        for name, (web_path, api_path) in cases.items():
            # interleaved, best of two: other processes on the machine move the figures around
            runs: dict[str, list[float]] = {"api": [], "web": [], "partial": []}
            for _ in range(2):
                runs["api"].append(measure(server.port, api_path, bearer, args.seconds, args.connections))
                runs["web"].append(measure(server.port, web_path, cookie, args.seconds, args.connections))
                runs["partial"].append(measure(server.port, web_path, partial, args.seconds, args.connections))
            best = {kind: max(values) for kind, values in runs.items()}
            print(f"{name:<7} " + "   ".join(f"{kind} {rps:7.1f} req/s ({1000 / rps:6.2f} ms)"
                                             for kind, rps in best.items()))
            for kind, rps in best.items():
                result[f"{name}_{kind}_rps"] = round(rps, 1)
            result[f"{name}_web_vs_api"] = round(best["api"] / best["web"], 3)
            result[f"{name}_partial_vs_api"] = round(best["api"] / best["partial"], 3)
        result["target_web_vs_api"] = 1.5
        print(json.dumps(result))
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
