"""The platform's bundle signing keys: a folder of key files the database never holds.

Each key file (`<key id>.pem`, mode 0600) holds three PEM blocks: the Ed25519 private key
that signs manifests, the ECDSA P-256 private key that signs the PDF (PAdES; PDF readers
know P-256, few know Ed25519) and that key's self-signed certificate, whose subject names
"Appeal Desk bundle signing <key id>" and whose start is the key's creation time. A key id is
the first 16 hex digits of the SHA-256 of the Ed25519 public key.

Rotation: `rotate` adds a key; the newest key signs unless one is chosen by id, and every key
in the folder stays published, so bundles signed before a rotation still verify. Retiring a
key means moving its file out of the folder (its bundles then no longer verify here).
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from appeals.bundle.verify_offline import ED25519, key_id_of, unsigned
from appeals.clock import utcnow

SIGNER_NAME = "Appeal Desk bundle signing"
CERTIFICATE_YEARS = 30
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----\s*", re.DOTALL)
_KEY_FILE = re.compile(r"^[0-9a-f]{16}\.pem$")


class SigningKeyError(RuntimeError):
    """The key folder holds a file that is not a signing key, or the chosen key is absent."""


@dataclass(frozen=True)
class SigningKey:
    """One key of the platform: Ed25519 for manifests, P-256 and its certificate for PDFs."""

    key_id: str
    manifest_key: Ed25519PrivateKey
    pdf_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def created_at(self) -> datetime:
        return self.certificate.not_valid_before_utc

    @property
    def signer_name(self) -> str:
        return f"{SIGNER_NAME} {self.key_id}"

    def seal(self, manifest: dict[str, Any]) -> dict[str, str]:
        """The manifest's signature block: Ed25519 over its canonical form without the block."""
        value = self.manifest_key.sign(unsigned(manifest))
        return {
            "algorithm": ED25519,
            "key_id": self.key_id,
            "value": base64.b64encode(value).decode(),
        }

    def sign_pdf(self, path: Path, when: datetime) -> None:
        """Sign the PDF at `path` in place (PAdES, an incremental update), dated `when`."""
        from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
        from asn1crypto import x509 as asn1_x509
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        none = serialization.NoEncryption()
        certificate = asn1_x509.Certificate.load(
            self.certificate.public_bytes(serialization.Encoding.DER)
        )
        signer = signers.SimpleSigner(
            signing_cert=certificate,
            signing_key=asn1_keys.PrivateKeyInfo.load(
                self.pdf_key.private_bytes(
                    serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, none
                )
            ),
            cert_registry=SimpleCertificateStore.from_certs([certificate]),  # type: ignore[no-untyped-call]
        )
        meta = signers.PdfSignatureMetadata(
            field_name="AppealDeskSignature", md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES, name=self.signer_name,
            reason="Evidence bundle as built by Appeal Desk",
        )  # fmt: skip
        partial = path.with_name(path.name + ".signing")

        def sign() -> None:
            with path.open("rb") as source, partial.open("w+b") as target:
                pdf_signer = _dated_signer(meta, signer, when)
                pdf_signer.sign_pdf(IncrementalPdfFileWriter(source, strict=False), output=target)

        _outside_any_event_loop(sign)
        os.replace(partial, path)

    def published(self, active: bool) -> dict[str, Any]:
        """What anyone may know of this key: its public halves, as JSON."""
        public = self.manifest_key.public_key()
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        certificate = self.certificate.public_bytes(serialization.Encoding.PEM)
        return {
            "key_id": self.key_id,
            "algorithm": ED25519,
            "public_key": base64.b64encode(raw).decode(),
            "public_key_pem": pem.decode(),
            "created_at": self.created_at.isoformat(),
            "active": active,
            "pdf_signer": self.signer_name,
            "pdf_certificate_pem": certificate.decode(),
            "pdf_certificate_sha256": self.certificate.fingerprint(hashes.SHA256()).hex(),
        }

    def to_pem(self) -> bytes:
        none = serialization.NoEncryption()
        pkcs8 = serialization.PrivateFormat.PKCS8
        return b"".join((
            self.manifest_key.private_bytes(serialization.Encoding.PEM, pkcs8, none),
            self.pdf_key.private_bytes(serialization.Encoding.PEM, pkcs8, none),
            self.certificate.public_bytes(serialization.Encoding.PEM),
        ))  # fmt: skip

    @classmethod
    def from_pem(cls, data: bytes) -> SigningKey:
        blocks = [match.group(0) for match in _PEM_BLOCK.finditer(data)]
        if len(blocks) != 3:
            raise SigningKeyError("a key file holds three PEM blocks")
        manifest_key = serialization.load_pem_private_key(blocks[0], password=None)
        pdf_key = serialization.load_pem_private_key(blocks[1], password=None)
        certificate = x509.load_pem_x509_certificate(blocks[2])
        if not isinstance(manifest_key, Ed25519PrivateKey) or not isinstance(
            pdf_key, ec.EllipticCurvePrivateKey
        ):
            raise SigningKeyError("a key file holds an Ed25519 key, then an EC key")
        return cls(key_id_of(manifest_key.public_key()), manifest_key, pdf_key, certificate)


