"""The dump encoding per field type, the mapping of an older archive's columns, and the archive
reader's refusals, without a server."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import tarfile
import uuid
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from tortoise import fields

from ipv6wgm_backup import archive as arc
from ipv6wgm_backup import crypto, dump
from tests.backup.archives import build, member

CASES = [
    (fields.DatetimeField(), "2024-01-02 03:04:05.123456+00:00", "2024-01-02T03:04:05.123456+00:00"),
    (fields.DatetimeField(), dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05+00:00"),
    (fields.DatetimeField(), "2024-01-02 03:04:05+00:00", "2024-01-02T03:04:05+00:00"),
    (fields.DatetimeField(), "2024-01-02T05:04:05+02:00", "2024-01-02T03:04:05+00:00"),
    (fields.DatetimeField(), dt.datetime(2024, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
     "2024-01-02T03:04:05+00:00"),
    (fields.DecimalField(max_digits=10, decimal_places=3), "1.250", "1.250"),
    (fields.BinaryField(), b"\x00\xff", "AP8="),
    (fields.JSONField(), '{"a": [1, 2]}', {"a": [1, 2]}),
    (fields.BooleanField(), 1, True),
    (fields.UUIDField(), uuid.UUID(int=5), str(uuid.UUID(int=5))),
    (fields.CharField(max_length=8), "text", "text"),
    (fields.DateField(), "2024-02-29", "2024-02-29"),
]


@pytest.mark.parametrize(("field", "stored", "encoded"), CASES)
def test_encoding_is_explicit_per_field_type(field: fields.Field, stored: object, encoded: object) -> None:
    value = dump.encoder(field)(stored)
    assert value == encoded
    assert orjson.loads(orjson.dumps(value)) == encoded  # survives the JSONL line
    for dialect in ("sqlite", "mysql"):
        back = dump.decoder(field, dialect)(encoded)
        if isinstance(field, fields.DatetimeField):
            assert back.tzinfo is None if dialect == "mysql" else back.utcoffset() == dt.timedelta(0)
        if isinstance(field, fields.DecimalField):
            assert Decimal(str(back)) == Decimal("1.250")
    assert dump.encoder(field)(None) is None and dump.decoder(field, "mysql")(None) is None


def test_bool_decoder_refuses_numbers() -> None:
    with pytest.raises(ValueError):
        dump.decoder(fields.BooleanField(), "sqlite")(1)


def _table() -> dump.Table:
    cols = {"id": fields.IntField(primary_key=True), "name": fields.CharField(max_length=8),
            "level": fields.IntField(default=3), "note": fields.TextField(null=True)}
    return dump.Table(app="x", model=object, name="x_rows", pk="id", columns=tuple(cols),  # type: ignore[arg-type]
                      field_objects=tuple(cols.values()))


def test_older_archive_columns_map_onto_the_current_table() -> None:
    plan = dump.plan_table(_table(), ["id", "name", "dropped_since"], "sqlite", older=True)
    assert plan.insert_columns == ["id", "name"] and plan.missing == ["level", "note"]
    assert plan.convert([1, "a", "ignored"]) == (1, "a", 3, None)
    assert '"level"' in plan.sql("sqlite") and "%s" in plan.sql("mysql")
    with pytest.raises(ValueError, match="not in this schema"):
        dump.plan_table(_table(), ["id", "name", "extra"], "sqlite", older=False)
    with pytest.raises(ValueError, match="missing from the archive"):
        dump.plan_table(_table(), ["id", "name"], "sqlite", older=False)
    with pytest.raises(ValueError, match="has 2 values"):
        plan.convert([1, "a"])


def test_reader_refuses_before_reading(tmp_path: Path) -> None:
    limits = arc.Limits(max_members=8, max_member_bytes=64, max_total_bytes=100)
    cases = {
        "links": [member("manifest.json", kind=b"2", linkname="/etc/shadow")],
        "'..'": [member("../x", b"1")],
        "cap": [member("contrib/a", b"x" * 65)],
        "in all": [member("contrib/a", b"x" * 60), member("contrib/b", b"x" * 60)],
    }
    for expected, members in cases.items():
        path = tmp_path / "a.tar.gz"
        path.write_bytes(build(members))
        with pytest.raises(arc.ArchiveError, match=expected):
            for _name, handle in arc.iter_members(path, limits):
                handle.read()


def test_damage_that_still_inflates_is_found(tmp_path: Path) -> None:
    """Stored (level 0) deflate blocks carry the bytes as they are: a flipped byte inflates fine,
    and only the gzip CRC (which tarfile's own stream reader never checks) tells."""
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=0, mtime=0) as gz:
        gz.write(_tar(member("tables/t.jsonl", b"[1]\n" * 50_000)))
    data = bytearray(raw.getvalue())
    spot = data.index(b"[1]\n" * 8, 1024)
    data[spot + 1] ^= 0x01  # "[1]" -> "[0]"
    path = tmp_path / "a.tar.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(arc.ArchiveError, match="corrupted"):
        for _name, handle in arc.iter_members(path, arc.Limits(8, 1 << 20, 1 << 21)):
            handle.read()


def _tar(item: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(item[0], io.BytesIO(item[1] or b""))
    return out.getvalue()


def test_encrypted_archive_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "a.tar.gz.enc"
    writer = arc.ArchiveWriter(path, passphrase="a long passphrase")
    writer.add_bytes("config.json", b"{}")
    writer.close()
    assert crypto.is_encrypted(path) and path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(crypto.WrongPassphrase):
        crypto.check_passphrase(path, "another passphrase")
    with arc.plain_archive(path, "a long passphrase", tmp_path) as plain:
        names = [n for n, _ in arc.iter_members(plain, arc.Limits(8, 1024, 4096))]
    assert names == ["config.json"] and not list(tmp_path.glob(".restore-*"))
