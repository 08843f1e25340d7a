"""process.changes: a version's change summary, kept as messages and read back in any language."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from process import changes
from process.loader import load_file
from process.messages import Text, speak

SOP = Path(__file__).resolve().parents[2] / "definitions" / "monev_kegiatan_bidang.bpmn"


class English:
    """A catalogue with two entries, as the web's English one would give them."""
    words = {"Langkah %(n)d: nama diubah menjadi %(name)s": "Step %(n)d: renamed to %(name)s",
             "Versi pertama": "First version"}

    def gettext(self, template: str) -> str:
        return self.words.get(template, template)


def test_a_first_version_and_an_unchanged_one_say_so():
    definition = load_file(SOP)
    assert changes.change_summary(None, definition) == ["Versi pertama"]
    assert changes.change_summary(definition, definition) == \
        ["Perubahan tanpa perubahan langkah (tata letak atau kop SOP)"]


def test_a_kept_summary_reads_back_as_messages_in_the_readers_language():
    lines = [Text("Versi pertama"), Text("Langkah %(n)d: nama diubah menjadi %(name)s", n=7, name="Rekap \"data\"")]
    kept = changes.stored(lines)
    json.loads(kept)  # the column holds JSON
    read = changes.read(kept)
    assert read == ["Versi pertama", 'Langkah 7: nama diubah menjadi Rekap "data"']
    assert [speak(line, English()) for line in read] == ["First version", 'Step 7: renamed to Rekap "data"']


def test_a_summary_kept_before_as_plain_lines_reads_as_it_was():
    assert changes.read("Langkah 3 dihapus: Cek\nLangkah 4: isian formulir diubah") == \
        ["Langkah 3 dihapus: Cek", "Langkah 4: isian formulir diubah"]
    assert changes.read("") == []
    assert changes.read("[1, 2]") == ["[1, 2]"]  # JSON, but not a kept summary
    assert changes.read('{"lines": ["plain", {"template": "Versi pertama"}]}') == ["plain", "Versi pertama"]


def test_a_step_inserted_is_one_step_added_and_the_later_ones_renumbered():
    # Matched by number, every later step read as moved, renamed and given another form (40 lines).
    from tests.integration.test_definitions import step_inserted_before_verification, step_renamed
    from process.loader import load

    bpmn, yaml_text = step_inserted_before_verification()
    previous = load_file(SOP)
    assert changes.change_summary(previous, load(bpmn, yaml_text)) == [
        "Langkah 5 ditambahkan: Memeriksa kelengkapan dokumen hasil kegiatan",
        "Langkah 5–15 menjadi langkah 6–16",
    ]
    # An element given another id is, to the engine, a step removed and one added.
    renamed = load(step_renamed(bpmn, "Step_07", "Step_07x"), yaml_text)
    assert changes.change_summary(previous, renamed) == [
        "Langkah 5 ditambahkan: Memeriksa kelengkapan dokumen hasil kegiatan",
        "Langkah 8 ditambahkan: Memberikan Data Kegiatan dan Layanan yang diperlukan",
        "Langkah 7 dihapus: Memberikan Data Kegiatan dan Layanan yang diperlukan",
        "Langkah 5–6 menjadi langkah 6–7",
        "Langkah 8–15 menjadi langkah 9–16",
    ]


def test_a_lane_renamed_is_named_in_the_summary():
    """The lane's name heads its actor column in the SOP document: a rename is a change the office reads."""
    before = load_file(SOP)
    lanes = tuple(replace(lane, name="Tim Verifikasi") if lane.id == "Lane_Teknis" else lane for lane in before.lanes)
    after = replace(before, lanes=lanes, steps=tuple(
        replace(s, lane=next(l for l in lanes if l.id == s.lane.id)) for s in before.steps))
    assert changes.change_summary(before, after) == ["Lane Tim Teknis diganti nama menjadi Tim Verifikasi"]
