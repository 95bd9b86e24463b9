"""Photo facts: what the original bytes say and where it is written; near copies by pHash."""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter
from PIL.PngImagePlugin import PngInfo

from evidence.photofacts import (
    NEAR,
    facts,
    hash_distance,
    near_copies,
    perceptual_hash,
)
from tests.chatshots import EXTORTION, Said, render

IPTC_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
C2PA_UUID = bytes.fromhex("6332706100110010800000aa00389b71")
A1111 = (
    "a white mug with a crack, on a wooden table\nNegative prompt: blurry\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234, Size: 512x512, Model: sd_xl_base"
)


def jpeg(exif: Image.Exif | None = None, **options: Any) -> bytes:
    buffer = io.BytesIO()
    if exif is not None:
        options["exif"] = exif
    Image.new("RGB", (32, 24), "blue").save(buffer, "JPEG", **options)
    return buffer.getvalue()


def camera_exif(software: str = "Adobe Photoshop 25.0") -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Xiaomi"
    exif[0x0110] = "23127PN0CC"
    exif[0x0131] = software
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    exif.get_ifd(0x8769)[0x9003] = "2026:11:03 14:20:05"
    return exif


def xmp_packet(properties: str, children: str = "") -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" '
        'xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        f'xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/" {properties}>{children}'
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def png(info: PngInfo | None = None, chunks: tuple[tuple[bytes, bytes], ...] = ()) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(buffer, "PNG", pnginfo=info)
    data = buffer.getvalue()
    extra = b"".join(
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        for kind, body in chunks
    )
    return data[:33] + extra + data[33:]  # after the signature and IHDR


def cbor_text(text: str) -> bytes:
    raw = text.encode()
    return (bytes([0x60 + len(raw)]) if len(raw) < 24 else bytes([0x78, len(raw)])) + raw


def c2pa_store(generator: str, source_type: str | None = None) -> bytes:
    """A JUMBF superbox labelled c2pa, holding a CBOR-like claim and actions."""
    description = C2PA_UUID + b"\x03" + b"c2pa\x00"
    jumd = struct.pack(">I4s", 8 + len(description), b"jumd") + description
    content = b"\xa2" + cbor_text("claim_generator") + cbor_text(generator) + b"\x00" * 300
    if source_type:
        content += cbor_text("digitalSourceType") + cbor_text(IPTC_TYPES + source_type)
    return struct.pack(">I4s", 8 + len(jumd) + len(content), b"jumb") + jumd + content


def with_app11(picture: bytes, store: bytes, packet: int = 200) -> bytes:
    """Insert the store after SOI as JPEG XT APP11 packets; later ones repeat the box header."""
    segments = []
    for sequence, start in enumerate(range(0, len(store), packet), 1):
        body = (
            store[start : start + packet] if sequence == 1 else store[:8] + store[start:][:packet]
        )
        payload = b"JP" + struct.pack(">HI", 1, sequence) + body
        segments.append(b"\xff\xeb" + struct.pack(">H", len(payload) + 2) + payload)
    return picture[:2] + b"".join(segments) + picture[2:]


def read(tmp_path: Path, data: bytes, media_type: str) -> list[dict[str, Any]]:
    path = tmp_path / "upload"
    path.write_bytes(data)
    return facts(path, media_type)


def only(found: list[dict[str, Any]], code: str) -> list[dict[str, Any]]:
    return [fact for fact in found if fact["code"] == code]


def test_camera_photo_gives_blocks_camera_and_software_as_written(tmp_path: Path) -> None:
    found = read(tmp_path, jpeg(camera_exif()), "image/jpeg")
    assert found[0] == {
        "code": "metadata_present",
        "params": {
            "blocks": ["exif", "gps"],
            "make": "Xiaomi",
            "model": "23127PN0CC",
            "date_time_original": "2026:11:03 14:20:05",
        },
        "how": "JPEG APP1 Exif",
    }
    (software,) = only(found, "editing_software")
    assert software["params"] == {"software": "Adobe Photoshop 25.0"}
    assert software["how"].startswith("EXIF tag 0x0131 Software")
    assert not only(found, "ai_label")


def test_phone_firmware_is_reported_as_written_and_nothing_more(tmp_path: Path) -> None:
    found = read(tmp_path, jpeg(camera_exif(software="  V816.0.5.0.UNMCNXM  ")), "image/jpeg")
    assert [fact["params"] for fact in only(found, "editing_software")] == [
        {"software": "V816.0.5.0.UNMCNXM"}
    ]
    assert [fact["code"] for fact in found] == ["metadata_present", "editing_software"]


@pytest.mark.parametrize(
    ("source_type", "labelled"),
    [
        ("trainedAlgorithmicMedia", True),
        ("compositeWithTrainedAlgorithmicMedia", True),
        ("algorithmicMedia", True),
        ("digitalCapture", False),
    ],
)
def test_xmp_digital_source_type_is_an_ai_label_only_for_generated_types(
    tmp_path: Path, source_type: str, labelled: bool
) -> None:
    packet = xmp_packet(f'Iptc4xmpExt:DigitalSourceType="{IPTC_TYPES}{source_type}"')
    found = read(tmp_path, jpeg(xmp=packet), "image/jpeg")
    assert found[0]["code"] == "metadata_present" and found[0]["params"]["blocks"] == ["xmp"]
    labels = only(found, "ai_label")
    assert labels == (
        [
            {
                "code": "ai_label",
                "params": {"label": IPTC_TYPES + source_type},
                "how": "XMP Iptc4xmpExt:DigitalSourceType (JPEG APP1 XMP)",
            }
        ]
        if labelled
        else []
    )


def test_xmp_tools_history_and_china_aigc_label_are_read(tmp_path: Path) -> None:
    aigc = '{"Label":"1","ContentProducer":"001191320100777777","ProduceID":"a1"}'
    escaped = aigc.replace('"', "&quot;")
    packet = xmp_packet(
        'xmp:CreatorTool="Meitu 10.2"',
        '<xmpMM:History><rdf:Seq><rdf:li stEvt:action="saved" stEvt:softwareAgent="Snapseed"/>'
        f"</rdf:Seq></xmpMM:History><TC260:AIGC>{escaped}</TC260:AIGC>",
    )
    found = read(tmp_path, jpeg(xmp=packet), "image/jpeg")
    assert {(f["params"]["software"], f["how"]) for f in only(found, "editing_software")} == {
        ("Meitu 10.2", "XMP xmp:CreatorTool (JPEG APP1 XMP)"),
        ("Snapseed", "XMP xmpMM:History stEvt:softwareAgent (JPEG APP1 XMP)"),
    }
    (label,) = only(found, "ai_label")
    assert label["params"] == {"label": aigc} and label["how"].startswith("XMP TC260:AIGC")


def test_xmp_entities_are_never_resolved(tmp_path: Path) -> None:
    packet = b'<!DOCTYPE x [<!ENTITY tool "Midjourney">]>' + xmp_packet('xmp:CreatorTool="&tool;"')
    found = read(tmp_path, jpeg(xmp=packet), "image/jpeg")
    assert [f["params"] for f in only(found, "editing_software")] == [{"software": "&tool;"}]
    assert not only(found, "ai_label")


@pytest.mark.parametrize(
    ("keyword", "text", "labelled"),
    [
        ("parameters", A1111, True),
        ("prompt", '{"3": {"class_type": "KSampler", "inputs": {"seed": 1}}}', True),
        ("workflow", '{"last_node_id": 9, "nodes": []}', True),
        ("prompt", "bring the receipt", False),
        ("Software", "NovelAI", True),
        ("Title", "AI generated image", True),
        ("Description", "杯子照片，人工智能生成", True),
        ("Comment", "a mug photographed on my kitchen table", False),
    ],
)
def test_png_text_chunks_written_by_generators_are_ai_labels(
    tmp_path: Path, keyword: str, text: str, labelled: bool
) -> None:
    info = PngInfo()
    info.add_text(keyword, text)
    found = read(tmp_path, png(info), "image/png")
    assert found[0]["code"] == "metadata_present" and found[0]["params"]["blocks"] == ["text"]
    labels = only(found, "ai_label")
    assert bool(labels) is labelled
    if labelled:
        assert labels[0]["how"] == f"PNG text chunk '{keyword}'"
    if keyword == "parameters":
        assert "Steps: 20, Sampler: Euler a" in labels[0]["params"]["label"]


def test_png_without_metadata_says_so_and_nothing_else(tmp_path: Path) -> None:
    found = read(tmp_path, png(), "image/png")
    assert [fact["code"] for fact in found] == ["metadata_absent"]
    assert found[0]["params"] == {"blocks": []} and "PNG" in found[0]["how"]


