"""reports and cycles: evaluation reports, SOP-implementation monitoring forms, recurring cycle runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Hand-written. `evaluation_report` holds the Sekretaris's conclusions and
recommendations for a period (and Bidang; "" is the whole office);
`sop_monitoring_form` a completed Formulir Monitoring Pelaksanaan SOP, its
steps in one JSON column; `cycle_run` the instances a recurring schedule
started, unique per SOP, Bidang and period so a period is never started twice.
"""
from alembic import op
import sqlalchemy as sa

import engine.db


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluation_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_key", sa.String(length=120), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("bidang", sa.String(length=40), nullable=False),
        sa.Column("conclusions", sa.Text(), nullable=False),
        sa.Column("recommendations", sa.Text(), nullable=False),
        sa.Column("written_by", sa.String(length=80), nullable=False),
        sa.Column("written_at", engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.Column("updated_at", engine.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("definition_key", "period_start", "period_end", "bidang",
                            name="uq_evaluation_report_scope"),
    )
    op.create_table(
        "sop_monitoring_form",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_key", sa.String(length=120), nullable=False),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("bidang", sa.String(length=40), nullable=False),
        sa.Column("assessor", sa.String(length=80), nullable=False),
        sa.Column("assessor_name", sa.String(length=200), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("saved_at", engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("definition_key", "period_start", "period_end", "bidang",
                            name="uq_sop_monitoring_form_scope"),
    )
    op.create_table(
        "cycle_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition_key", sa.String(length=120), nullable=False),
        sa.Column("bidang_code", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("started_at", engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("definition_key", "bidang_code", "period", name="uq_cycle_run"),
    )


def downgrade() -> None:
    op.drop_table("cycle_run")
    op.drop_table("sop_monitoring_form")
    op.drop_table("evaluation_report")
