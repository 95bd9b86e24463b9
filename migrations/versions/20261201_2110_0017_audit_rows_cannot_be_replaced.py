"""audit rows cannot be replaced

SQLite's INSERT OR REPLACE deletes the row it collides with without firing delete
triggers, so it rewrote an audit entry past the append-only triggers. An insert that
would collide with an existing entry is now refused before SQLite resolves the conflict.
(On PostgreSQL an upsert fires the UPDATE trigger, which already refuses it.)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 21:10:00
"""

from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE TRIGGER audit_event_no_replace BEFORE INSERT ON audit_event "
        "WHEN EXISTS (SELECT 1 FROM audit_event WHERE id = NEW.id OR entry_hash = NEW.entry_hash) "
        "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER audit_event_no_replace")