def test_generator_settings_in_exif_user_comment_are_an_ai_label(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + A1111.encode("utf-16-be")
    exif[0x010E] = "杯子，AI生成".encode()
    found = read(tmp_path, jpeg(exif), "image/jpeg")
    hows = {fact["how"] for fact in only(found, "ai_label")}
    assert hows == {
        "EXIF tag 0x9286 UserComment (JPEG APP1 Exif)",
        "EXIF tag 0x010E ImageDescription (JPEG APP1 Exif)",
    }


@pytest.mark.parametrize(
    ("fmt", "media_type", "where"),
    [
        ("PNG", "image/png", "PNG eXIf chunk"),
        ("WEBP", "image/webp", "WebP EXIF chunk"),
        ("HEIF", "image/heic", "HEIF Exif item"),
    ],
)
def test_exif_and_xmp_are_found_in_every_container(
    tmp_path: Path, fmt: str, media_type: str, where: str
) -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    buffer = io.BytesIO()
    packet = xmp_packet(f'Iptc4xmpExt:DigitalSourceType="{IPTC_TYPES}trainedAlgorithmicMedia"')
    options: dict[str, Any] = {"xmp": packet}
    if fmt == "PNG":  # Pillow writes XMP into PNG only as a text chunk of its own
        options = {"pnginfo": PngInfo()}
        options["pnginfo"].add_itxt("XML:com.adobe.xmp", packet.decode())
    picture = Image.new("RGB", (32, 24), "green")
    picture.save(buffer, fmt, exif=camera_exif("Lightroom").tobytes(), **options)
    found = read(tmp_path, buffer.getvalue(), media_type)
    assert {"exif", "gps", "xmp"} <= set(found[0]["params"]["blocks"])
    assert found[0]["params"]["make"] == "Xiaomi"
    (software,) = only(found, "editing_software")
    assert software["how"] == f"EXIF tag 0x0131 Software ({where})"
    assert [fact["how"].split(" (")[0] for fact in only(found, "ai_label")] == [
        "XMP Iptc4xmpExt:DigitalSourceType"
    ]


def test_c2pa_manifest_alone_is_content_credentials_not_an_ai_label(tmp_path: Path) -> None:
    store = c2pa_store("Adobe_Photoshop/25.0 adobe_c2pa/0.7.6 c2pa-rs/0.25.2")
    found = read(tmp_path, with_app11(jpeg(), store), "image/jpeg")
    assert found[0]["params"]["blocks"] == ["c2pa"]
    assert only(found, "content_credentials") == [
        {
            "code": "content_credentials",
            "params": {"claim_generator": "Adobe_Photoshop/25.0 adobe_c2pa/0.7.6 c2pa-rs/0.25.2"},
            "how": "C2PA manifest (JUMBF box labelled c2pa in APP11)",
        }
    ]
    assert not only(found, "ai_label")


def test_c2pa_manifest_split_over_app11_packets_with_a_generated_source_type(
    tmp_path: Path,
) -> None:
    store = c2pa_store("ChatGPT", "trainedAlgorithmicMedia")
    found = read(tmp_path, with_app11(jpeg(), store, packet=97), "image/jpeg")
    assert only(found, "content_credentials")[0]["params"] == {"claim_generator": "ChatGPT"}
    (label,) = only(found, "ai_label")
    assert label == {
        "code": "ai_label",
        "params": {"label": IPTC_TYPES + "trainedAlgorithmicMedia"},
        "how": "C2PA manifest digitalSourceType (JUMBF box labelled c2pa in APP11)",
    }


def test_app11_jumbf_with_another_label_is_not_a_manifest(tmp_path: Path) -> None:
    store = c2pa_store("ChatGPT", "trainedAlgorithmicMedia").replace(b"c2pa\x00", b"jpxl\x00")
    found = read(tmp_path, with_app11(jpeg(), store), "image/jpeg")
    assert [fact["code"] for fact in found] == ["metadata_absent"]


def test_png_cabx_chunk_is_content_credentials(tmp_path: Path) -> None:
    found = read(tmp_path, png(chunks=((b"caBX", c2pa_store("ChatGPT")),)), "image/png")
    (credentials,) = only(found, "content_credentials")
    assert credentials["how"] == "C2PA manifest (PNG caBX chunk)"


def test_damaged_file_gives_what_was_read_before_the_damage(tmp_path: Path) -> None:
    whole = jpeg(camera_exif(), xmp=xmp_packet('xmp:CreatorTool="Meitu"'))
    cut = whole[: whole.index(b"http://ns.adobe.com/xap/1.0/") + 40]
    found = read(tmp_path, cut, "image/jpeg")
    assert found[0]["code"] == "metadata_present" and "reading stopped" in found[0]["how"]
    assert [f["params"] for f in only(found, "editing_software")] == [
        {"software": "Adobe Photoshop 25.0"}
    ]


@pytest.mark.parametrize("media_type", ["image/jpeg", "image/png", "image/webp", "image/heic"])
def test_garbage_never_raises(tmp_path: Path, media_type: str) -> None:
    found = read(tmp_path, b"\xff\xd8\xff\xe1\x00\x01garbage" * 3, media_type)
    assert [fact["code"] for fact in found] == ["metadata_absent"]
    assert "reading stopped" in found[0]["how"]


SEEDS = {
    "jpeg": with_app11(
        jpeg(camera_exif(), xmp=xmp_packet('xmp:CreatorTool="Meitu"')),
        c2pa_store("ChatGPT", "trainedAlgorithmicMedia"),
    ),
    "png": png(PngInfo(), chunks=((b"tEXt", b"parameters\x00" + A1111.encode()),)),
}


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_mutants_never_raise(seed: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("mutants")

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data: st.DataObject) -> None:
        mutant = bytearray(SEEDS[seed])
        for _ in range(data.draw(st.integers(1, 6))):
            at = data.draw(st.integers(0, len(mutant) - 1))
            mutant[at] = data.draw(st.integers(0, 255))
        cut = data.draw(st.integers(8, len(mutant)))
        found = read(folder, bytes(mutant[:cut]), f"image/{seed}")
        assert found[0]["code"] in {"metadata_present", "metadata_absent"}

    check()


def photo(seed: int, size: tuple[int, int] = (1200, 900)) -> Image.Image:
    """A picture with texture at every scale, drawn the same way for the same seed."""
    rng = random.Random(seed)
    picture = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(picture)
    for _ in range(120):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(20, size[0] // 3), rng.randrange(20, size[1] // 3)
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x - w, y - h, x + w, y + h), fill=tuple(rng.randrange(256) for _ in range(3)))
    return picture.filter(ImageFilter.GaussianBlur(2))


