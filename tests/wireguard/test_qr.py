"""QR codes decode (with a real reader, zxing-cpp) to exactly the config minus its comments."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from ipv6wgm_wireguard import qrcodes

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


def test_data_url_is_a_png() -> None:
    import base64

    url = qrcodes.data_url_of_config(CONFIG)
    assert url.startswith("data:image/png;base64,")
    assert decode(base64.b64decode(url.split(",", 1)[1])) == qrcodes.payload(CONFIG)


def test_too_large_is_refused() -> None:
    with pytest.raises(qrcodes.QrTooLarge):
        qrcodes.png("x" * 2954)  # version 40-L holds 2953 bytes
    assert decode(qrcodes.png("y" * 2953)) == "y" * 2953
