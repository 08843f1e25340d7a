"""retry key: the start keys become every command's retry keys, a completion's too

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27

Hand-written. `start_key` (0010) held the retry keys of starts; completing
a step takes one too now (the API's Idempotency-Key on
POST /tasks/{id}/complete, the task page's hidden field), so the table is
`retry_key`, with the command a key was sent with and, for a completion, its
task (engine.services.complete). Still unique per user and key: one key is
one command. Made anew and the rows copied, as starts, so the constraint
is named after the table on SQLite and PostgreSQL alike.
"""
from alembic import op
import sqlalchemy as sa

import engine.db


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_START_COLUMNS = "login, key, request_hash, instance_id, created_at"


def upgrade() -> None:
    op.create_table(
        "retry_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("command", sa.String(length=20), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("login", "key", name="uq_retry_key"),
    )
    op.execute(f"INSERT INTO retry_key ({_START_COLUMNS}, command) SELECT {_START_COLUMNS}, 'start' FROM start_key")
    op.drop_table("start_key")


def downgrade() -> None:
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
    # A completion's key has no place in 0010: without it, that completion sent again is refused as done.
    op.execute(f"INSERT INTO start_key ({_START_COLUMNS}) SELECT {_START_COLUMNS} FROM retry_key "
               "WHERE command = 'start'")
    op.drop_table("retry_key")