def resaved(picture: Image.Image, quality: int = 60) -> Image.Image:
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


def copies(picture: Image.Image) -> dict[str, Image.Image]:
    width, height = picture.size
    dx, dy = round(width * 0.025), round(height * 0.025)
    return {
        "q60": resaved(picture),
        "half": picture.resize((width // 2, height // 2)),
        "crop5": picture.crop((dx, dy, width - dx, height - dy)),
        "crop5-top": picture.crop((0, round(height * 0.05), width, height)),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_resaved_resized_and_cropped_copies_are_near(seed: int) -> None:
    original = perceptual_hash(photo(seed))
    assert len(original) == 16 and int(original, 16) >= 0
    made = copies(photo(seed))
    distances = {
        name: hash_distance(original, perceptual_hash(copy)) for name, copy in made.items()
    }
    assert max(distances.values()) <= NEAR, distances


def test_different_photos_and_different_chats_are_not_near() -> None:
    other = [
        Said(False, "请问什么时候发货？", "2026-11-04 09:01:00"),
        Said(True, "亲，今天下午就发"),
    ]
    chats = [perceptual_hash(render(said).image) for said in (EXTORTION, other)]
    photos = [perceptual_hash(photo(seed)) for seed in (1, 2, 3)]
    for group in (photos, chats):
        for index, first in enumerate(group):
            for second in group[index + 1 :]:
                assert hash_distance(first, second) > NEAR
    shot = render(EXTORTION).image
    assert hash_distance(chats[0], perceptual_hash(resaved(shot.convert("RGB")))) <= NEAR


def test_near_copies_keeps_those_within_near_nearest_first() -> None:
    target = "ffffffffffffffff"
    candidates = [
        ("far", "0000000000000000"),
        ("two", "fffffffffffffffc"),
        ("same", target),
        ("edge", f"{(1 << 64) - (1 << NEAR):016x}"),
        ("past", f"{(1 << 64) - (1 << (NEAR + 1)):016x}"),
    ]
    assert near_copies(target, candidates) == [("same", 0), ("two", 2), ("edge", NEAR)]
    assert near_copies(target, candidates, limit=1) == [("same", 0)]
    with pytest.raises(ValueError):
        hash_distance("ff", "ffff")
