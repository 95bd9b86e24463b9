"""Orders stored with Excel's guard before the platform layouts are cleaned and linked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from appeals.clock import utcnow
from appeals.migrate import upgrade


def test_guarded_order_numbers_are_cleaned_and_complaints_linked(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine, "0009")
    # Rows of an earlier import, stamped on the product's clock.
    now = utcnow().replace(tzinfo=None)
    stamps = {"then": f"{now - timedelta(days=30):%Y-%m-%d %H:%M:%S}",
              "received": f"{now - timedelta(days=29):%Y-%m-%d %H:%M:%S}",
              "due": f"{now - timedelta(days=22):%Y-%m-%d %H:%M:%S}"}  # fmt: skip
    with engine.begin() as db:
        db.execute(
            text(
                "INSERT INTO shop (id, name, import_columns, created_at)"
                " VALUES (1, 'S', '{}', :then)"
            ),
            stamps,
        )
        numbers = ((1, '="2766000000000000001"'), (2, "'2766000000000000002"),
                   (3, '="2766000000000000003"'), (4, "2766000000000000003"))  # fmt: skip
        for number_id, number in numbers:
            db.execute(
                text("INSERT INTO shop_order (id, shop_id, number, buyer_ref, items, total_amount,"
                     " currency, created_at)"
                     " VALUES (:id, 1, :n, 'b', '[]', 1, 'CNY', :then)"),
                {"id": number_id, "n": number, **stamps},
            )  # fmt: skip
        db.execute(
            text("INSERT INTO complaint (id, shop_id, external_id, type, channel, description,"
                 " buyer_ref, received_at, appeal_deadline, penalty_points, status, order_number,"
                 " created_at) VALUES (1, 1, 'C1', 'other', 'online', 'x', 'b', :received,"
                 " :due, 0, 'open', '2766000000000000001', :received)"),
            stamps,
        )  # fmt: skip
    upgrade(engine)
    with engine.connect() as db:
        numbers = dict(db.execute(text("SELECT id, number FROM shop_order")).all())
        linked = db.scalar(text("SELECT order_id FROM complaint WHERE id = 1"))
    assert numbers[1] == "2766000000000000001" and numbers[2] == "2766000000000000002"
    assert numbers[3] == '="2766000000000000003"', "a clean twin exists: the old row stays"
    assert linked == 1
