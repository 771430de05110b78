"""Front-end files are vendored, pinned and checked: every file in a vendor folder is listed in
its SHA256SUMS with the right digest, and no page or template loads anything from elsewhere."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENDOR_DIRS = [ROOT / "core/static/swagger-ui", ROOT / "plugins/webui/ipv6wgm_webui/static/vendor"]
BOOKKEEPING = {"SHA256SUMS", "SOURCES"}


def sums(folder: Path) -> dict[str, str]:
    out = {}
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        out[name.strip()] = digest
    return out


@pytest.mark.parametrize("folder", VENDOR_DIRS, ids=lambda p: p.parent.name + "/" + p.name)
def test_vendored_files_match_their_recorded_sha256(folder: Path) -> None:
    recorded = sums(folder)
    present = {p.name for p in folder.iterdir() if p.is_file() and p.name not in BOOKKEEPING}
    assert present == set(recorded), "every vendored file is recorded, and every recorded file is there"
    for name, digest in recorded.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, f"{name} changed"
    sources = (folder / "SOURCES").read_text()
    assert re.search(r"@\d+\.\d+\.\d+ https://registry\.npmjs\.org/\S+\.tgz sha512-", sources), "pinned source"


def test_the_check_can_fail(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text("x")
    (tmp_path / "SHA256SUMS").write_text(f"{hashlib.sha256(b'y').hexdigest()}  a.js\n")
    recorded = sums(tmp_path)
    assert hashlib.sha256((tmp_path / "a.js").read_bytes()).hexdigest() != recorded["a.js"]


def test_no_template_loads_from_another_origin() -> None:
    templates = list((ROOT / "plugins").glob("*/ipv6wgm_*/templates/**/*.html"))
    templates += list((ROOT / "tests/plugins").glob("*/ipv6wgm_*/templates/**/*.html"))
    assert len(templates) >= 10
    for path in templates:
        text = path.read_text()
        assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", text), f"{path} loads from another origin"

