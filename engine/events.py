"""The append-only, hash-chained event log: every action on an instance, who, when, and with what data.

Each instance has its own chain. An entry carries its sequence number within
the instance, the previous entry's hash and its own hash: SHA-256 over a
canonical JSON of its fields and the previous hash. The newest hash and
sequence number (the chain's head) are kept in `event_chain`, one row per
instance, so deleting the last entries, or all of them, is seen too
(`engine.audit.verify`).

Why one chain per instance and not one for the whole log: a global chain
would make every command of every process wait for one row lock; commands on
one instance are already serialized, so a per-instance head costs one locked
row that nobody else is waiting for.

`log()` does not write the entry at once. It queues it on the session, and
`_chain_pending` (a `before_commit` hook) links the queued entries and
inserts them as the last thing before the commit, after every other row of
the transaction is written. The head row is therefore locked last and held
only for the few statements after it, so it can never be part of a deadlock,
and an entry is never inserted without its hash (the table refuses updates).
A process remembers the heads it wrote (`ChainHeads`), so the usual command
moves its head with one checked write instead of a read and a write.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import bindparam, event as sa_event, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.db import Event, EventChain
from engine.workflow_cache import after_commit
from process.messages import Text

GENESIS = "0" * 64
# Each kind of entry in words, for people: the activity page (in the reader's language) and `alur show`.
EVENT_LABELS = {
    "started": Text("dimulai"), "step_ready": Text("langkah siap"), "claimed": Text("diklaim"),
    "unclaimed": Text("dilepas"), "step_completed": Text("langkah selesai"),
    "completed": Text("kegiatan selesai"), "overdue": Text("melewati mutu baku waktu"),
    "reassigned": Text("dialihkan"), "escalated": Text("dieskalasi"),
    "alert_acknowledged": Text("peringatan ditanggapi"),
    "migrated": Text("dipindah ke versi SOP baru"), "migration_refused": Text("pemindahan versi ditolak"),
    "alerts_cancelled": Text("peringatan dibatalkan"), "archived": Text("diarsipkan"),
    "unarchived": Text("dikeluarkan dari arsip"),
}
_PENDING = "alur.pending_events"
# Written straight through the session's connection, inside its transaction: an
# entry or a head is never read back into the session, so neither needs an ORM
# object. The statements are built once.
_CHAIN = EventChain.__table__
_APPEND = insert(Event.__table__)
_HEAD = select(_CHAIN.c.seq, _CHAIN.c.head).where(_CHAIN.c.instance_id == bindparam("instance_id")).with_for_update()
_NEW_HEAD = insert(_CHAIN)
_MOVE_HEAD = update(_CHAIN).where(_CHAIN.c.instance_id == bindparam("chain_instance")) \
    .values(seq=bindparam("new_seq"), head=bindparam("new_head"))
# The same move, only if the head is still the one this process last wrote.
_MOVE_HEAD_IF = _MOVE_HEAD.where(_CHAIN.c.seq == bindparam("old_seq"), _CHAIN.c.head == bindparam("old_head"))


def log(session: Session, instance_id: int, at: datetime, kind: str, actor: str | None = None,
        step: int | None = None, task_id: str | None = None, data: dict[str, Any] | None = None) -> None:
    # Through JSON and back: the hash is taken over exactly what the database will give back.
    entry = {"instance_id": instance_id, "at": at, "actor": actor, "kind": kind, "step": step,
             "task_id": task_id, "data": json.loads(json.dumps(data or {}))}
    session.info.setdefault(_PENDING, []).append(entry)


def install(sessions: sessionmaker) -> None:
    """Chain and write queued entries on every commit of sessions made by this factory.

    (Runtime installs workflow_cache's after-commit hook first: the heads
    remembered below are kept only once their transaction has committed.)
    """
    heads = ChainHeads()
    sa_event.listen(sessions, "before_commit", lambda session: _chain_pending(session, heads))
    sa_event.listen(sessions, "after_rollback", _discard_pending)


def _discard_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


class ChainHeads:
    """The head this process last wrote for each instance: a guess that saves reading it back.

    The write that moves a head checks the guess (seq and hash), so a head
    moved since by another process, or by hand, is never built on: the write
    changes nothing, and the head is read as if there were no guess.
    """

    def __init__(self, capacity: int = 10_000):
        self.capacity = capacity
        self._items: dict[int, tuple[int, str]] = {}

    def get(self, instance_id: int) -> tuple[int, str] | None:
        return self._items.get(instance_id)

    def put(self, instance_id: int, seq: int, head: str) -> None:
        if len(self._items) >= self.capacity and instance_id not in self._items:
            self._items.clear()  # rare, and only costs a read per instance
        self._items[instance_id] = (seq, head)


def _chain_pending(session: Session, heads: ChainHeads) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    by_instance: dict[int, list[dict]] = {}
    for order, entry in enumerate(pending):
        by_instance.setdefault(entry["instance_id"], []).append({**entry, "_order": order})
    session.flush()  # every other row of the transaction first: the heads are locked last
    connection = session.connection()
    rows = []
    # A fixed order, so two transactions that touch the same instances lock them alike.
    for instance_id in sorted(by_instance):
        linked = _move_head(connection, heads, instance_id, by_instance[instance_id])
        last = linked[-1]
        after_commit(session, lambda i=instance_id, s=last["seq"], h=last["hash"]: heads.put(i, s, h))
        rows.extend(linked)
    # In the order they were logged, so ids follow the order of events within each instance.
    rows.sort(key=lambda e: e["_order"])
    connection.execute(_APPEND, [{k: v for k, v in e.items() if k != "_order"} for e in rows])


def _move_head(connection, heads: ChainHeads, instance_id: int, entries: list[dict]) -> list[dict]:
    """Link the entries after the instance's head and move the head; the linked entries."""
    guess = heads.get(instance_id)
    if guess is not None:
        linked = link(entries, *guess)
        moved = connection.execute(_MOVE_HEAD_IF, {
            "chain_instance": instance_id, "old_seq": guess[0], "old_head": guess[1],
            "new_seq": linked[-1]["seq"], "new_head": linked[-1]["hash"]})
        if moved.rowcount == 1:
            return linked
    head = connection.execute(_HEAD, {"instance_id": instance_id}).first()
    seq, previous = head if head is not None else (0, GENESIS)
    linked = link(entries, seq, previous)
    last = linked[-1]
    if head is None:
        connection.execute(_NEW_HEAD, {"instance_id": instance_id, "seq": last["seq"], "head": last["hash"]})
    else:
        connection.execute(_MOVE_HEAD, {"chain_instance": instance_id, "new_seq": last["seq"],
                                        "new_head": last["hash"]})
    return linked


