"""The web UI's clients page against the JSON API for the same page, at 10,000 clients.

Both are served by the same server process, measured in the same run with the same load
generator (bench/api.py): the first page, a search, and the last page (page size 50 on both).
Each is measured as a full page (``web``: a first visit, layout included) and as the htmx
request the page itself sends when one searches, sorts or pages (``partial``: the table only).
A ratio is page time / API time per request (requests/second of the API over those of the page;
target <= 1.5): the median over ``--rounds`` interleaved rounds of the ratio within a round
(bench/api.py's ``interleaved``), as other processes' load drifts over a run. Beside it,
``*_cpu_vs_api``: the page's server CPU time per request over the API's. The last line is one
JSON object.

    python bench/webui.py [--seconds 2] [--rounds 5] [--connections 8] [--clients 10000]
"""

from __future__ import annotations

import argparse
import json
import math
import re

import httpx
from api import Target, interleaved, seed_clients  # bench/api.py: the load generator and the bulk seeding

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
    parser.add_argument("--seconds", type=float, default=2.0, help="per request kind and round")
    parser.add_argument("--rounds", type=int, default=5)
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
        result: dict[str, float | int] = {"clients": args.clients, "page_size": SIZE, "rounds": args.rounds}
        partial = {**cookie, "HX-Request": "true", "HX-Target": "client-table"}
        pid = server.procs[0].pid
        for name, (web_path, api_path) in cases.items():
            targets: list[Target] = [("api", server.port, api_path, bearer, pid),
                                     ("web", server.port, web_path, cookie, pid),
                                     ("partial", server.port, web_path, partial, pid)]
            rates, ratios, cpus, cpu_ratios = interleaved(targets, args.rounds, args.seconds, args.connections)
            cpu = {kind: f" ({cpus[kind] * 1000:5.2f} ms CPU)" if kind in cpus else "" for kind in rates}
            print(f"{name:<7} " + "   ".join(f"{kind} {rps:7.1f} req/s{cpu[kind]}" for kind, rps in rates.items()),
                  flush=True)
            for kind, rps in rates.items():
                result[f"{name}_{kind}_rps"] = round(rps, 1)
            for kind in ("web", "partial"):  # interleaved's ratios are kind/api: here api/kind
                result[f"{name}_{kind}_vs_api"] = round(1 / ratios[kind], 3)
                if kind in cpu_ratios:
                    result[f"{name}_{kind}_cpu_vs_api"] = round(1 / cpu_ratios[kind], 3)
        result["target_web_vs_api"] = 1.5
        print(json.dumps(result))
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
