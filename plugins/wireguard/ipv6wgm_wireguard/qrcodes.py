"""QR codes of client configs that phones accept, cheap enough for the event loop.

A profile of client creation found 82 % of its ~30 ms in qrcode's best-mask search (eight full
encodings, each scored) and in pure-Python PNG writing. Here the matrix is encoded once: the
version is computed from the payload length, the mask is fixed (any of the eight is valid and
every reader decodes it from the format bits), and the PNG is one zlib call over packed rows.

The payload is the config without comment lines, at the lowest error-correction level (L):
the phone reads it from a screen, and every byte saved keeps the code at a smaller version.
"""

from __future__ import annotations

import base64
import struct
import zlib

import qrcode
from qrcode import util
from qrcode.constants import ERROR_CORRECT_L

BOX = 6  # pixels per module
BORDER = 2  # quiet zone, in modules (readers on screens cope with less than the nominal 4)
MASK = 2  # a fixed mask pattern: skips the eight-fold best-mask search
MAX_VERSION = 40


class QrTooLarge(ValueError):
    """The payload does not fit a QR code even at version 40 with the lowest error correction."""


def payload(config: str) -> str:
    """The config without comment lines: what the phone needs, nothing more."""
    lines = [line for line in config.splitlines() if not line.lstrip().startswith("#")]
    return "\n".join(lines).strip() + "\n"


def _version_for(data: util.QRData) -> int:
    needed = 4 + len(data) * 8  # mode indicator + 8-bit data
    for version in range(1, MAX_VERSION + 1):
        length_bits = util.length_in_bits(data.mode, version)
        limit = util.BIT_LIMIT_TABLE[ERROR_CORRECT_L][version]
        if needed + length_bits <= limit:
            return version
    raise QrTooLarge(f"the config ({len(data)} bytes) is too large for a QR code")


def matrix(text: str) -> list[list[bool]]:
    data = util.QRData(text.encode(), mode=util.MODE_8BIT_BYTE, check_data=False)
    code = qrcode.QRCode(version=_version_for(data), error_correction=ERROR_CORRECT_L, border=BORDER,
                         mask_pattern=MASK)
    code.add_data(data)
    code.make(fit=False)
    return code.get_matrix()  # includes the quiet zone


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(text: str) -> bytes:
    """A 1-bit greyscale PNG of the QR code of ``text`` (dark modules black)."""
    modules = matrix(text)
    size = len(modules) * BOX
    width_bytes = (size + 7) // 8
    pad = width_bytes * 8 - size
    raw = bytearray()
    for row in modules:
        bits = "".join("0" * BOX if dark else "1" * BOX for dark in row) + "1" * pad
        line = b"\x00" + int(bits, 2).to_bytes(width_bytes, "big")  # filter type 0, packed pixels
        raw += line * BOX
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(raw), 6)) + \
        _chunk(b"IEND", b"")


def png_of_config(config: str) -> bytes:
    return png(payload(config))


def data_url_of_config(config: str) -> str:
    return "data:image/png;base64," + base64.b64encode(png_of_config(config)).decode()
