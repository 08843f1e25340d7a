"""start key: a start's retry key, so a start sent again starts nothing new

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27

Hand-written. `start_key` holds the key a client sent with a start (the
API's Idempotency-Key header, the start page's hidden field), per user, with
the instance it started and a hash of what was asked
(engine.services.start_once). Unique per user and key, so two starts sent
at once with one key start one instance. A key older than a day is free
again: its row is replaced when the key comes back, never purged otherwise.
"""
from alembic import op
import sqlalchemy as sa

import engine.db


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "start_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("created_at", engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("login", "key", name="uq_start_key"),
    )


def downgrade() -> None:
    op.drop_table("start_key")
