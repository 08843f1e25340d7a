"""worklist offer index: ix_task_offer also keys on the assignee, for both databases

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

Hand-written. A worklist is the open tasks a user holds plus the unclaimed
ones offered to their lane (engine.worklist.visible_to, one UNION ALL part
each). The held part is served by ix_task_assignee (assignee, state). The
unclaimed part asks for state, lane role, Bidang (or none: a lane serving the
whole office) and "assignee IS NULL"; with ix_task_offer on (state,
lane_role, bidang_code, due_at) SQLite read every open task of the lane,
claimed ones included, and tested each row's assignee: thousands of rows for
the Sekretaris lane of a large office (p95 24 ms at 100,000 open tasks). With
the assignee as the fourth column the index range holds exactly the
unclaimed tasks (p95 2.5 ms).

The PostgreSQL-only partial indexes of 0006 are dropped: SQLite does not
choose a partial index for the bound-parameter query, and one index serving
both databases alike is simpler; PostgreSQL uses this one just as well.
"""
from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_task_open_unclaimed", table_name="task")
        op.drop_index("ix_task_open_assignee", table_name="task")
    op.drop_index("ix_task_offer", table_name="task")
    op.create_index("ix_task_offer", "task", ["state", "lane_role", "bidang_code", "assignee", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_task_offer", table_name="task")
    op.create_index("ix_task_offer", "task", ["state", "lane_role", "bidang_code", "due_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_task_open_assignee", "task", ["assignee"], unique=False,
                        postgresql_where=sa.text("state = 'open' AND assignee IS NOT NULL"))
        op.create_index("ix_task_open_unclaimed", "task", ["lane_role", "bidang_code", "due_at"], unique=False,
                        postgresql_where=sa.text("state = 'open' AND assignee IS NULL"))