def _outside_any_event_loop(work: Callable[[], None]) -> None:
    """Run `work` where asyncio.run may start a loop: pyhanko's sync API calls it, which
    fails in a thread that already runs one (an async server, a browser test's driver)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        work()
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(work).result()


def _dated_signer(meta: Any, signer: Any, when: datetime) -> Any:
    """A pyhanko PdfSigner whose signing time is the product's clock, not the wall clock.

    pyhanko is imported here, at the first signature, not with the package (0.7 s).
    """
    from pyhanko.sign.signers import PdfSigner

    class DatedSigner(PdfSigner):
        def init_signing_session(self, *args: Any, **kwargs: Any) -> Any:
            session = super().init_signing_session(*args, **kwargs)
            session.system_time = when
            return session

    return DatedSigner(meta, signer=signer)


def new_key(now: datetime) -> SigningKey:
    """A fresh key pair for manifests and PDFs, with the PDF key's self-signed certificate."""
    manifest_key = Ed25519PrivateKey.generate()
    key_id = key_id_of(manifest_key.public_key())
    pdf_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, f"{SIGNER_NAME} {key_id}"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Appeal Desk"),
    ])  # fmt: skip
    start = now.astimezone(UTC).replace(microsecond=0)
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=True, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(pdf_key.public_key())
        .serial_number(int.from_bytes(hashlib.sha256(key_id.encode()).digest()[:16]) >> 1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365 * CERTIFICATE_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(pdf_key, hashes.SHA256())
    )
    return SigningKey(key_id, manifest_key, pdf_key, certificate)


class KeyFolder:
    """The signing keys in a folder: the one that signs now, and all that are published."""

    def __init__(self, path: Path, chosen: str | None = None) -> None:
        self.path = path
        self.chosen = chosen or None
        self._lock = threading.Lock()
        self._cache: tuple[tuple[str, ...], list[SigningKey]] | None = None

    def keys(self) -> list[SigningKey]:
        """Every key in the folder, oldest first (none if there is no folder yet)."""
        names = tuple(sorted(p.name for p in self._files()))
        with self._lock:
            if self._cache is None or self._cache[0] != names:
                found = [SigningKey.from_pem((self.path / name).read_bytes()) for name in names]
                found.sort(key=lambda key: (key.created_at, key.key_id))
                self._cache = (names, found)
            return list(self._cache[1])

    def signer(self) -> SigningKey:
        """The key that signs now: the chosen one, else the newest; made at first use."""
        found = self.keys() or self._first()
        if self.chosen is None:
            return found[-1]
        for key in found:
            if key.key_id == self.chosen:
                return key
        raise SigningKeyError(f"no signing key {self.chosen} in {self.path}")

    def rotate(self) -> SigningKey:
        """Add a new key, which signs from now on (unless a key is chosen by id)."""
        with self._folder_lock():
            found = self.keys()
            # Newer than every key there, so that it is the one that signs.
            later = found[-1].created_at + timedelta(seconds=1) if found else utcnow()
            return self._add(new_key(max(utcnow(), later)))

    def published(self) -> dict[str, Any]:
        """Every key's public halves, and which one signs now."""
        active = self.signer().key_id
        return {
            "active_key_id": active,
            "keys": [key.published(key.key_id == active) for key in reversed(self.keys())],
        }

    def public_keys(self) -> dict[str, Any]:
        """The Ed25519 public keys by id, to check manifests with."""
        return {key.key_id: key.manifest_key.public_key() for key in self.keys()}

    def _files(self) -> Iterator[Path]:
        if not self.path.is_dir():
            return iter(())
        return (p for p in self.path.iterdir() if _KEY_FILE.match(p.name))

    def _first(self) -> list[SigningKey]:
        with self._folder_lock():
            return self.keys() or [self._add(new_key(utcnow()))]

    def _add(self, key: SigningKey) -> SigningKey:
        partial = self.path / f".{key.key_id}.partial"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.to_pem())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, self.path / f"{key.key_id}.pem")
        return key

    @contextmanager
    def _folder_lock(self) -> Iterator[None]:
        """One process at a time makes keys, so two servers starting together make one."""
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
