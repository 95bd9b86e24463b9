"""Copies without GPS and device fields: nothing else changes, least of all the pixels."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from evidence.metadata import MetadataError, strip_identifying

GPS = {1: "N", 2: (31.0, 14.0, 5.5), 3: "E", 4: (121.0, 28.0, 1.0)}
TAKEN = "2026:03:04 05:06:07"
XMP_GPS = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
    b' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description'
    b' xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="31,14.1N"'
    b' exif:GPSLongitude="121,28.0E"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
XMP_PLAIN = XMP_GPS.replace(b"exif:GPSLatitude", b"exif:UserComment").replace(
    b"exif:GPSLongitude", b"exif:ExposureProgram"
)
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/heic": "HEIF"}


def phone_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 12 Pro"
    exif[0x0131] = "PhoneOS 17.1"
    exif[0x8825] = GPS
    details = exif.get_ifd(0x8769)
    details[0x9003] = TAKEN
    details[0xA431] = "SN-0042"
    details[0xA435] = "LENS-7"
    details[0xA430] = "Wang Wei"
    details[0x927C] = b"vendor notes with a serial"
    return exif


def picture() -> Image.Image:
    return Image.radial_gradient("L").resize((96, 64)).convert("RGB")


def saved(media_type: str, exif: Image.Exif | None = None, **extra: object) -> bytes:
    if media_type == "image/heic":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    buffer = io.BytesIO()
    options = {"exif": exif} if exif is not None else {}
    picture().save(buffer, FORMATS[media_type], **options, **extra)
    return buffer.getvalue()


def opened(data: bytes) -> Image.Image:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize("media_type", list(FORMATS))
def test_gps_and_device_fields_leave_while_pixels_orientation_and_time_stay(
    media_type: str,
) -> None:
    original = saved(media_type, phone_exif())
    copy, removed = strip_identifying(original, media_type)
    assert {"GPSInfo", "Make", "Model", "BodySerialNumber", "LensSerialNumber",
            "CameraOwnerName", "MakerNote"} <= set(removed)  # fmt: skip
    with opened(copy) as shipped, opened(original) as before:
        exif = shipped.getexif()
        assert 0x8825 not in exif and not exif.get_ifd(0x8825)
        assert 0x010F not in exif and 0x0110 not in exif
        details = exif.get_ifd(0x8769)
        assert details.get(0x9003) == TAKEN
        assert not {0xA431, 0xA435, 0xA430, 0x927C} & set(details)
        assert exif.get(0x0131) == "PhoneOS 17.1"  # the software is no device of anyone's
        if media_type != "image/heic":  # libheif applies the turn and reports 1
            assert exif.get(0x0112) == 6
        assert shipped.size == before.size and shipped.tobytes() == before.tobytes()
    for word in (b"PhoneMaker", b"Phone 12 Pro", b"SN-0042", b"Wang Wei", b"vendor notes"):
        assert word not in copy


@pytest.mark.parametrize("media_type", list(FORMATS))
def test_a_picture_with_nothing_to_hide_is_returned_byte_for_byte(media_type: str) -> None:
    exif = Image.Exif()
    exif[0x0112] = 3
    exif.get_ifd(0x8769)[0x9003] = TAKEN
    for original in (saved(media_type), saved(media_type, exif)):
        assert strip_identifying(original, media_type) == (original, [])


def test_jpeg_keeps_its_scan_and_quantisation_byte_for_byte() -> None:
    original = saved("image/jpeg", phone_exif(), quality=83)
    copy, _ = strip_identifying(original, "image/jpeg")
    scan = original.index(b"\xff\xda")
    assert copy.endswith(original[scan:])
    tables = original.index(b"\xff\xdb")
    assert original[tables:scan] in copy


def test_jpeg_xmp_naming_a_place_leaves_and_plain_xmp_stays() -> None:
    located = saved("image/jpeg", phone_exif(), xmp=XMP_GPS)
    copy, removed = strip_identifying(located, "image/jpeg")
    assert "XMP" in removed and b"GPSLatitude" not in copy and b"xmpmeta" not in copy
    plain = saved("image/jpeg", xmp=XMP_PLAIN)
    assert strip_identifying(plain, "image/jpeg") == (plain, [])


def test_pictures_appended_after_a_jpeg_with_their_own_exif_are_left_out() -> None:
    first = saved("image/jpeg")
    second = saved("image/jpeg", phone_exif())
    copy, removed = strip_identifying(first + second, "image/jpeg")
    assert removed == ["embedded pictures"] and copy == first


def test_unreadable_exif_is_left_out_whole() -> None:
    body = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff" + b"GPS 31.2N PhoneMaker" * 3
    segment = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    clean = saved("image/jpeg")
    damaged = clean[:2] + segment + clean[2:]
    copy, removed = strip_identifying(damaged, "image/jpeg")
    assert removed == ["EXIF"] and copy == clean


def png_with(chunks: list[tuple[bytes, bytes]]) -> bytes:
    data = saved("image/png")
    end = data.rindex(b"IEND") - 4
    extra = b"".join(
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        for kind, body in chunks
    )
    return data[:end] + extra + data[end:]


def test_png_location_text_and_xmp_leave_and_other_text_stays() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at the warehouse door")
    info.add_text("GPS Position", "31.2304 N, 121.4737 E")
    info.add_itxt("XML:com.adobe.xmp", XMP_GPS.decode(), zip=True)
    buffer = io.BytesIO()
    picture().save(buffer, "PNG", pnginfo=info, exif=phone_exif())
    original = buffer.getvalue()
    copy, removed = strip_identifying(original, "image/png")
    assert {"GPSInfo", "Make", "PNG text GPS Position", "XMP"} <= set(removed)
    with opened(copy) as shipped, opened(original) as before:
        assert isinstance(shipped, PngImagePlugin.PngImageFile)
        assert shipped.text == {"Comment": "taken at the warehouse door"}
        assert shipped.tobytes() == before.tobytes()
        assert 0x8825 not in shipped.getexif()
    assert b"121.4737" not in copy


def test_png_exif_written_after_the_pixels_is_cleaned_too() -> None:
    exif = phone_exif().tobytes()[6:]  # an eXIf chunk holds the TIFF data alone
    original = png_with([(b"eXIf", exif)])
    copy, removed = strip_identifying(original, "image/png")
    assert "GPSInfo" in removed and b"PhoneMaker" not in copy
    with opened(copy) as shipped:
        shipped.load()
        assert shipped.getexif().get(0x0112) == 6


def test_webp_flags_say_the_xmp_is_gone() -> None:
    original = saved("image/webp", phone_exif(), xmp=XMP_GPS)
    copy, removed = strip_identifying(original, "image/webp")
    assert "XMP" in removed and b"XMP " not in copy
    flags = copy[copy.index(b"VP8X") + 8]
    assert flags & 0x04 == 0 and flags & 0x08
    assert struct.unpack("<I", copy[4:8])[0] == len(copy) - 8


def test_heic_is_cleaned_in_place_with_every_offset_where_it_was() -> None:
    original = saved("image/heic", phone_exif(), xmp=XMP_GPS)
    copy, removed = strip_identifying(original, "image/heic")
    assert len(copy) == len(original) and "XMP" in removed
    assert b"GPSLatitude" not in copy and b"PhoneMaker" not in copy
    with opened(copy) as shipped, opened(original) as before:
        assert shipped.tobytes() == before.tobytes()


def test_files_that_are_no_pictures_pass_unchanged_and_broken_pictures_are_refused() -> None:
    assert strip_identifying(b"%PDF-1.7 GPS", "application/pdf") == (b"%PDF-1.7 GPS", [])
    with pytest.raises(MetadataError):
        strip_identifying(b"\xff\xd8\xff\xe1\x00", "image/jpeg")
    with pytest.raises(MetadataError):
        strip_identifying(b"not a png", "image/png")
