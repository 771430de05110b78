"""QR codes of client configs that phones accept, cheap enough for the event loop.

A profile of client creation found 82 % of its ~30 ms in qrcode's best-mask search (eight full
encodings, each scored) and in pure-Python PNG writing; with one fixed mask, qrcode's
polynomial-object Reed-Solomon division and its bit-by-bit data placement were still ~4-8 ms
of a ~10-14 ms client creation at 10,000 peers. So the symbol is built here: the version is
computed from the payload length, the error-correction bytes come from a table-driven shift
register on Python integers (one step per data byte), the mask is fixed (any of the eight is
valid and every reader decodes it from the format bits), the data bits are masked as one integer
and put in place by one gather computed once per version, and the PNG is one zlib call over
packed rows. qrcode itself still
supplies the tables (block structure, generator polynomials) and, once per version, the function
patterns; ``tests/wireguard/test_qr.py`` checks the result against qrcode's own encoder bit for
bit and decodes it with a real reader.

The payload is the config without comment lines, at the lowest error-correction level (L):
the phone reads it from a screen, and every byte saved keeps the code at a smaller version.
"""

from __future__ import annotations

import base64
import struct
import zlib
from functools import lru_cache
from operator import itemgetter
from typing import Any

import qrcode
from qrcode import LUT, base, util
from qrcode.constants import ERROR_CORRECT_L

BOX = 6  # pixels per module
BORDER = 2  # quiet zone, in modules (readers on screens cope with less than the nominal 4)
MASK = 2  # a fixed mask pattern (dark where column % 3 == 0): skips the eight-fold best-mask search
MAX_VERSION = 40
PAD_BYTES = (0xEC, 0x11)  # the standard's alternating filler codewords


class QrTooLarge(ValueError):
    """The payload does not fit a QR code even at version 40 with the lowest error correction."""


def payload(config: str) -> str:
    """The config without comment lines: what the phone needs, nothing more."""
    lines = [line for line in config.splitlines() if not line.lstrip().startswith("#")]
    return "\n".join(lines).strip() + "\n"


def version_for(size: int) -> int:
    """The smallest version whose L level holds ``size`` bytes in 8-bit mode."""
    for version in range(1, MAX_VERSION + 1):
        needed = 4 + util.length_in_bits(util.MODE_8BIT_BYTE, version) + size * 8
        if needed <= util.BIT_LIMIT_TABLE[ERROR_CORRECT_L][version]:
            return version
    raise QrTooLarge(f"the config ({size} bytes) is too large for a QR code")


def _gf_mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return int(base.EXP_TABLE[(base.LOG_TABLE[a] + base.LOG_TABLE[b]) % 255])


@lru_cache(maxsize=64)
def _generator_products(ec_count: int) -> tuple[int, ...]:
    """For each byte f, f times the generator polynomial (leading 1 dropped), as one integer."""
    if ec_count in LUT.rsPoly_LUT:
        generator = list(LUT.rsPoly_LUT[ec_count])
    else:
        poly = base.Polynomial([1], 0)
        for i in range(ec_count):
            poly = poly * base.Polynomial([1, base.gexp(i)], 0)
        generator = list(poly)
    return tuple(int.from_bytes(bytes(_gf_mul(f, g) for g in generator[1:]), "big") for f in range(256))


def _ecc(data: bytes, ec_count: int) -> bytes:
    """Reed-Solomon remainder of ``data``: the division as a shift register held in one integer."""
    products = _generator_products(ec_count)
    shift, mask = 8 * (ec_count - 1), (1 << (8 * ec_count)) - 1
    register = 0
    for byte in data:
        register = ((register << 8) & mask) ^ products[byte ^ (register >> shift)]
    return register.to_bytes(ec_count, "big")


