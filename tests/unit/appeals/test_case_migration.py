"""Complaints stored before they followed their appeals get the status their appeal means."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from appeals.clock import utcnow
from appeals.migrate import upgrade


def test_each_complaint_takes_the_status_its_appeal_means(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine, "0011")
    now = utcnow().replace(tzinfo=None)
    stamps = {"then": f"{now - timedelta(days=9):%Y-%m-%d %H:%M:%S}",
              "due": f"{now - timedelta(days=2):%Y-%m-%d %H:%M:%S}"}  # fmt: skip
    states = {1: None, 2: "draft", 3: "info_requested", 4: "decided", 5: "final", 6: "withdrawn"}
    with engine.begin() as db:
        db.execute(text("INSERT INTO shop (id, name, import_columns, created_at)"
                        " VALUES (1, 'S', '{}', :then)"), stamps)  # fmt: skip
        for number, state in states.items():
            db.execute(
                text("INSERT INTO complaint (id, shop_id, external_id, type, channel, description,"
                     " buyer_ref, received_at, appeal_deadline, penalty_points, status, created_at)"
                     " VALUES (:id, 1, :ext, 'other', 'online', 'x', 'b', :then, :due, 0, 'open',"
                     " :then)"),
                {"id": number, "ext": f"C{number}", **stamps},
            )  # fmt: skip
            if state:
                db.execute(
                    text("INSERT INTO appeal (id, shop_id, complaint_id, number, state, statement,"
                         " remedies, submission_count, submitted_at, extra, version_id,"
                         " created_at) VALUES (:id, 1, :id, :no, :state, '', '[]', :count, :at,"
                         " '{}', 1, :then)"),
                    {"id": number, "no": f"AP-{number}", "state": state, **stamps,
                     "count": 0 if state == "draft" else 1,
                     "at": None if state == "draft" else stamps["then"]},
                )  # fmt: skip
    upgrade(engine)
    with engine.connect() as db:
        found = dict(db.execute(text("SELECT id, status FROM complaint")).all())
    assert found == {1: "open", 2: "open", 3: "appealed", 4: "appealed", 5: "closed",
                     6: "closed"}  # fmt: skip
