"""Pytest helpers for the core and for plugin authors: real server processes, real databases.

``ServerProcess`` runs ``ipv6wgm serve`` (and, with Redis, ``ipv6wgm worker``) as real
processes and talks to them over real HTTP/WebSocket. ``Backend`` describes a database + Redis
pair; ``mysql_backend`` creates a fresh MariaDB database per use and drops it afterwards.
A service that cannot be reached fails the test: nothing here ever skips.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

MYSQL_HOST = os.environ.get("IPV6WGM_TEST_MYSQL_HOST", "127.0.0.1")
MYSQL_PORT = int(os.environ.get("IPV6WGM_TEST_MYSQL_PORT", "3306"))
MYSQL_USER = os.environ.get("IPV6WGM_TEST_MYSQL_USER", "root")
REDIS_URL = os.environ.get("IPV6WGM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Backend:
    name: str
    database_url: str | None = None
    redis_url: str | None = None
    cleanup: list[Any] = field(default_factory=list)

    @property
    def with_worker(self) -> bool:
        return self.redis_url is not None


def _mysql_exec(sql: str) -> None:
    import pymysql

    try:
        conn = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user=MYSQL_USER, password="", connect_timeout=5)
    except pymysql.err.OperationalError as exc:
        raise RuntimeError(f"MariaDB at {MYSQL_HOST}:{MYSQL_PORT} is required by the test suite: {exc}") from exc
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
        conn.commit()
    finally:
        conn.close()


def check_redis(url: str = REDIS_URL) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise RuntimeError(f"Redis at {url} is required by the test suite: {exc}") from exc


@contextlib.contextmanager
def mysql_database(port: int | None = None) -> Iterator[str]:
    """A fresh, empty database; yields its URL (optionally through another port, e.g. a proxy)."""
    name = f"ipv6wgm_t_{secrets.token_hex(4)}"
    _mysql_exec(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield f"mysql://{MYSQL_USER}@{MYSQL_HOST}:{port or MYSQL_PORT}/{name}"
    finally:
        _mysql_exec(f"DROP DATABASE IF EXISTS `{name}`")


class ServerProcess:
    """A real ``ipv6wgm serve`` (+ worker) with its own data dir, admin and Redis prefix."""

    def __init__(self, *, database_url: str | None = None, redis_url: str | None = None,
                 env: dict[str, str] | None = None, worker: bool | None = None, data_dir: Path | None = None,
                 node_id: str | None = None, netns: bool = True) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api = f"{self.base}/api/v1"
        self._tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="ipv6wgm-test-")
        self.data_dir = data_dir or Path(self._tmp.name)  # type: ignore[union-attr]
        self.admin_password = secrets.token_urlsafe(16)
        self.prefix = f"t{secrets.token_hex(4)}"
        self.env = {
            **os.environ,
            "IPV6WGM_DATA_DIR": str(self.data_dir),
            "IPV6WGM_ADMIN_USERNAME": "admin",
            "IPV6WGM_ADMIN_PASSWORD": self.admin_password,
            "IPV6WGM_STRICT_PLUGINS": "1",
            "IPV6WGM_API_RATE_LIMIT": "100000",
            "IPV6WGM_LOGIN_RATE_LIMIT": "10000",
            "IPV6WGM_REDIS_PREFIX": self.prefix,
            "IPV6WGM_NODE_ID": node_id or f"node-{self.prefix}",
            "IPV6WGM_ENVIRONMENT": "test",
            **(env or {}),
        }
        # Every test server gets its own network namespace for its data plane (tunnels, BIRD),
        # so nothing a test or the fuzzer starts ever lands in the host's namespace.
        self.netns = f"ipwgm-{self.prefix}" if netns else None
        if self.netns:
            self.env.setdefault("IPV6WGM_NETNS", self.netns)
        for key, value in (("IPV6WGM_DATABASE_URL", database_url), ("IPV6WGM_REDIS_URL", redis_url)):
            if value:
                self.env[key] = value
            else:
                self.env.pop(key, None)
        self.want_worker = bool(redis_url) if worker is None else worker
        self.procs: list[subprocess.Popen[bytes]] = []
        self.log_path = self.data_dir / "server.log"
        self.extra_netns: list[str] = []

    def _spawn(self, *args: str, env: dict[str, str] | None = None, log_name: str | None = None
               ) -> subprocess.Popen[bytes]:
        log = open(self.data_dir / f"{log_name or args[0]}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "ipv6wgm_entrypoints.cli", *args],
                                env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def spawn_worker(self, node_id: str | None = None, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start an ``ipv6wgm worker`` now (the server need not be up). With ``node_id``, it is
        another gateway node: its own namespace, BIRD directory and log ``worker-<node>.log``."""
        if node_id is None:
            self._ensure_netns(self.netns)
            return self._spawn("worker", env=env)
        extra = {"IPV6WGM_NODE_ID": node_id, "IPV6WGM_BGP_CONFIG_DIR": str(self.data_dir / f"bgp-{node_id}")}
        if self.netns:
            netns = f"{self.netns}-{len(self.extra_netns) + 1}"
            self._ensure_netns(netns)
            self.extra_netns.append(netns)
            extra["IPV6WGM_NETNS"] = netns
        return self._spawn("worker", env={**extra, **(env or {})}, log_name=f"worker-{node_id}")

    @staticmethod
    def _ensure_netns(netns: str | None) -> None:
        if netns and not Path(f"/var/run/netns/{netns}").exists():
            subprocess.run(["ip", "netns", "add", netns], check=True)
            subprocess.run(["ip", "-n", netns, "link", "set", "lo", "up"], check=True)

    def start(self, timeout: float = 60) -> ServerProcess:
        self._ensure_netns(self.netns)
        server = self._spawn("serve", "--port", str(self.port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"server exited with {server.returncode}:\n{self.logs()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.api}/status/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError(f"server did not answer within {timeout}s:\n{self.logs()}")
        if self.want_worker:
            self.spawn_worker()
            self.wait_for_worker(timeout=timeout)
        return self

    def wait_for_worker(self, node_id: str | None = None, timeout: float = 60) -> None:
        """Until the node's worker is live (its heartbeat key is in Redis): the API answers 503
        at once for a node without a live worker, so tests wait for it like a deployment would."""
        import redis

        from ipv6wgm.jobs import health_key

        key = health_key(self.env["IPV6WGM_REDIS_PREFIX"], node_id or self.env["IPV6WGM_NODE_ID"])
        client = redis.Redis.from_url(self.env["IPV6WGM_REDIS_URL"], socket_connect_timeout=3)
        try:
            deadline = time.monotonic() + timeout
            while not client.exists(key):
                dead = [p for p in self.procs if p.poll() is not None]
                if dead or time.monotonic() > deadline:
                    raise RuntimeError(f"worker of node {node_id or 'default'} not live "
                                       f"({'exited' if dead else 'timeout'}):\n{self.logs()}")
                time.sleep(0.2)
        finally:
            client.close()

    def logs(self) -> str:
        out = []
        for path in sorted(self.data_dir.glob("*.log")):
            out.append(f"--- {path.name}\n{path.read_text(errors='replace')[-6000:]}")
        return "\n".join(out)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.procs.clear()

    def cleanup(self) -> None:
        self.stop()
        for netns in (self.netns, *self.extra_netns):
            if netns and Path(f"/var/run/netns/{netns}").exists():
                pids = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True).stdout.split()
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError, ValueError):
                        os.kill(int(pid), signal.SIGKILL)
                subprocess.run(["ip", "netns", "del", netns], check=False)
        if self._tmp is not None:
            self._tmp.cleanup()

    # ---- HTTP helpers --------------------------------------------------------------------

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.api, headers=headers, timeout=30)

    def login(self, username: str = "admin", password: str | None = None) -> dict[str, Any]:
        response = httpx.post(f"{self.api}/auth/login", json={
            "username": username, "password": password or self.admin_password}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def token(self, username: str = "admin", password: str | None = None) -> str:
        return str(self.login(username, password)["access_token"])

    def make_user(
        self, admin_token: str, role: str = "user", password: str = "password-123"  # noqa: S107
    ) -> dict[str, Any]:
        username = f"{role}_{secrets.token_hex(4)}"
        with self.client(admin_token) as c:
            r = c.post("/users", json={"username": username, "password": password, "role": role,
                                       "email": f"{username}@example.com"})
        assert r.status_code == 201, r.text
        user = r.json()["data"]
        user["password"] = password
        user["token"] = self.token(username, password)
        return user


def wait_for(predicate: Any, timeout: float = 20, interval: float = 0.2, message: str = "condition") -> Any:
    """Poll until ``predicate()`` is truthy; returns its value or fails with ``message``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message} (last: {last!r})")


# ---- WebSocket helpers (need the ``websockets`` test dependency) ----------------------------


def ws_url(server: ServerProcess, path: str = "/ws/connect", **query: str) -> str:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return f"ws://127.0.0.1:{server.port}/api/v1{path}" + (f"?{qs}" if qs else "")


def recv_until(ws: Any, message_type: str, timeout: float = 20, predicate: Any = None) -> dict[str, Any]:
    """Read messages until one of ``message_type`` (matching ``predicate``) arrives."""
    import json

    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {message_type} message within {timeout}s")
        msg = json.loads(ws.recv(timeout=remaining))
        assert set(msg) == {"type", "data", "timestamp"}, msg
        if msg["type"] == message_type and (predicate is None or predicate(msg["data"])):
            return msg


def assert_no_message(ws: Any, message_type: str, wait: float = 2.0) -> None:
    import json

    deadline = time.monotonic() + wait
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            msg = json.loads(ws.recv(timeout=remaining))
        except TimeoutError:
            return
        assert msg["type"] != message_type, msg


# ---- fault injection ------------------------------------------------------------------------


class TcpProxy:
    """A TCP forwarder a test can cut (close everything, refuse new connections) and restore,
    to make a real database unreachable without stopping the shared service."""

    def __init__(self, target_host: str, target_port: int) -> None:
        import threading

        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None

    def start(self) -> TcpProxy:
        import threading

        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        import threading

        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            self._listener.close()
            self._listener = None
        with self._lock:
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._sockets.clear()


class RedisServer:
    """A private redis-server on a free port, so a test can stop and restart it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: _redis_up(self.url), timeout=10, message="private redis-server")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


