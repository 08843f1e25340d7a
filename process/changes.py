"""What changed between two versions of an SOP, step by step, in words the office uses.

A deployed version keeps its summary as messages (`Text`, stored as JSON),
not as finished sentences, so every reader sees it in their own language.
Versions deployed before this kept plain Indonesian lines; they are read
as they are.
"""
from __future__ import annotations

import json

from process.definition import Definition
from process.messages import Text, as_json, from_json, is_stored_text


def change_summary(previous: Definition | None, current: Definition) -> list[Text]:
    """Steps are matched by their diagram element, as the engine and monitoring match them: a step
    inserted before step 5 is one step added and the later ones renumbered, not every later step
    renamed, moved and given another form."""
    if previous is None:
        return [Text("Versi pertama")]
    before = {s.element_id: s for s in previous.steps}
    after = {s.element_id: s for s in current.steps}
    lines = [Text("Langkah %(n)d ditambahkan: %(name)s", n=after[e].number, name=after[e].name)
             for e in sorted(after.keys() - before.keys(), key=lambda e: after[e].number)]
    lines += [Text("Langkah %(n)d dihapus: %(name)s", n=before[e].number, name=before[e].name)
              for e in sorted(before.keys() - after.keys(), key=lambda e: before[e].number)]
    kept = sorted(after.keys() & before.keys(), key=lambda e: after[e].number)
    lines += _renumbered([(before[e].number, after[e].number) for e in kept if before[e].number != after[e].number])
    for e in kept:
        lines += _step_changes(after[e].number, before[e], after[e])
    named = {lane.id: lane.name for lane in previous.lanes}  # a lane's name heads its column in the SOP document
    lines += [Text("Lane %(old)s diganti nama menjadi %(new)s", old=named[lane.id], new=lane.name)
              for lane in current.lanes if named.get(lane.id, lane.name) != lane.name]
    return lines or [Text("Perubahan tanpa perubahan langkah (tata letak atau kop SOP)")]


def _renumbered(moves: list[tuple[int, int]]) -> list[Text]:
    """Steps given another number, a run of them shifted alike in one line ("Langkah 5–15 menjadi 6–16")."""
    runs: list[list[tuple[int, int]]] = []
    for old, new in sorted(moves):
        last = runs[-1][-1] if runs else None
        if last and old == last[0] + 1 and new == last[1] + 1:
            runs[-1].append((old, new))
        else:
            runs.append([(old, new)])
    return [Text("Langkah %(old)d menjadi langkah %(n)d", old=run[0][0], n=run[0][1]) if len(run) == 1 else
            Text("Langkah %(first)d–%(last)d menjadi langkah %(new_first)d–%(new_last)d", first=run[0][0],
                 last=run[-1][0], new_first=run[0][1], new_last=run[-1][1])
            for run in runs]


def _step_changes(n: int, old, new) -> list[Text]:
    lines = []
    if old.lane.role != new.lane.role:
        lines.append(Text("Langkah %(n)d dipindah dari %(old)s ke %(new)s", n=n, old=old.lane.name, new=new.lane.name))
    if old.mutu_baku != new.mutu_baku:
        lines.append(_standard_time_changed(n, str(old.mutu_baku), str(new.mutu_baku)))
    if old.counting != new.counting and old.mutu_baku == new.mutu_baku:
        lines.append(Text("Langkah %(n)d: cara menghitung waktu baku diubah", n=n))
    if old.name != new.name:
        lines.append(Text("Langkah %(n)d: nama diubah menjadi %(name)s", n=n, name=new.name))
    if (old.kelengkapan, old.output) != (new.kelengkapan, new.output):
        lines.append(Text("Langkah %(n)d: kelengkapan atau output diubah", n=n))
    if old.form != new.form:
        lines.append(Text("Langkah %(n)d: isian formulir diubah", n=n))
    if old.decision != new.decision:
        lines.append(Text("Langkah %(n)d: percabangan keputusan diubah", n=n))
    return lines


def _standard_time_changed(n: int, old: str, new: str) -> Text:
    """Standard times in the SOP's notation ("30 Menit"), as kept with the version."""
    return Text("Langkah %(n)d: waktu baku %(old)s menjadi %(new)s", n=n, old=old, new=new)


_STANDARD_TIME_CHANGED = _standard_time_changed(0, "", "").template


def worded(line: Text | str, word) -> Text | str:
    """A summary line with the standard times it quotes worded by `word` (a page words them in its
    language, as it does elsewhere); any other line, and one kept as plain text, as it is."""
    if not (isinstance(line, Text) and line.template == _STANDARD_TIME_CHANGED):
        return line
    values = line.values
    return _standard_time_changed(values["n"], word(values["old"]), word(values["new"]))


def stored(lines: list[Text]) -> str:
    """The summary as it is kept with the version."""
    return json.dumps({"lines": [as_json(line) for line in lines]}, ensure_ascii=False)


def read(text: str) -> list[Text | str]:
    """The lines of a kept summary: messages, or the plain lines of a version deployed before."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not (isinstance(data, dict) and isinstance(data.get("lines"), list)):
        return text.splitlines()
    return [from_json(line) if is_stored_text(line) else str(line) for line in data["lines"]]
