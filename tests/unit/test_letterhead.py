"""The logo file an installation names for its official prints (web/letterhead.py)."""
from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from web.letterhead import MAX_LOGO_BYTES, MAX_LOGO_SIDE, LogoError, data_uri

# As in the app after its first PDF: importing WeasyPrint turns on Pillow's process-wide
# LOAD_TRUNCATED_IMAGES, under which a cut-short file would load without complaint.
import weasyprint.images  # noqa: E402,F401  isort:skip


def image_bytes(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 48), (200, 30, 30)).save(out, kind)
    return out.getvalue()


def test_no_file_means_no_logo():
    assert data_uri(None) is None


def test_a_jpeg_with_extra_frames_from_a_camera_is_a_jpeg(tmp_path):
    first, second = Image.new("RGB", (40, 48), (10, 10, 10)), Image.new("RGB", (40, 48), (90, 90, 90))
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    path = tmp_path / "foto.jpg"
    path.write_bytes(out.getvalue())
    assert data_uri(path).startswith("data:image/jpeg;base64,")


@pytest.mark.parametrize("kind, mime", [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_a_png_or_jpeg_becomes_a_data_uri_of_its_own_bytes(tmp_path, kind, mime):
    content = image_bytes(kind)
    path = tmp_path / "lambang.img"  # the type comes from the bytes, not the name
    path.write_bytes(content)
    uri = data_uri(path)
    assert uri.startswith(f"data:{mime};base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == content


def image_of(size: tuple[int, int], kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (255, 255, 255)).save(out, kind)
    return out.getvalue()


@pytest.mark.parametrize("content, message", [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "bukan gambar PNG atau JPEG"),
    (image_of((20, 20), "GIF"), "bukan gambar PNG atau JPEG"),
    (b"bukan gambar", "bukan gambar PNG atau JPEG"),
    (b"\x89PNG\r\n\x1a\n" + bytes(64), "bukan gambar PNG atau JPEG"),   # the magic, no image
    (image_of((300, 300))[:-200], "gambar .*logo.png rusak"),   # cut short
    (image_of((MAX_LOGO_SIDE + 1, 10)), f"berukuran {MAX_LOGO_SIDE + 1}x10 piksel"),
    (b"\x89PNG\r\n\x1a\n" + bytes(MAX_LOGO_BYTES), "lebih besar dari 1024 KB"),
])
def test_a_file_that_cannot_be_the_logo_is_refused_naming_it(tmp_path, content, message):
    path = tmp_path / "logo.png"
    path.write_bytes(content)
    with pytest.raises(LogoError, match=message) as refused:
        data_uri(path)
    assert "ALUR_LOGO_FILE" in str(refused.value) and str(path) in str(refused.value)


def test_a_missing_file_is_refused_naming_it(tmp_path):
    with pytest.raises(LogoError, match="ALUR_LOGO_FILE: .*tidak-ada.png tidak dapat dibaca"):
        data_uri(tmp_path / "tidak-ada.png")
