"""The console script starts with what a command uses: no S3 client, HEIF decoder or web layer
for a local build, nothing of the portal at all for `--help`.

Each command runs in a child process the operator's way (a database and a data folder of
its own) and reports the modules it had loaded when it finished.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fresh_database

SCRIPT = str(Path(sys.executable).parent / "merchant-portal")
# Runs the console script's entry point, then writes the names of the loaded modules.
RUN_AND_LIST = """
import json, sys
from merchant_portal.cli import main
try:
    main(sys.argv[2:], prog_name="merchant-portal")
except SystemExit as exit:
    code = exit.code
with open(sys.argv[1], "w") as listing:
    json.dump(sorted(sys.modules), listing)
sys.exit(code)
"""
NEVER_LOCAL = ("boto3", "botocore", "pillow_heif")
WEB_LAYER = (
    "flask_wtf", "wtforms", "spectree", "merchant_portal.api",
    "merchant_portal.forms", "merchant_portal.auth", "merchant_portal.merchant",
    "merchant_portal.locker", "merchant_portal.bundles", "merchant_portal.review",
    "merchant_portal.admin", "merchant_portal.appeals", "merchant_portal.orders",
)  # fmt: skip


BUILD_ONLY = ("appeals.bundle.assembly", "reportlab", "pypdf", "pyhanko")


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    with fresh_database(tmp_path) as url:
        found = {**os.environ, "PORTAL_DATABASE_URL": url,
                 "PORTAL_DATA_DIR": str(tmp_path / "data"),
                 "PORTAL_PASSWORD_HASH_PROFILE": "cheapest",
                 "PORTAL_READ_EVIDENCE": "0"}  # fmt: skip
        for name in ("PORTAL_REDIS_URL", "PORTAL_S3_BUCKET", "PORTAL_BUNDLE_QUEUE"):
            found.pop(name, None)
        yield found


def run(env: dict[str, str], tmp_path: Path, *args: str) -> tuple[int, str, set[str]]:
    """Exit code, output and loaded modules of one command."""
    listing = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, str(listing), *args],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr, set(json.loads(listing.read_text()))


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.mark.parametrize("args", [["--help"], ["build-bundle", "--help"], ["worker", "--help"]])
def test_help_lists_the_commands_without_loading_the_portal(
    env: dict[str, str], tmp_path: Path, args: list[str]
) -> None:
    code, output, modules = run(env, tmp_path, *args)
    assert code == 0, output
    if args == ["--help"]:
        for name in ("init-db", "demo", "create-token", "build-bundle", "worker", "serve"):
            assert name in output
    else:
        assert "--out" in output if args[0] == "build-bundle" else "--workers" in output
    assert loaded(modules, (*NEVER_LOCAL, *WEB_LAYER, "sqlalchemy", "reportlab", "PIL")) == []


def test_a_local_build_loads_no_s3_client_heif_decoder_or_web_layer(
    env: dict[str, str], tmp_path: Path
) -> None:
    subprocess.run([SCRIPT, "init-db"], env=env, check=True, capture_output=True, timeout=300)
    subprocess.run([SCRIPT, "demo"], env=env, check=True, capture_output=True, timeout=300)
    out = tmp_path / "out"
    built = []
    for appeal_id in ("1", "2", "3", "4"):  # the demo submits one appeal per shop
        code, output, modules = run(env, tmp_path, "build-bundle", appeal_id, "--out", str(out))
        if code == 0:
            built.append(modules)
        else:
            assert "not been submitted" in output, output
    assert built, "the demo has a submitted appeal"
    assert [p.suffix for p in sorted(out.iterdir())][:2] == [".pdf", ".zip"]
    for modules in built:
        assert loaded(modules, NEVER_LOCAL) == []
        assert loaded(modules, WEB_LAYER) == []


def test_the_other_local_commands_work_without_the_web_layer(
    env: dict[str, str], tmp_path: Path
) -> None:
    steps = [
        (["init-db"], "latest schema"),
        (["create-shop", "Light Shop"], "Light Shop"),
        (["create-user", "light@example.com", "--role", "merchant_owner", "--shop",
          "Light Shop", "--password", "light-password-1"], "light@example.com"),
        (["create-token", "light@example.com"], "shown once"),
        (["rotate-signing-key"], "New signing key"),
        (["verify-audit"], "Audit trail intact"),
    ]  # fmt: skip
    for args, said in steps:
        code, output, modules = run(env, tmp_path, *args)
        assert code == 0 and said in output, output
        assert loaded(modules, (*NEVER_LOCAL, *WEB_LAYER)) == [], args
        # The signing keys come without the bundle's build (its PDF and picture libraries).
        assert loaded(modules, BUILD_ONLY) == [], args


def test_the_worker_loads_no_s3_client_or_heif_decoder(env: dict[str, str], tmp_path: Path) -> None:
    code, output, modules = run(env, tmp_path, "worker")
    assert code != 0 and "PORTAL_REDIS_URL" in output  # it started the portal, then refused
    assert "merchant_portal.jobs" in modules
    assert loaded(modules, NEVER_LOCAL) == []
