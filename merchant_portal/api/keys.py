"""The platform's public bundle signing keys, for anyone to check bundles with, offline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from pydantic import BaseModel
from spectree import Response as SpecResponse

from merchant_portal.api.frame import api, spec
from merchant_portal.context import context


class PublicKey(BaseModel):
    """One signing key's public halves: Ed25519 for manifests, a certificate for PDFs."""

    key_id: str
    algorithm: str
    public_key: str  # the 32 raw bytes, base64
    public_key_pem: str
    created_at: datetime
    active: bool  # the key that signs bundles now
    pdf_signer: str
    pdf_certificate_pem: str
    pdf_certificate_sha256: str


class SigningKeys(BaseModel):
    """Every key bundles may be signed with, newest first."""

    active_key_id: str
    keys: list[PublicKey]


@api.get("/signing-keys")
@spec.validate(resp=SpecResponse(HTTP_200=SigningKeys), tags=["bundles"])
def signing_keys() -> Any:
    """The public keys bundle manifests and PDFs are signed with (no token needed)."""
    response = current_app.json.response(context().signing_keys.published())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
