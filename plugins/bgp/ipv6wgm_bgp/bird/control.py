"""Asyncio client for the BIRD 2 control socket.

We speak the socket protocol directly instead of running ``birdc``: one long-lived
connection, no process per query, and structured replies with BIRD's numeric codes, which is
what tells a config error (``8002 file:line``) apart from a reconfiguration in progress.

Reply framing (BIRD's doc/prog "CLI protocol"): ``CCCC-text`` more follows, ``CCCC text``
last line, `` text`` continuation of the previous code, ``+text`` asynchronous message.
Codes 0xxx are actions, 1xxx data, 2xxx table headings, 8xxx run-time errors, 9xxx parse
errors.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

__all__ = [
    "BirdCommandError",
    "BirdConnectionError",
    "BirdControl",
    "BirdError",
    "BirdReply",
    "BirdTimeout",
]

_CODE_LINE = re.compile(r"^(\d{4})([ -])(.*)$")
# The socket reads a line at a time; anything that could split or smuggle a command out.
_BAD_COMMAND = re.compile(r"[\x00-\x1f\x7f]")


class BirdError(Exception):
    """Base class of everything this client raises."""


class BirdConnectionError(BirdError):
    """The socket is missing, refused, or dropped while we were talking."""


class _DroppedBeforeReply(BirdConnectionError):
    """EOF before the first reply byte: the command cannot have been answered, so retry."""


class BirdTimeout(BirdError):
    """BIRD did not answer in time; the connection is discarded (its reply is unaccounted)."""


class BirdCommandError(BirdError):
    """BIRD answered with an 8xxx/9xxx code; ``message`` is BIRD's own text."""

    def __init__(self, code: int, message: str, command: str) -> None:
        super().__init__(f"{code:04d} {message}")
        self.code = code
        self.message = message
        self.command = command


@dataclass(frozen=True, slots=True)
class BirdReply:
    """All lines of one reply, continuation lines already carrying their block's code."""

    lines: tuple[tuple[int, str], ...]

    @property
    def code(self) -> int:
        return self.lines[-1][0] if self.lines else 0

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.lines)

    def texts(self, code: int) -> list[str]:
        return [text for c, text in self.lines if c == code]


def parse_reply_lines(raw_lines: list[str]) -> BirdReply:
    """Turn raw socket lines (without newline) into a reply; pure, for unit tests."""
    out: list[tuple[int, str]] = []
    code = 0
    for line in raw_lines:
        if line.startswith("+"):
            continue
        m = _CODE_LINE.match(line)
        if m:
            code = int(m.group(1))
            out.append((code, m.group(3)))
        elif line.startswith(" "):
            out.append((code, line[1:]))
        else:  # not in the protocol; keep it rather than lose information
            out.append((code, line))
    return BirdReply(tuple(out))


def is_final_line(line: str) -> bool:
    m = _CODE_LINE.match(line)
    return bool(m and m.group(2) == " ")


def raise_for_error(reply: BirdReply, command: str) -> None:
    errors = [(c, t) for c, t in reply.lines if c >= 8000]
    if errors:
        code = errors[0][0]
        raise BirdCommandError(code, "\n".join(t for _, t in errors), command)


class BirdControl:
    """One connection to a BIRD control socket; safe to share between tasks.

    Commands are serialized with a lock because BIRD answers one command at a time per
    connection and replies carry no request id.
    """

    def __init__(self, path: str, *, timeout: float = 10.0, connect_timeout: float = 5.0) -> None:
        self.path = path
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.greeting: str | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> BirdControl:
        async with self._lock:
            await self._ensure_connected()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except (OSError, ConnectionError):
                pass

    async def _ensure_connected(self) -> None:
        if self.connected and self._reader is not None and not self._reader.at_eof():
            return
        await self.close()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(self.path, limit=1 << 20), self.connect_timeout
            )
        except TimeoutError as e:
            raise BirdTimeout(f"connect to {self.path} timed out") from e
        except OSError as e:
            raise BirdConnectionError(f"cannot connect to {self.path}: {e}") from e
        self._reader, self._writer = reader, writer
        try:
            greeting = await asyncio.wait_for(self._read_reply(), self.connect_timeout)
        except BaseException:
            await self.close()
            raise
        if greeting.code != 1:
            await self.close()
            raise BirdConnectionError(f"unexpected greeting from {self.path}: {greeting.text!r}")
        self.greeting = greeting.text

    async def _read_reply(self) -> BirdReply:
        assert self._reader is not None
        raw: list[str] = []
        while True:
            data = await self._reader.readline()
            if not data:
                cls = BirdConnectionError if raw else _DroppedBeforeReply
                raise cls(f"{self.path}: connection closed by BIRD")
            line = data.decode("utf-8", "replace").rstrip("\r\n")
            raw.append(line)
            if is_final_line(line):
                return parse_reply_lines(raw)

    async def request(self, command: str, *, check: bool = True, reply_timeout: float | None = None) -> BirdReply:
        """Send one command and return its reply; raise BirdCommandError on 8xxx/9xxx.

        A command is retried once on a fresh connection when the old one turns out dead
        before any reply byte arrived (BIRD restarted under us); commands we send are
        idempotent (show / configure of a file), so a duplicate is harmless.
        """
        if _BAD_COMMAND.search(command) or not command.strip():
            raise ValueError("command must be one non-empty line without control characters")
        async with self._lock:
            reply = await self._request_locked(command, reply_timeout or self.timeout)
        if check:
            raise_for_error(reply, command)
        return reply

    async def _request_locked(self, command: str, limit: float) -> BirdReply:
        for attempt in (0, 1):
            await self._ensure_connected()
            assert self._writer is not None
            try:
                self._writer.write(command.encode() + b"\n")
                await self._writer.drain()
                return await asyncio.wait_for(self._read_reply(), limit)
            except TimeoutError as e:
                await self.close()
                raise BirdTimeout(f"{command!r}: no reply within {limit}s") from e
            except (_DroppedBeforeReply, OSError) as e:
                await self.close()
                if attempt == 1:
                    raise BirdConnectionError(f"{command!r}: {e}") from e
            except BirdConnectionError:
                await self.close()
                raise
        raise AssertionError("unreachable")
