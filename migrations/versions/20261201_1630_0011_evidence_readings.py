"""evidence readings: text read from pictures, photo facts, redaction suggestions

Each picture and scanned PDF is read after intake (text with positions, as a stored blob,
with the reader's version); its state follows the reading. Platform-native photos carry a
perceptual hash for the neutral check, and the merchant's answers to suggested
redactions are kept.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence_item") as batch:
        batch.add_column(sa.Column("reading_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column(
            "reading_state",
            sa.Enum("queued", "reading", "done", "failed", name="reading_state",
                    native_enum=False, create_constraint=True, length=32),
            nullable=True,
        ))
        batch.add_column(sa.Column("reading_error", sa.String(200), nullable=True))
        batch.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("phash", sa.String(16), nullable=True))
        batch.add_column(sa.Column("suggestion_answers", sa.JSON(), nullable=True))
        batch.create_index("ix_evidence_item_reading_key", ["reading_key"])
        batch.create_index("ix_evidence_item_reading_state", ["reading_state"])
        batch.create_index("ix_evidence_item_phash", ["phash"])


def downgrade() -> None:
    with op.batch_alter_table("evidence_item") as batch:
        batch.drop_index("ix_evidence_item_phash")
        batch.drop_index("ix_evidence_item_reading_state")
        batch.drop_index("ix_evidence_item_reading_key")
        for name in ("suggestion_answers", "phash", "read_at", "reading_error", "reading_state",
                     "reading_key"):
            batch.drop_column(name)
