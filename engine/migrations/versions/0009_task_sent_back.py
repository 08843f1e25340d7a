"""task sent back: whether a decision opened the task's step again

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27

Hand-written. The worklist marks a step a decision sent back (its task page
says who did and why, engine.queries.task_view). Set when the task row is
created (engine.workflow), so the worklist reads a column instead of the
event log per row. Tasks open before this revision read as not sent back.
"""
from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("task", sa.Column("sent_back", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("task") as batch:
        batch.drop_column("sent_back")
