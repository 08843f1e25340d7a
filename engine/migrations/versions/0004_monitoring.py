"""monitoring: archiving instances, and indexes for the figures and the archive search

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Hand-written. `instance.archived_at` marks an instance an administrator
archived: hidden from default lists, still searchable, never deleted. The
indexes serve engine.monitoring (instances of a period, step-completion
events) and the search page (current step, performer).
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', engine.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_instance_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_instance_archived_at', ['archived_at'], unique=False)
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index('ix_task_state_step', ['state', 'step', 'instance_id'], unique=False)
        batch_op.create_index('ix_task_completed_by', ['completed_by', 'instance_id'], unique=False)
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_kind_step', ['kind', 'step'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_kind_step')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_completed_by')
        batch_op.drop_index('ix_task_state_step')
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.drop_index('ix_instance_archived_at')
        batch_op.drop_index('ix_instance_created_at')
        batch_op.drop_column('archived_at')
