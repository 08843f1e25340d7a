"""retry key created_at index: the hourly purge reads only the keys it deletes

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28

Hand-written. 0010 said a key was never purged, only replaced when it came
back; since the twelfth round the scheduler's hourly tidy-up deletes the
keys a day old (engine.services.purge_expired_retry_keys), by
`created_at`. Without an index on it each purge read the whole table
(about a day of keyed commands, one per completion sent from the pages)
while holding the writer; ix_retry_key_created_at finds the oldest key
and the hour of keys due, on SQLite and PostgreSQL alike.
"""
from alembic import op


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_retry_key_created_at", "retry_key", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_retry_key_created_at", table_name="retry_key")
