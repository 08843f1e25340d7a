"""Checking the event log against its hash chains (`alur audit verify`).

Every instance's entries are read in id order and must be numbered 1, 2, 3,
... with each entry's hash matching its recomputed content and the previous
entry's hash, and the last entry must be the head recorded in `event_chain`.
So an edited field, a deleted entry (the last one included), reordered
entries and a whole instance's missing log are each reported, by instance and
entry.

The digest is SHA-256 over every instance's head: written down (or sent
elsewhere) it lets a later check show that nobody rewrote the chains from
scratch, which a database owner who knows the hash rule could otherwise do.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select

from engine.db import Event, EventChain, Instance
from engine.events import GENESIS, entry_hash
from engine.runtime import Runtime


@dataclass
class Verdict:
    instances: int = 0
    events: int = 0
    digest: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"ok": self.ok, "instances": self.instances, "events": self.events, "digest": self.digest,
                "problems": self.problems}


def verify(rt: Runtime) -> Verdict:
    verdict = Verdict()
    with rt.uow() as session:
        heads = {r.instance_id: (r.seq, r.head) for r in session.execute(select(EventChain.instance_id, EventChain.seq, EventChain.head))}
        instances = set(session.scalars(select(Instance.id)))
        verdict.instances = len(instances)
        seen: set[int] = set()
        current: _Walk | None = None
        # Plain rows, streamed: no ORM objects piling up in the session on a big log.
        rows = session.execute(select(*COLUMNS).order_by(Event.instance_id, Event.id)
                               .execution_options(yield_per=2000))
        for entry in rows:
            verdict.events += 1
            if current is None or current.instance_id != entry.instance_id:
                if current is not None:
                    current.finish(heads.get(current.instance_id), verdict.problems)
                current = _Walk(entry.instance_id)
                seen.add(entry.instance_id)
            current.step(entry, verdict.problems)
        if current is not None:
            current.finish(heads.get(current.instance_id), verdict.problems)
    for instance_id in sorted(instances - seen):
        if instance_id in heads:
            verdict.problems.append(f"kegiatan {instance_id}: seluruh {heads[instance_id][0]} entri lognya hilang")
        else:
            verdict.problems.append(f"kegiatan {instance_id}: tidak punya log peristiwa")
    for instance_id in sorted(set(heads) - instances):
        verdict.problems.append(f"kegiatan {instance_id}: ada rantai log untuk kegiatan yang tidak ada")
    verdict.digest = digest(heads)
    return verdict


def digest(heads: dict[int, tuple[int, str]]) -> str:
    text = "\n".join(f"{i}:{seq}:{head}" for i, (seq, head) in sorted(heads.items()))
    return hashlib.sha256(text.encode()).hexdigest()


class _Walk:
    """One instance's entries, checked as they come in id order."""

    def __init__(self, instance_id: int):
        self.instance_id = instance_id
        self.seq = 0
        self.hash = GENESIS

    def step(self, entry, problems: list[str]) -> None:
        where = f"kegiatan {self.instance_id}: entri {entry.id} (seq {entry.seq}, {entry.kind})"
        if entry.seq != self.seq + 1:
            problems.append(f"{where}: seharusnya seq {self.seq + 1}; "
                            + ("entri sebelumnya hilang" if entry.seq > self.seq + 1 else "urutannya tertukar"))
        elif entry.prev_hash != self.hash:
            problems.append(f"{where}: tidak menyambung ke entri sebelumnya (dihapus, diubah atau ditukar)")
        if entry_hash(_fields(entry), entry.prev_hash) != entry.hash:
            problems.append(f"{where}: isinya diubah (hash tidak cocok)")
        self.seq, self.hash = entry.seq, entry.hash

    def finish(self, head: tuple[int, str] | None, problems: list[str]) -> None:
        where = f"kegiatan {self.instance_id}"
        if head is None:
            problems.append(f"{where}: ada entri tetapi kepala rantainya tidak ada (dihapus)")
        elif head[0] > self.seq:
            problems.append(f"{where}: log berakhir di seq {self.seq} padahal kepala rantai di seq {head[0]} "
                            f"({head[0] - self.seq} entri terakhir dihapus)")
        elif head != (self.seq, self.hash):
            problems.append(f"{where}: entri terakhir (seq {self.seq}) bukan kepala rantai (seq {head[0]})")


COLUMNS = (Event.id, Event.instance_id, Event.seq, Event.at, Event.actor, Event.kind, Event.step, Event.task_id,
           Event.data, Event.prev_hash, Event.hash)


def _fields(entry) -> dict:
    return {"instance_id": entry.instance_id, "seq": entry.seq, "at": entry.at, "actor": entry.actor,
            "kind": entry.kind, "step": entry.step, "task_id": entry.task_id, "data": entry.data}