def _redis_up(url: str) -> bool:
    try:
        check_redis(url)
        return True
    except RuntimeError:
        return False


@contextlib.contextmanager
def running_server(backend: str, env: dict[str, str] | None = None, **kwargs: Any) -> Iterator[ServerProcess]:
    """A started server on ``"sqlite"`` (embedded) or ``"mysql"`` (fresh MariaDB database +
    Redis + worker); logs are printed on the way out (pytest shows them for failed tests)."""
    if backend == "sqlite":
        proc = ServerProcess(env=env, **kwargs)
        try:
            yield proc.start()
        finally:
            print(proc.logs())
            proc.cleanup()
        return
    check_redis()
    with mysql_database() as url:
        proc = ServerProcess(database_url=url, redis_url=REDIS_URL, env=env, **kwargs)
        try:
            yield proc.start()
        finally:
            print(proc.logs())
            proc.cleanup()


# ---- hostile input ----------------------------------------------------------------------------

# What an attacker tries against every field that reaches a config file, a header or the kernel:
# zone ids (``str()`` keeps what follows ``%``), line breaks of every kind, control characters,
# and the characters that end a statement, a string, a section or a block in BIRD and wg-quick.
HOSTILE_STRINGS: tuple[str, ...] = (
    "2001:db8::1%x\n}\nprotocol bgp evil {",
    "fe80::1%eth0",
    "10.0.0.1%0",
    "2001:db8::%x",
    "\n", "\r", "\r\n", "\x00", "\t", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\u202e",
    "#", ";", '"', "\\", "}", "{", "/*", "[", "]", "=",
    "\n}\nprotocol bgp evil {\n",
    "\n[Interface]\nPostUp = touch /tmp/ipv6wgm-pwned\n",
)


def hostile_variants(valid: str) -> list[str]:
    """Each hostile string alone, after and before a valid value, plus the valid value with a
    trailing newline (what ``re.match(r"^…$")`` lets through)."""
    out = [valid + "\n"]
    for bad in HOSTILE_STRINGS:
        out += [bad, valid + bad, bad + valid]
    return list(dict.fromkeys(out))
