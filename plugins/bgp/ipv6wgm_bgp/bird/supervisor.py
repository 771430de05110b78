"""Run (or attach to) a BIRD 2 and swap generated config trees into it safely.

On-disk layout under ``base_dir``::

    gen-<N>/bird.conf, gen-<N>/announcements.conf, gen-<N>/sessions/<name>.conf
    current -> gen-<N>          symlink; BIRD always reads current/bird.conf
    bird.ctl                    control socket (own BIRD only)

Why a new directory per apply: ``configure check "<file>"`` makes the running BIRD parse a
file with the exact binary, version and includes that will run it, without touching the
live config. Only when that passes is ``current`` re-pointed (``rename`` of a symlink is
atomic) and ``configure`` issued, so a bad tree never becomes current and a crash at any
point leaves either the old or the new complete tree in place. ``configure`` then restarts
only the protocols whose definition changed; all others keep their sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .control import BirdCommandError, BirdControl, BirdError
from .render import parse_tree_keys

__all__ = ["ApplyResult", "BirdConfigError", "BirdSupervisor"]

log = logging.getLogger(__name__)

_GEN = re.compile(r"gen-([0-9]+)")
_RECONFIGURED = {3, 4, 5}  # reconfigured / in progress / queued behind one in progress


def _exists(path: str) -> bool:
    return os.path.exists(path)


class BirdConfigError(BirdError):
    """BIRD rejected a generated config; ``message`` is BIRD's text (``file:line:col …``)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code:04d} {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ApplyResult:
    changed: bool
    generation: str
    code: int  # BIRD's reply code to ``configure`` (0 when nothing changed)


