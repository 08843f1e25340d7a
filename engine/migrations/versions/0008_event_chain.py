"""event chain: the event log becomes hash-chained per instance and append-only

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

Hand-written. Each `event` row gains its place in the instance's chain
(`seq`), the previous entry's hash and its own (engine.events.entry_hash);
`event_chain` holds each instance's head (newest seq and hash). Existing
entries are chained here in id order, so an upgraded database verifies.

Triggers refuse UPDATE and DELETE on `event` (and TRUNCATE on PostgreSQL),
and refuse deleting a head or moving it backwards. Nothing in Alur changes or
deletes an entry; a restore into a non-empty database recreates the schema
instead. A database owner can still drop the triggers: `alur audit verify`
is what detects a change, the triggers stop accidents and careless scripts.
"""
from alembic import op
import sqlalchemy as sa

import engine.db
from engine import events


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    "CREATE TRIGGER event_no_update BEFORE UPDATE ON event "
    "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END",
    "CREATE TRIGGER event_no_delete BEFORE DELETE ON event "
    "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END",
    "CREATE TRIGGER event_chain_no_delete BEFORE DELETE ON event_chain "
    "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END",
    "CREATE TRIGGER event_chain_forward BEFORE UPDATE ON event_chain WHEN NEW.seq <= OLD.seq "
    "OR NEW.instance_id <> OLD.instance_id "
    "BEGIN SELECT RAISE(ABORT, 'the event chain only moves forward'); END",
)
POSTGRES_TRIGGERS = (
    """CREATE FUNCTION alur_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the event log is append-only (% on %)', TG_OP, TG_TABLE_NAME;
    END $$""",
    """CREATE FUNCTION alur_event_chain_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.seq <= OLD.seq OR NEW.instance_id <> OLD.instance_id THEN
            RAISE EXCEPTION 'the event chain only moves forward';
        END IF;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER event_no_change BEFORE UPDATE OR DELETE ON event "
    "FOR EACH ROW EXECUTE FUNCTION alur_event_append_only()",
    "CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON event "
    "FOR EACH STATEMENT EXECUTE FUNCTION alur_event_append_only()",
    "CREATE TRIGGER event_chain_no_delete BEFORE DELETE ON event_chain "
    "FOR EACH ROW EXECUTE FUNCTION alur_event_append_only()",
    "CREATE TRIGGER event_chain_no_truncate BEFORE TRUNCATE ON event_chain "
    "FOR EACH STATEMENT EXECUTE FUNCTION alur_event_append_only()",
    "CREATE TRIGGER event_chain_forward BEFORE UPDATE ON event_chain "
    "FOR EACH ROW EXECUTE FUNCTION alur_event_chain_forward()",
)


def upgrade() -> None:
    op.create_table(
        "event_chain",
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("instance.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("instance_id"),
    )
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    _chain_existing_entries()
    with op.batch_alter_table("event") as batch:
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint("uq_event_instance_seq", ["instance_id", "seq"])
    for statement in POSTGRES_TRIGGERS if _postgres() else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if _postgres():
        for trigger, table in (("event_no_change", "event"), ("event_no_truncate", "event"),
                               ("event_chain_no_delete", "event_chain"),
                               ("event_chain_no_truncate", "event_chain"), ("event_chain_forward", "event_chain")):
            op.execute(f"DROP TRIGGER {trigger} ON {table}")
        op.execute("DROP FUNCTION alur_event_append_only()")
        op.execute("DROP FUNCTION alur_event_chain_forward()")
    else:
        for trigger in ("event_no_update", "event_no_delete", "event_chain_no_delete", "event_chain_forward"):
            op.execute(f"DROP TRIGGER {trigger}")
    with op.batch_alter_table("event") as batch:
        batch.drop_constraint("uq_event_instance_seq", type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    op.drop_table("event_chain")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _chain_existing_entries() -> None:
    """Chain every instance's entries in id order, one instance at a time (memory stays small)."""
    event = sa.table("event", sa.column("id", sa.Integer()), sa.column("instance_id", sa.Integer()),
                     sa.column("at", engine.db.UtcDateTime(timezone=True)), sa.column("actor", sa.String()),
                     sa.column("kind", sa.String()), sa.column("step", sa.Integer()),
                     sa.column("task_id", sa.String()), sa.column("data", sa.JSON()),
                     sa.column("seq", sa.Integer()), sa.column("prev_hash", sa.String()),
                     sa.column("hash", sa.String()))
    chain = sa.table("event_chain", sa.column("instance_id", sa.Integer()), sa.column("seq", sa.Integer()),
                     sa.column("head", sa.String()))
    bind = op.get_bind()
    instance_ids = bind.execute(sa.select(event.c.instance_id).distinct().order_by(event.c.instance_id)).scalars().all()
    for instance_id in instance_ids:
        rows = bind.execute(sa.select(event).where(event.c.instance_id == instance_id).order_by(event.c.id)).mappings().all()
        linked = events.link([dict(r) for r in rows], 0, events.GENESIS)
        bind.execute(sa.update(event).where(event.c.id == sa.bindparam("_id"))
                     .values(seq=sa.bindparam("seq"), prev_hash=sa.bindparam("prev_hash"), hash=sa.bindparam("hash")),
                     [{"_id": r["id"], "seq": r["seq"], "prev_hash": r["prev_hash"], "hash": r["hash"]} for r in linked])
        bind.execute(sa.insert(chain).values(instance_id=instance_id, seq=linked[-1]["seq"], head=linked[-1]["hash"]))
