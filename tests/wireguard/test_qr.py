"""QR codes decode (with a real reader, zxing-cpp) to exactly the config minus its comments."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
import zxingcpp
from PIL import Image

from ipv6wgm_wireguard import qrcodes

from .helpers import make_server

CONFIG = """[Interface]
# PrivateKey = <the private key that belongs to this client's public key>
PrivateKey = aGVsbG8gd29ybGQgdGhpcyBpcyBhIHRlc3Qga2V5IQ==
Address = 10.0.0.3/32, 2001:db8::3/128
DNS = 8.8.8.8
# Routed prefix delegated to this client: 2001:db8:1::/64

[Peer]
PublicKey = aGVsbG8gd29ybGQgdGhpcyBpcyBhIHRlc3Qga2V5IQ==
Endpoint = [2001:db8::1]:51820
AllowedIPs = 0.0.0.0/0, ::/0
"""


def decode(png: bytes) -> str:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0].text


def test_payload_drops_comments_only() -> None:
    text = qrcodes.payload(CONFIG)
    assert "#" not in text and "PrivateKey = aGVs" in text and text.count("\n") == CONFIG.count("\n") - 2


@pytest.mark.parametrize("peers", [1, 4, 12])
def test_png_decodes_to_the_payload(peers: int) -> None:
    config = CONFIG + "".join(f"\n[Peer]\nPublicKey = {'A' * 43}=\nAllowedIPs = 10.{i}.0.0/16\n" for i in range(peers))
    assert decode(qrcodes.png_of_config(config)) == qrcodes.payload(config)


def _reference_matrix(text: str) -> list[list[bool]]:
    """qrcode's own encoder, same version, level and mask: what ``qrcodes.matrix`` must equal."""
    import qrcode
    from qrcode import util
    from qrcode.constants import ERROR_CORRECT_L

    data = util.QRData(text.encode(), mode=util.MODE_8BIT_BYTE, check_data=False)
    code = qrcode.QRCode(version=qrcodes.version_for(len(data)), error_correction=ERROR_CORRECT_L,
                         border=qrcodes.BORDER, mask_pattern=qrcodes.MASK)
    code.add_data(data)
    code.make(fit=False)
    return code.get_matrix()


def test_encoder_equals_qrcode_bit_for_bit() -> None:
    """The shift-register Reed-Solomon and the cached data walk against qrcode's encoder: every
    version, every error-correction level (codewords), and whole symbols at L."""
    import random

    from qrcode import util
    from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

    rnd = random.Random(9)
    for version in range(1, 41):
        for level in (ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q, ERROR_CORRECT_H):
            room = (util.BIT_LIMIT_TABLE[level][version] - 4 - util.length_in_bits(util.MODE_8BIT_BYTE, version)) // 8
            for size in {1, room // 2, room}:
                data = rnd.randbytes(size)
                segment = util.QRData(data, mode=util.MODE_8BIT_BYTE, check_data=False)
                assert qrcodes.codewords(version, data, level) == util.create_data(version, level, [segment])
    for size in (1, 17, 150, 400, 1000, 2953):
        text = "".join(rnd.choice("ABCxyz019 =+/:[].,\n") for _ in range(size))
        assert qrcodes.matrix(text) == _reference_matrix(text), size


def test_data_url_is_a_png() -> None:
    url = qrcodes.data_url_of_config(CONFIG)
    assert url.startswith("data:image/png;base64,")
    assert decode(base64.b64decode(url.split(",", 1)[1])) == qrcodes.payload(CONFIG)


def test_too_large_is_refused() -> None:
    with pytest.raises(qrcodes.QrTooLarge):
        qrcodes.png("x" * 2954)  # version 40-L holds 2953 bytes
    assert decode(qrcodes.png("y" * 2953)) == "y" * 2953


def test_api_qr_codes_decode_to_the_config(server, admin: httpx.Client) -> None:
    """Both backends: the create answer's QR and GET /qr decode to the downloaded config minus
    comments; a config too large for any QR code gives a null qr_code and a 422, not a 500."""
    srv = make_server(admin)
    created = admin.post("/wireguard/clients", json={"name": "qr1", "server_id": srv["id"]})
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    config = admin.get(f"/wireguard/clients/{data['id']}/config").text
    assert config == data["config"]
    assert decode(base64.b64decode(data["qr_code"].split(",", 1)[1])) == qrcodes.payload(config)
    qr = admin.get(f"/wireguard/clients/{data['id']}/qr")
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/png"
    assert decode(qr.content) == qrcodes.payload(config)

    many = [f"fd{i:02x}:a{i:03x}:b{i:03x}:c{i:03x}:d{i:03x}:e{i:03x}:f{i:03x}:1230/124" for i in range(64)]
    big = admin.post("/wireguard/clients", json={"name": "qr-big", "server_id": srv["id"], "allowed_ips": many})
    assert big.status_code == 201, big.text
    assert big.json()["data"]["qr_code"] is None and len(big.json()["data"]["config"]) > 2953
    refused = admin.get(f"/wireguard/clients/{big.json()['data']['id']}/qr")
    assert refused.status_code == 422 and refused.json()["error"]["details"]["field"] == "config"
