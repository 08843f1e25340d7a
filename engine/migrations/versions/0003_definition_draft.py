"""definition drafts: the process owner's working copy of a definition

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-01

Written by hand. One row per definition key: the BPMN and YAML as last saved
in the editor (or uploaded), who saved it and when, and the validator's
problems at that save. Running instances never read this table.
"""
from alembic import op
import sqlalchemy as sa

import engine.db


revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "definition_draft",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("saved_by", sa.String(length=80), nullable=True),
        sa.Column("saved_at", engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("definition_draft")
