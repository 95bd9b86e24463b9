"""Text with positions read from pictures: screenshots, photos and scanned PDF pages.

The reader is RapidOCR on onnxruntime with the PP-OCRv4 Chinese and English detection and
recognition models that ship inside its wheel (nothing is downloaded). It runs on one
thread: a reading is a background job beside the web answers, and one core each keeps a
machine's other work going.

A reading is stored as JSON (format 1) so that it can be redone when the reader changes:

    {"format": 1, "reader": "rapidocr-onnxruntime 1.4.4 ...",
     "pages": [{"page": 1, "width": px, "height": px,
                "lines": [{"text": "...", "box": [left, top, width, height],
                           "confidence": 0.99}]}]}

Boxes are fractions of the page or picture, as redaction boxes are (evidence.redact).
Pictures are read as the locker shows them: the normalized copy, turned upright.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

FORMAT = 1
# Detection runs on the picture scaled to this many pixels on its long side: phone text is
# large, and a 1080x2400 screenshot is found as well at 960 as at full size, five times faster.
DETECT_SIDE = 960
RECOGNITION_BATCH = 1
MIN_CONFIDENCE = 0.5
MAX_LINES = 2000


@dataclass(frozen=True)
class TextLine:
    """One line of text found on a page: its words, where (fractions), how sure."""

    text: str
    box: tuple[float, float, float, float]
    confidence: float

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "box": [round(v, 5) for v in self.box],
                "confidence": round(self.confidence, 4)}  # fmt: skip


def reader_name() -> str:
    """The reader and its settings, stored with each reading so it can be redone."""
    return (
        f"rapidocr-onnxruntime {version('rapidocr-onnxruntime')}"
        f" (PP-OCRv4 det+rec, detect {DETECT_SIDE}px, rec batch {RECOGNITION_BATCH},"
        f" onnxruntime {version('onnxruntime')})"
    )


_engine: Any = None


def engine() -> Any:
    """The OCR engine, made once per process (0.4 s), on one thread."""
    global _engine
    if _engine is None:
        from rapidocr_onnxruntime import RapidOCR
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

        made = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, use_cls=False)
        detector = made.text_det
        detector.get_preprocess = lambda _side: DetPreProcess(
            DETECT_SIDE, "max", detector.mean, detector.std
        )
        # Lines one at a time: a batch is padded to its widest line, and chat lines differ
        # in width, so on one core this reads a screenshot in 0.95 s instead of 1.3 s.
        made.text_rec.rec_batch_num = RECOGNITION_BATCH
        _engine = made
    return _engine


def read_picture(picture: Any) -> list[TextLine]:
    """The lines of a PIL image, top to bottom, with boxes as fractions of the image."""
    import numpy

    rgb = picture.convert("RGB")
    width, height = rgb.size
    found, _elapsed = engine()(numpy.asarray(rgb)[:, :, ::-1], use_cls=False)
    lines = []
    for points, text, score in found or []:
        if float(score) < MIN_CONFIDENCE or not str(text).strip():
            continue
        xs = [float(p[0]) for p in points]
        ys = [float(p[1]) for p in points]
        left, top = max(0.0, min(xs)), max(0.0, min(ys))
        right, bottom = min(float(width), max(xs)), min(float(height), max(ys))
        if right <= left or bottom <= top:
            continue
        box = (left / width, top / height, (right - left) / width, (bottom - top) / height)
        lines.append(TextLine(str(text).strip(), box, float(score)))
    lines.sort(key=lambda line: (round(line.box[1] * height / 8), line.box[0]))
    return lines[:MAX_LINES]


def page_json(number: int, picture: Any, lines: list[TextLine]) -> dict[str, Any]:
    return {"page": number, "width": picture.width, "height": picture.height,
            "lines": [line.to_json() for line in lines]}  # fmt: skip


def reading_json(pages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"format": FORMAT, "reader": reader_name(), "pages": pages, **extra}


def lines_of(reading: dict[str, Any], page: int = 1) -> list[TextLine]:
    """The lines of one page of a stored reading."""
    for entry in reading.get("pages", []):
        if entry.get("page") == page:
            return [
                TextLine(str(line["text"]), _box(line["box"]), float(line["confidence"]))
                for line in entry.get("lines", [])
            ]
    return []


def _box(values: list[float]) -> tuple[float, float, float, float]:
    left, top, width, height = (float(v) for v in values)
    return left, top, width, height
