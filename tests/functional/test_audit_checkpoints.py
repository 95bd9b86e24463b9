"""The tick signs the audit chain's head outside the database; `verify-audit` proves the
trail against those checkpoints and catches a forger who recomputed the chain; bundles
carry the latest checkpoint in their signed manifest."""

from __future__ import annotations

import io
import json
import zipfile

from flask import Flask
from sqlalchemy import text

from appeals.models import AppealVersion
from merchant_portal.notifications import tick
from tests.conftest import World
from tests.unit.appeals.test_audit import without_guard
from tests.unit.appeals.test_checkpoints import rechain


def run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=list(args))


def test_the_tick_signs_the_head_and_verify_audit_catches_a_rewrite(
    app: Flask, world: World
) -> None:
    before = run(app, "verify-audit")
    assert before.exit_code == 0 and "No signed checkpoint yet" in before.output
    assert tick(app)["checkpoint"] > 0
    proven = run(app, "verify-audit")
    assert proven.exit_code == 0, proven.output
    assert "Proven by 1 signed checkpoints through entry" in proven.output

    with app.app_context():
        from merchant_portal.database import db

        session = db()
        first = session.execute(text("SELECT MIN(id) FROM audit_event")).scalar_one()
        without_guard(session)
        session.execute(text("UPDATE audit_event SET actor_label = 'someone else' WHERE id = :id"),
                        {"id": first})  # fmt: skip
        rechain(session, first)
        session.commit()
    forged = run(app, "verify-audit")
    assert forged.exit_code == 1
    assert "CONTRADICTS its signed checkpoints" in forged.output and "rewritten" in forged.output


def test_a_bundle_manifest_carries_the_latest_checkpoint(
    app: Flask, world: World, version: AppealVersion
) -> None:
    tick(app)
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {world.tokens['owner_a'][1]}"}
    response = api.get(f"/api/v1/appeals/{version.appeal_id}/bundle.zip", headers=bearer)
    archive = response.get_data()
    response.close()
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
    carried = manifest["audit_checkpoint"]
    with app.app_context():
        from appeals import checkpoints
        from merchant_portal.context import context

        assert carried == checkpoints.latest(context().checkpoints)
    assert carried["signature"] and carried["head_hash"] and carried["entries"] > 0