def link(entries: Iterable[dict], seq: int, previous: str) -> list[dict]:
    """The entries of one instance, in order, with seq, prev_hash and hash after a head (seq, hash)."""
    linked = []
    for entry in entries:
        seq += 1
        row = {**entry, "seq": seq, "prev_hash": previous}
        row["hash"] = previous = entry_hash(row, previous)
        linked.append(row)
    return linked


def chain_rows(entries: list[dict]) -> tuple[list[dict], list[dict]]:
    """Chains for the entries of instances written in bulk (benchmarks, tests): (event rows, head rows)."""
    by_instance: dict[int, list[dict]] = {}
    for order, entry in enumerate(entries):
        by_instance.setdefault(entry["instance_id"], []).append({**entry, "_order": order})
    rows, heads = [], []
    for instance_id, items in by_instance.items():
        linked = link(items, 0, GENESIS)
        heads.append({"instance_id": instance_id, "seq": linked[-1]["seq"], "head": linked[-1]["hash"]})
        rows.extend(linked)
    rows.sort(key=lambda e: e["_order"])
    return [{k: v for k, v in e.items() if k != "_order"} for e in rows], heads


def entry_hash(entry: dict, previous: str) -> str:
    """SHA-256 of the entry's fields and the previous hash, as canonical JSON."""
    fields = {
        "instance_id": entry["instance_id"], "seq": entry["seq"], "at": canonical_time(entry["at"]),
        "actor": entry.get("actor"), "kind": entry["kind"], "step": entry.get("step"),
        "task_id": entry.get("task_id"), "data": entry.get("data") or {}, "prev": previous,
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime in the event log")
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")
