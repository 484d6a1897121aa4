"""The one re-encoding craft (builder/images.py): what a reader's phone or WeChat gets of a photo."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from builder.images import UPLOAD_BYTES_MAX, encode_image, upload_ready_image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo_with_gps(path: Path, orientation: int = 1) -> Path:
    """A small camera JPEG, 200×100, carrying a GPS position and an orientation tag."""
    image = Image.new("RGB", (200, 100), (200, 60, 40))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "ExampleCam"  # Make
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)})
    image.save(path, "JPEG", exif=exif.tobytes(), quality=90)
    return path


def exif_of(data: bytes) -> Image.Exif:
    with Image.open(io.BytesIO(data)) as image:
        return image.getexif()


def test_a_small_camera_photo_is_not_uploaded_with_its_gps_position(tmp_path: Path):
    src = photo_with_gps(tmp_path / "home.jpg")
    assert src.stat().st_size < UPLOAD_BYTES_MAX and exif_of(src.read_bytes()).get_ifd(GPS_IFD)
    data = upload_ready_image(src)
    assert data is not None and data != src.read_bytes()
    assert not exif_of(data) and b"ExampleCam" not in data


def test_a_photo_taken_sideways_is_turned_upright_for_phone_and_post(tmp_path: Path):
    src = photo_with_gps(tmp_path / "sideways.jpg", orientation=6)  # rotate 90° clockwise to view
    for data in (upload_ready_image(src), encode_image(src, (100, 200), "JPEG")):
        assert data is not None
        with Image.open(io.BytesIO(data)) as image:
            assert image.size == (100, 200) and not image.getexif()


def test_a_clean_small_png_is_uploaded_as_it_is_and_a_wide_one_is_narrowed(tmp_path: Path):
    clean = tmp_path / "chart.png"
    Image.new("RGB", (300, 200), "white").save(clean, "PNG")
    assert upload_ready_image(clean) == clean.read_bytes()
    wide = tmp_path / "wide.webp"
    Image.new("RGB", (3000, 1000), (30, 120, 80)).save(wide, "WEBP")
    data = upload_ready_image(wide)
    assert data is not None and data[:3] == b"\xff\xd8\xff"
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (1080, 360)


def test_a_file_that_is_no_image_gives_none_not_an_error(tmp_path: Path):
    fake = tmp_path / "fake.jpg"
    fake.write_bytes(b"\xff\xd8" + b"<script>" * 200_000)  # a JPEG start, then 1.6 MB of junk
    assert upload_ready_image(fake) is None


def test_a_drawing_in_svg_reaches_wechat_as_a_png_on_white_in_its_proportions(tmp_path: Path):
    """WeChat keeps no SVG: the lessons' own drawings were dropped from every article."""
    drawing = tmp_path / "cup.svg"
    drawing.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100">'
        '<script>alert(1)</script><rect x="10" y="10" width="80" height="80" fill="#c0392b"/></svg>',
        encoding="utf-8",
    )
    data = upload_ready_image(drawing)
    assert data is not None and data[:8] == b"\x89PNG\r\n\x1a\n" and b"alert" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (1080, 540) and image.mode == "RGB"
        assert image.getpixel((1000, 270)) == (255, 255, 255)  # white where nothing is drawn
        red, green, blue = image.getpixel((270, 270))  # inside the square
        assert red > 150 and green < 100 and blue < 100
    # The bundled drawings all make it, at 1080 px wide.
    for src in sorted((Path(__file__).resolve().parent.parent / "media").glob("*.svg")):
        painted = upload_ready_image(src)
        assert painted is not None, src.name
        with Image.open(io.BytesIO(painted)) as image:
            assert image.width == 1080


def test_an_svg_that_is_no_picture_gives_none(tmp_path: Path):
    for name, text in (("page.svg", "<html><body>hi</body></html>"), ("broken.svg", "<svg"), ("flat.svg",
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 0"></svg>')):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert upload_ready_image(path) is None, name