class BirdSupervisor:
    """Owns one BIRD: spawned (``attach=False``) or a system one reached by its socket.

    ``command_prefix`` is put in front of the bird command line, e.g.
    ``["ip", "netns", "exec", "ns1"]`` (which execs bird, so our pid is bird's pid).
    In attach mode each apply runs ``configure "<base>/current/bird.conf"``; BIRD does not
    remember that path (a plain ``configure`` or a restart reads its own file again), so the
    system file should be just ``include "<base>/current/bird.conf";``. Operator config
    (logging, a kernel protocol) goes in through ``render_main(extra_includes)``.
    """

    def __init__(
        self,
        base_dir: str | os.PathLike[str],
        *,
        socket_path: str | None = None,
        attach: bool = False,
        bird_binary: str = "bird",
        command_prefix: Sequence[str] = (),
        timeout: float = 30.0,
        keep_generations: int = 2,
        file_mode: int = 0o600,
        dir_mode: int = 0o700,
        gid: int | None = None,
    ) -> None:
        self.base_dir = Path(base_dir).resolve()
        if '"' in str(self.base_dir) or "\n" in str(self.base_dir):
            raise ValueError("base_dir: must not contain quotes or newlines")
        if attach and socket_path is None:
            raise ValueError("socket_path: required when attaching to an existing BIRD")
        self.socket_path = socket_path or str(self.base_dir / "bird.ctl")
        self.attach = attach
        self.bird_binary = bird_binary
        self.command_prefix = list(command_prefix)
        self.timeout = timeout
        self.keep_generations = max(1, keep_generations)
        self.file_mode, self.dir_mode, self.gid = file_mode, dir_mode, gid
        self.control = BirdControl(self.socket_path, timeout=timeout)
        self.restarts = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._monitor: asyncio.Task[None] | None = None
        self._pumps: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._apply_lock = asyncio.Lock()
        # The generation BIRD is known to run: ``current`` alone is not proof, since a
        # ``configure`` can fail (timeout, BIRD restarting) after the symlink was swapped.
        self._applied: str | None = None

    # ---- paths --------------------------------------------------------------------------

    @property
    def current_link(self) -> Path:
        return self.base_dir / "current"

    @property
    def config_path(self) -> Path:
        return self.current_link / "bird.conf"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc and self._proc.returncode is None else None

    def current_generation(self) -> str | None:
        try:
            return os.readlink(self.current_link)
        except OSError:
            return None

    # ---- lifecycle ----------------------------------------------------------------------

    async def start(self, files: Mapping[str, str] | None = None) -> None:
        """Start (or attach) and, when ``files`` is given, make it the running config."""
        self._stopping = False
        self.base_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base_dir, self.dir_mode)
        if self.attach:
            await self.control.request("show status")
            if files is not None:
                await self.apply(files)
            return
        if files is not None:
            async with self._apply_lock:
                gen = self._write_generation(files)
                await self._parse_only(gen)
                self._swap(gen.name)
        elif self.current_generation() is None:
            raise ValueError("files: no current config yet; pass the initial tree")
        await self._clear_stale_socket()
        await self._spawn()
        self._monitor = asyncio.create_task(self._watch(), name="bird-supervisor")

    async def stop(self, grace: float = 10.0) -> None:
        self._stopping = True
        if self._monitor is not None:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor
            self._monitor = None
        await self.control.close()
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGTERM)  # BIRD shuts protocols down cleanly on TERM
            try:
                await asyncio.wait_for(proc.wait(), grace)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        for task in list(self._pumps):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __aenter__(self) -> BirdSupervisor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _clear_stale_socket(self) -> None:
        if not _exists(self.socket_path):
            return
        probe = BirdControl(self.socket_path, connect_timeout=2)
        try:
            await probe.request("show status")
        except BirdError:
            os.unlink(self.socket_path)  # left over by a killed BIRD
            return
        finally:
            await probe.close()
        raise RuntimeError(f"another BIRD already answers on {self.socket_path}")

    async def _spawn(self) -> None:
        argv = [
            *self.command_prefix,
            self.bird_binary,
            "-f",
            "-c",
            str(self.config_path),
            "-s",
            self.socket_path,
        ]
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._proc = proc
        tail: list[str] = []
        pump = asyncio.create_task(self._pump(proc, tail))
        self._pumps.add(pump)
        pump.add_done_callback(self._pumps.discard)
        deadline = time.monotonic() + self.timeout
        while True:
            if proc.returncode is not None:
                await asyncio.sleep(0.05)  # let the pump collect BIRD's last words
                raise RuntimeError(f"bird exited with {proc.returncode}: {' | '.join(tail[-5:])}")
            try:
                await self.control.request("show status", reply_timeout=2)
                self._applied = self.current_generation()  # a fresh BIRD read current/
                return
            except BirdError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)

    @staticmethod
    async def _pump(proc: asyncio.subprocess.Process, tail: list[str]) -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            tail.append(line)
            del tail[:-20]
            log.info("bird[%s]: %s", proc.pid, line)

    async def _watch(self) -> None:
        """Restart BIRD when it dies; backoff grows on crash loops, resets after a good run."""
        backoff = 0.5
        while not self._stopping:
            proc = self._proc
            assert proc is not None
            started = time.monotonic()
            code = await proc.wait()
            if self._stopping:
                return
            self.restarts += 1
            backoff = 0.5 if time.monotonic() - started > 60 else min(backoff * 2, 30.0)
            log.warning("bird exited with %s; restarting in %.1fs", code, backoff)
            await asyncio.sleep(backoff)
            try:
                async with self._apply_lock:  # so `_applied` names what the new BIRD read
                    await self.control.close()
                    await self._clear_stale_socket()
                    await self._spawn()
            except (BirdError, RuntimeError, OSError) as e:
                log.error("bird restart failed: %s", e)

    # ---- config -------------------------------------------------------------------------

    async def apply(self, files: Mapping[str, str]) -> ApplyResult:
        """Make ``files`` the running config, or raise BirdConfigError and change nothing."""
        parse_tree_keys(files)
        if "bird.conf" not in files:
            raise ValueError("files: the tree needs a bird.conf")
        async with self._apply_lock:
            current = self.current_generation()
            old = self._read_tree(self.base_dir / current) if current is not None else None
            if old == dict(files) and current is not None:
                if current == self._applied:
                    return ApplyResult(False, current, 0)
                gen = self.base_dir / current  # on disk but not confirmed loaded: configure again
            else:
                reuse = (self.base_dir / current, old) if current and old else None
                gen = self._write_generation(files, reuse=reuse)
                try:
                    await self.control.request(f'configure check "{gen / "bird.conf"}"')
                except BirdCommandError as e:
                    shutil.rmtree(gen, ignore_errors=True)
                    raise BirdConfigError(e.code, e.message) from e
                except BaseException:
                    shutil.rmtree(gen, ignore_errors=True)
                    raise
                self._swap(gen.name)
            try:
                reply = await self.control.request(f'configure "{self.config_path}"')
            except BirdCommandError as e:  # passed the check, so unlikely: undo the swap
                if current is not None and current != gen.name:
                    self._swap(current)
                    shutil.rmtree(gen, ignore_errors=True)
                raise BirdConfigError(e.code, e.message) from e
            if reply.code not in _RECONFIGURED:
                log.warning("unexpected reply to configure: %s", reply.text)
            self._applied = gen.name
            self._prune()
            return ApplyResult(True, gen.name, reply.code)

    async def check(self, files: Mapping[str, str]) -> None:
        """Have the running BIRD parse ``files`` without applying them (BirdConfigError if it
        refuses). Lets a caller validate a candidate tree before committing what it came from."""
        parse_tree_keys(files)
        if "bird.conf" not in files:
            raise ValueError("files: the tree needs a bird.conf")
        async with self._apply_lock:
            current = self.current_generation()
            old = self._read_tree(self.base_dir / current) if current is not None else None
            if old == dict(files):
                return  # that exact tree already passed a check
            tmp = self.base_dir / f"check-{os.getpid()}-{time.monotonic_ns()}"
            reuse = (self.base_dir / current, old) if current and old else None
            try:
                self._write_tree(tmp, files, reuse)
                await self.control.request(f'configure check "{tmp / "bird.conf"}"')
            except BirdCommandError as e:
                raise BirdConfigError(e.code, e.message) from e
            finally:
                shutil.rmtree(tmp, ignore_errors=True)

    def _next_generation(self) -> int:
        nums = [int(m.group(1)) for p in self.base_dir.iterdir() if (m := _GEN.fullmatch(p.name))]
        return max(nums, default=0) + 1

    def _write_generation(self, files: Mapping[str, str], reuse: tuple[Path, Mapping[str, str]] | None = None) -> Path:
        """Write a new tree; files equal to ``reuse``'s are hard-linked (generations are never
        modified once written), so a change to one session costs one write and one fsync."""
        gen = self.base_dir / f"gen-{self._next_generation()}"
        self._write_tree(gen, files, reuse)
        return gen

    def _write_tree(
        self, gen: Path, files: Mapping[str, str], reuse: tuple[Path, Mapping[str, str]] | None = None
    ) -> None:
        gen.mkdir(mode=self.dir_mode)
        self._own(gen)
        for rel, text in sorted(files.items()):
            path = gen / rel
            if not path.parent.exists():
                path.parent.mkdir(mode=self.dir_mode, parents=True)
                self._own(path.parent)
            if reuse is not None and reuse[1].get(rel) == text:
                os.link(reuse[0] / rel, path)
                continue
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, self.file_mode)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            self._own(path)

    def _own(self, path: Path) -> None:
        if self.gid is not None:
            os.chown(path, -1, self.gid)

    def _swap(self, generation: str) -> None:
        tmp = self.base_dir / ".current.tmp"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(generation, tmp)
        os.replace(tmp, self.current_link)
        dir_fd = os.open(self.base_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _prune(self) -> None:
        """Keep the current tree and the newest ``keep_generations - 1`` before it."""
        current = self.current_generation()
        gens = sorted((int(m.group(1)), p) for p in self.base_dir.iterdir() if (m := _GEN.fullmatch(p.name)))
        old = [p for _, p in gens if p.name != current]
        for path in old[: max(0, len(old) - (self.keep_generations - 1))]:
            shutil.rmtree(path, ignore_errors=True)

    @staticmethod
    def _read_tree(root: Path) -> dict[str, str] | None:
        if not root.is_dir():
            return None
        return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in root.rglob("*") if p.is_file()}

    async def _parse_only(self, gen: Path) -> None:
        """Before the first start there is no BIRD to ask: use ``bird -p`` (parse and exit)."""
        proc = await asyncio.create_subprocess_exec(
            self.bird_binary,
            "-p",
            "-c",
            str(gen / "bird.conf"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            shutil.rmtree(gen, ignore_errors=True)
            raise BirdConfigError(8002, out.decode("utf-8", "replace").strip())