def codewords(version: int, data: bytes, error_correction: int = ERROR_CORRECT_L) -> list[int]:
    """The symbol's codewords (data then error correction, interleaved by block), exactly as
    ``qrcode.util.create_data`` computes them for one 8-bit segment."""
    blocks = base.rs_blocks(version, error_correction)
    bit_limit = sum(block.data_count for block in blocks) * 8
    length_bits = util.length_in_bits(util.MODE_8BIT_BYTE, version)
    bits = 4 + length_bits + 8 * len(data)
    if bits > bit_limit:
        raise QrTooLarge(f"{len(data)} bytes do not fit version {version}")
    stream = (((util.MODE_8BIT_BYTE << length_bits) | len(data)) << (8 * len(data))) | int.from_bytes(data, "big")
    terminator = min(bit_limit - bits, 4)
    align = -(bits + terminator) % 8
    stream <<= terminator + align
    raw = stream.to_bytes((bits + terminator + align) // 8, "big")
    raw += bytes(PAD_BYTES[i % 2] for i in range(bit_limit // 8 - len(raw)))
    data_blocks, ec_blocks, offset = [], [], 0
    for block in blocks:
        chunk = raw[offset:offset + block.data_count]
        offset += block.data_count
        data_blocks.append(chunk)
        ec_blocks.append(_ecc(chunk, block.total_count - block.data_count))
    return [b[i] for group in (data_blocks, ec_blocks) for i in range(max(len(b) for b in group))
            for b in group if i < len(b)]


class _Layout(qrcode.QRCode):  # type: ignore[misc]
    """qrcode's symbol with the data left out: ``map_data`` records where each data bit goes."""

    def map_data(self, data: list[int], mask_pattern: int) -> None:
        mask = util.mask_func(mask_pattern)
        count = self.modules_count
        walk: list[tuple[int, int, bool]] = []
        row, step = count - 1, -1
        for col in range(count - 1, 0, -2):
            if col <= 6:
                col -= 1
            while True:
                for c in (col, col - 1):
                    if self.modules[row][c] is None:
                        walk.append((row, c, bool(mask(row, c))))
                row += step
                if row < 0 or row >= count:
                    row -= step
                    step = -step
                    break
        self.walk = walk


@lru_cache(maxsize=MAX_VERSION)
def _plan(version: int) -> tuple[int, int, int, str, Any]:
    """Per version, computed once: side length (quiet zone included), number of data modules,
    the mask along the data walk as one integer, the function patterns as text ('1' dark, data
    modules '?') and a gather that reads the symbol, row by row, from that text followed by the
    data bits in walk order."""
    layout = _Layout(version=version, error_correction=ERROR_CORRECT_L, border=0, mask_pattern=MASK)
    layout.data_cache = []
    layout.make(fit=False)
    count, walk = layout.modules_count, layout.walk
    side = count + 2 * BORDER
    fixed = ["0"] * (side * side)
    for r, row in enumerate(layout.modules):
        for c, dark in enumerate(row):
            fixed[(r + BORDER) * side + c + BORDER] = "?" if dark is None else "1" if dark else "0"
    order = list(range(side * side))
    for i, (r, c, _) in enumerate(walk):
        order[(r + BORDER) * side + c + BORDER] = side * side + i
    mask = int("".join("1" if masked else "0" for _, _, masked in walk), 2)
    return side, len(walk), mask, "".join(fixed), itemgetter(*order)


def _modules(text: str) -> tuple[int, str]:
    """The symbol of ``text`` as one string, row after row, '1' for a dark module."""
    data = text.encode()
    version = version_for(len(data))
    side, cells, mask, fixed, gather = _plan(version)
    words = codewords(version, data)
    bits = (int.from_bytes(bytes(words), "big") << (cells - 8 * len(words))) ^ mask  # remainder bits: 0
    return side, "".join(gather(fixed + format(bits, f"0{cells}b")))


def matrix(text: str) -> list[list[bool]]:
    """The modules of the QR code of ``text``, quiet zone included (dark True)."""
    side, modules = _modules(text)
    return [[cell == "1" for cell in modules[r:r + side]] for r in range(0, side * side, side)]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))




def png(text: str) -> bytes:
    """A 1-bit greyscale PNG of the QR code of ``text`` (dark modules black).

    Each module row is BOX identical pixel rows: the first is stored as it is (filter 0), the
    others as "same as the row above" (filter 2, all zeros), which deflate all but skips."""
    side, modules = _modules(text)
    size = side * BOX
    width_bytes = (size + 7) // 8
    pad = "1" * (width_bytes * 8 - size)
    repeat = (b"\x02" + bytes(width_bytes)) * (BOX - 1)
    # a module is BOX pixels; a dark one black, i.e. bit 0 in a greyscale PNG
    pixels = modules.replace("0", "L").replace("1", "0" * BOX).replace("L", "1" * BOX)
    raw = bytearray()
    for start in range(0, size * side, size):
        raw += b"\x00" + int(pixels[start:start + size] + pad, 2).to_bytes(width_bytes, "big") + repeat
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(raw), 6)) + \
        _chunk(b"IEND", b"")


def png_of_config(config: str) -> bytes:
    return png(payload(config))


def data_url_of_config(config: str) -> str:
    return "data:image/png;base64," + base64.b64encode(png_of_config(config)).decode()
