"""worklist indexes: partial indexes on the open tasks a worklist reads

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

Hand-written, PostgreSQL only. A worklist is the open tasks a user holds
plus the unclaimed ones offered to their lane (engine.worklist.visible_to).
Both parts get a partial index over open tasks only, so a worklist query
reads its own few dozen rows however many tasks the office has finished or
others hold:

* ix_task_open_assignee (assignee), open and claimed tasks;
* ix_task_open_unclaimed (lane_role, bidang_code, due_at), open and unclaimed.

SQLite's planner does not pick partial indexes for these queries (it uses
ix_task_assignee and ix_task_offer, which serve it as well), so there they
would only cost writes.
"""
from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CLAIMED = sa.text("state = 'open' AND assignee IS NOT NULL")
UNCLAIMED = sa.text("state = 'open' AND assignee IS NULL")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index("ix_task_open_assignee", "task", ["assignee"], unique=False, postgresql_where=CLAIMED)
    op.create_index("ix_task_open_unclaimed", "task", ["lane_role", "bidang_code", "due_at"], unique=False,
                    postgresql_where=UNCLAIMED)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_task_open_unclaimed", table_name="task")
    op.drop_index("ix_task_open_assignee", table_name="task")
