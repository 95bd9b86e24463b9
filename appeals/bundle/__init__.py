"""Evidence bundles of a submitted version: a PDF, a ZIP with a signed manifest, and their check.

The PDF (A4) holds a cover, the rebuttal matrix, an exhibit index, every exhibit and the
complainant dossier; every page carries a header, `AP-2026-000123 · Exhibit B-2 · Shipping
receipt` and `Page 7 of 40`, and the footer `AP-2026-000123 · B-2 · 7/40`. Every time in it
is the shop's (`time_zone`), with the zone named. The ZIP holds the
PDF, the exhibits' files under originals/ and manifest.json, whose Ed25519 signature lets
anyone holding the platform's published public key tell an intact bundle from a changed one;
the PDF itself carries a PAdES signature that PDF readers check (appeals.bundle.keys).

The plan comes first (what each exhibit becomes and how many pages it takes), so the
index and the footers are written in one pass; images are prepared two at a time and
kept on disk until the PDF is written, so memory does not grow with the bundle.

The package's names load their modules when first used: the keys and the verification
(cryptography only) at once, the build (pypdf, reportlab, SQLAlchemy's ORM) on first use,
so that a command that only reads keys or checks a bundle does not pay for the build.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from appeals.bundle.keys import KeyFolder, SigningKey
from appeals.bundle.verification import Trust, Verification, verify
from appeals.bundle.verification import legacy_signing_key as signing_key

if TYPE_CHECKING:
    from appeals.bundle.assembly import build
    from appeals.bundle.plan import Built, Exhibit, PlainWording, ShopReader, Wording, exhibits_of

_LATER = {
    "build": "appeals.bundle.assembly",
    **dict.fromkeys(
        ("Built", "Exhibit", "PlainWording", "ShopReader", "Wording", "exhibits_of"),
        "appeals.bundle.plan",
    ),
}

__all__ = [
    "Built",
    "Exhibit",
    "KeyFolder",
    "PlainWording",
    "ShopReader",
    "SigningKey",
    "Trust",
    "Verification",
    "Wording",
    "build",
    "exhibits_of",
    "signing_key",
    "verify",
]


def __getattr__(name: str) -> Any:
    if name in _LATER:
        return getattr(importlib.import_module(_LATER[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
