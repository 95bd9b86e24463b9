"""evidence ids are never reused

On SQLite an INTEGER PRIMARY KEY hands the id of a removed last row to the next file, so
an audit entry or a link to "evidence 7" could come to mean another file. With
AUTOINCREMENT it never does; the counter starts above every id the trail has seen.
PostgreSQL's sequences never hand an id out twice.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 20:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "evidence_item", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass
    # Ids of files removed before today are in the audit trail: never hand them out again.
    seen = bind.execute(
        sa.text(
            "SELECT MAX(CAST(object_id AS INTEGER)) FROM audit_event"
            " WHERE object_type = 'evidenceitem'"
        )
    ).scalar()
    highest = max(
        seen or 0, bind.execute(sa.text("SELECT MAX(id) FROM evidence_item")).scalar() or 0
    )
    if highest:
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'evidence_item'"))
        bind.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('evidence_item', :seq)"),
            {"seq": highest},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "evidence_item", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass
