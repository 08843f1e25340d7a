"""Editing definitions through engine.editor: drafts, validation, deploy, upload and migration."""
from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.util.diff import diff_workflow
from sqlalchemy import select

from engine import bootstrap, editor, services, worklist
from engine.db import DefinitionDraft, DefinitionVersion, Event, Instance, TaskRow, Timer
from engine.errors import Conflict, Forbidden, InvalidData, NotFound, StepBlocked, TooLarge
from process.loader import load
from process.mutu_baku import MutuBaku
from tests.integration.sop import STEP_DATA, do_step
from tests.unit.test_loader import remove_element

ROOT = Path(__file__).resolve().parents[2]
KEY = "monev_kegiatan_bidang"
OWNER = "pemilik.proses"
BPMN = (ROOT / "definitions" / f"{KEY}.bpmn").read_text(encoding="utf-8")
YAML = (ROOT / "definitions" / f"{KEY}.yaml").read_text(encoding="utf-8")
STEP7_REFS = "        <bpmn:flowNodeRef>Step_07</bpmn:flowNodeRef>\n        <bpmn:flowNodeRef>Timer_07</bpmn:flowNodeRef>\n"

CAMUNDA_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn"
    exporter="Camunda Modeler" exporterVersion="5.20.0" modeler:executionPlatform="Camunda Platform">
  <bpmn:process id="Process_surat_masuk" name="Surat masuk" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Activity_catat" name="Catat surat" camunda:assignee="demo">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:serviceTask id="Activity_kirim" name="Kirim notifikasi" camunda:class="org.example.Kirim">
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="Event_selesai"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Activity_catat" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Activity_catat" targetRef="Activity_kirim" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Activity_kirim" targetRef="Event_selesai" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_surat_masuk">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1"><dc:Bounds x="152" y="102" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Activity_catat_di" bpmnElement="Activity_catat"><dc:Bounds x="240" y="80" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Activity_kirim_di" bpmnElement="Activity_kirim"><dc:Bounds x="400" y="80" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Event_selesai_di" bpmnElement="Event_selesai"><dc:Bounds x="562" y="102" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1"><di:waypoint x="188" y="120" /><di:waypoint x="240" y="120" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2"><di:waypoint x="340" y="120" /><di:waypoint x="400" y="120" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_3_di" bpmnElement="Flow_3"><di:waypoint x="500" y="120" /><di:waypoint x="562" y="120" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="lol" name="&lol9;" isExecutable="true" />
</bpmn:definitions>
"""


# -- editing the seed SOP's text ------------------------------------------------

def step7_to_administrasi(bpmn: str = BPMN, minutes: int = 60) -> str:
    """Step 7 moved to Tim Administrasi's lane, with a new standard time."""
    assert STEP7_REFS in bpmn
    bpmn = bpmn.replace(STEP7_REFS, "")
    anchor = "        <bpmn:flowNodeRef>Timer_08</bpmn:flowNodeRef>\n"
    bpmn = bpmn.replace(anchor, anchor + STEP7_REFS, 1)
    return re.sub(r'(<bpmn:boundaryEvent id="Timer_07" name=")30 Menit(".*?<bpmn:timeDuration[^>]*>)PT30M<',
                  rf"\g<1>{minutes} Menit\g<2>PT{minutes}M<", bpmn, flags=re.S)


INSERTED_STEP = """    <bpmn:userTask id="Step_04b" name="Memeriksa kelengkapan dokumen hasil kegiatan" alur:step="5">
      <bpmn:incoming>Flow_04_05</bpmn:incoming>
      <bpmn:outgoing>Flow_04b_05</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="Timer_04b" name="30 Menit" cancelActivity="false" attachedToRef="Step_04b">
      <bpmn:timerEventDefinition id="TimerDef_04b">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT30M</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
"""
INSERTED_SHAPES = """      <bpmndi:BPMNShape id="Step_04b_di" bpmnElement="Step_04b">
        <dc:Bounds x="900" y="400" width="110" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Timer_04b_di" bpmnElement="Timer_04b">
        <dc:Bounds x="982" y="462" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_04b_05_di" bpmnElement="Flow_04b_05">
        <di:waypoint x="1010" y="440" /><di:waypoint x="1030" y="375" />
      </bpmndi:BPMNEdge>
"""
INSERTED_FORM = "kelengkapan_dokumen"


def step_inserted_before_verification(bpmn: str = BPMN, yaml_text: str = YAML) -> tuple[str, str]:
    """A new step 5 (Tim Teknis checks the documents) between steps 4 and 5: steps 5-15 become 6-16."""
    bpmn = re.sub(r'alur:step="(\d+)"', lambda m: f'alur:step="{int(m[1]) + (int(m[1]) >= 5)}"', bpmn)
    teknis = "        <bpmn:flowNodeRef>Step_05</bpmn:flowNodeRef>\n"
    assert teknis in bpmn
    bpmn = bpmn.replace(teknis, "        <bpmn:flowNodeRef>Step_04b</bpmn:flowNodeRef>\n"
                        "        <bpmn:flowNodeRef>Timer_04b</bpmn:flowNodeRef>\n" + teknis, 1)
    bpmn = bpmn.replace('<bpmn:sequenceFlow id="Flow_04_05" sourceRef="Step_04" targetRef="Step_05" />',
                        '<bpmn:sequenceFlow id="Flow_04_05" sourceRef="Step_04" targetRef="Step_04b" />\n'
                        '    <bpmn:sequenceFlow id="Flow_04b_05" sourceRef="Step_04b" targetRef="Step_05" />', 1)
    step5 = '    <bpmn:userTask id="Step_05"'
    bpmn = bpmn.replace(step5, INSERTED_STEP + step5, 1)
    bpmn = re.sub(r'(<bpmn:userTask id="Step_05"[^>]*>\s*<bpmn:incoming>)Flow_04_05<', r"\1Flow_04b_05<", bpmn)
    bpmn = bpmn.replace("      <bpmndi:BPMNShape id=\"Step_05_di\"", INSERTED_SHAPES + "      <bpmndi:BPMNShape id=\"Step_05_di\"", 1)
    steps_at = yaml_text.index("\nsteps:\n")
    head, steps = yaml_text[:steps_at], yaml_text[steps_at:]
    steps = re.sub(r"(?m)^  (\d+):$", lambda m: f"  {int(m[1]) + (int(m[1]) >= 5)}:", steps)
    steps = steps.replace("\n  6:\n", f"\n  5:\n    form:\n      - {{name: {INSERTED_FORM}, label: Dokumen lengkap, "
                          "type: text, required: true}\n  6:\n", 1)
    return bpmn, head + steps


def step_renamed(bpmn: str, old: str, new: str) -> str:
    """An element given another id: to the engine, the old element was removed."""
    return bpmn.replace(f'"{old}"', f'"{new}"').replace(f">{old}<", f">{new}<").replace(f'"{old}_di"', f'"{new}_di"')


def without_step_number(bpmn: str, element: str) -> str:
    return re.sub(rf'(<bpmn:userTask id="{element}" name="[^"]*") alur:step="\d+"', r"\1", bpmn)


def start(rt, title: str = "Layanan email dinas") -> int:
    return services.start(rt, KEY, "aptika", title, "sekretaris")


def open_row(rt, instance_id: int) -> TaskRow:
    with rt.uow() as session:
        return session.scalars(select(TaskRow).where(TaskRow.instance_id == instance_id,
                                                     TaskRow.state == "open")).one()


def instance_version(rt, instance_id: int) -> int:
    with rt.uow() as session:
        return session.get(Instance, instance_id).definition.version


def events(rt, instance_id: int, kind: str) -> list[Event]:
    with rt.uow() as session:
        return list(session.scalars(select(Event).where(Event.instance_id == instance_id, Event.kind == kind)))


def drive_to_step7(rt, instance_id: int) -> None:
    for step in range(1, 7):
        do_step(rt, instance_id, step, {"terverifikasi": True} if step == 5 else None)


def deploy_v2(rt, bpmn: str, yaml_text: str = YAML) -> dict:
    draft = editor.save_draft(rt, KEY, OWNER, bpmn, yaml_text=yaml_text)
    assert editor.errors(draft["problems"]) == [], draft["problems"]  # warnings do not stop a deploy
    return editor.deploy_draft(rt, KEY, OWNER)


# -- drafts and validation ---------------------------------------------------------

def test_the_editor_opens_the_newest_version_when_there_is_no_draft(rt):
    source = editor.source(rt, KEY, OWNER)
    assert source["origin"] == "version" and source["latest_version"] == 1 and source["revision"] == 0
    assert source["bpmn_xml"] == BPMN
    assert source["steps"]["7"]["form"][0]["name"] == "data_diberikan"
    assert "administrasi" in source["roles"]
    with pytest.raises(NotFound):
        editor.source(rt, "tidak_ada", OWNER)


def test_saving_a_draft_with_problems_stores_them_and_leaves_running_work_alone(rt):
    instance_id = start(rt)
    before = open_row(rt, instance_id)

    draft = editor.save_draft(rt, KEY, OWNER, without_step_number(BPMN, "Step_07"), yaml_text=YAML, revision=0)

    assert draft["origin"] == "draft" and draft["revision"] == 1 and draft["saved_by"] == OWNER
    assert not draft["deployable"]
    by_element = {p["element"]: p for p in draft["problems"]}
    assert "belum memiliki nomor SOP" in by_element["Step_07"]["message"]
    assert by_element["Step_07"]["element_id"] == "Step_07"          # pinned on the diagram
    assert "tidak ada langkah 7" in by_element["steps.7"]["message"]  # the YAML side, too
    # Stored with the draft, and shown again when the editor opens it.
    source = editor.source(rt, KEY, OWNER)
    assert source["origin"] == "draft" and source["problems"] == draft["problems"]
    # Running work and new instances still use version 1.
    after = open_row(rt, instance_id)
    assert (after.id, after.definition_version_id, after.lane_role) == (before.id, before.definition_version_id,
                                                                        before.lane_role)
    assert instance_version(rt, start(rt, "Kedua")) == 1


def test_a_yaml_problem_is_pinned_to_its_step(rt):
    bad_yaml = YAML.replace("      - {name: data_diberikan, label: Data yang diberikan, type: text, required: true}",
                            "      - {name: data_diberikan, label: Data yang diberikan, type: teks, required: true}")
    draft = editor.save_draft(rt, KEY, OWNER, BPMN, yaml_text=bad_yaml)
    [problem] = draft["problems"]
    assert problem["element"] == "steps.7.form.data_diberikan" and problem["element_id"] == "Step_07"


def test_deploy_is_refused_while_the_draft_has_problems(rt):
    editor.save_draft(rt, KEY, OWNER, without_step_number(BPMN, "Step_07"), yaml_text=YAML)
    with pytest.raises(InvalidData) as refused:
        editor.deploy_draft(rt, KEY, OWNER)
    assert "masalah" in str(refused.value) and "Step_07" in refused.value.errors
    with rt.uow() as session:
        assert session.scalars(select(DefinitionVersion.version).where(DefinitionVersion.key == KEY)).all() == [1]
        assert session.get(DefinitionDraft, KEY) is not None  # kept to be fixed
    with pytest.raises(NotFound):
        editor.deploy_draft(rt, "tanpa_draf", OWNER)


def test_deploy_creates_version_2_with_who_when_and_summary(rt, clock):
    old = start(rt, "Sebelum perubahan")
    clock.advance(minutes=5)
    result = deploy_v2(rt, step7_to_administrasi())

    assert result["created"] and result["version"] == 2 and result["deployed_by"] == OWNER
    assert result["deployed_at"] == clock.now().isoformat()
    assert "Langkah 7 dipindah dari Tim Implementasi ke Tim Administrasi" in result["summary"]
    assert "Langkah 7: waktu baku 30 Menit menjadi 60 Menit" in result["summary"]
    [v2, v1] = editor.versions(rt, KEY, OWNER)
    assert (v2["version"], v2["deployed_by"], v2["summary"]) == (2, OWNER, result["summary"])
    assert (v1["version"], v1["running"]) == (1, 1)
    # The draft is gone: the editor opens the new version.
    assert editor.source(rt, KEY, OWNER)["origin"] == "version"
    # Older versions stay readable.
    assert editor.version_source(rt, KEY, 1, OWNER)["bpmn_xml"] == BPMN
    assert "PT60M" in editor.version_source(rt, KEY, 2, OWNER)["bpmn_xml"]
    # New work starts on version 2; work started before keeps version 1.
    assert instance_version(rt, start(rt, "Sesudah perubahan")) == 2
    assert instance_version(rt, old) == 1


def test_a_draft_equal_to_the_newest_version_makes_no_new_version(rt):
    editor.save_draft(rt, KEY, OWNER, BPMN, yaml_text=YAML)
    result = editor.deploy_draft(rt, KEY, OWNER)
    assert (result["created"], result["version"]) == (False, 1)


def test_new_and_old_instances_follow_their_own_version(rt, clock):
    old = start(rt, "Sebelum")
    deploy_v2(rt, step7_to_administrasi())
    new = start(rt, "Sesudah")
    drive_to_step7(rt, old)
    drive_to_step7(rt, new)
    old_row, new_row = open_row(rt, old), open_row(rt, new)

    assert (old_row.step, old_row.lane_role) == (7, "implementasi")
    assert (new_row.step, new_row.lane_role) == (7, "administrasi")
    assert old_row.due_at == rt.calendar.due(old_row.created_at, MutuBaku.parse("30 Menit"))
    assert new_row.due_at == rt.calendar.due(new_row.created_at, MutuBaku.parse("60 Menit"))
    offered = {t["instance_id"] for t in worklist.tasks(rt, "aptika.administrasi")}
    assert new in offered and old not in offered
    assert old in {t["instance_id"] for t in worklist.tasks(rt, "aptika.implementasi")}


def test_saving_over_someone_elses_newer_draft_is_a_conflict(rt):
    first = editor.save_draft(rt, KEY, OWNER, BPMN, yaml_text=YAML, revision=0)
    editor.save_draft(rt, KEY, "admin", BPMN, yaml_text=YAML, revision=first["revision"])
    with pytest.raises(Conflict):
        editor.save_draft(rt, KEY, OWNER, BPMN, yaml_text=YAML, revision=first["revision"])
    with pytest.raises(Conflict):  # opened the version, but a draft exists meanwhile
        editor.save_draft(rt, KEY, OWNER, BPMN, steps={}, revision=0)


def test_a_steps_text_beginning_or_ending_in_a_no_break_space_keeps_it():
    """Written plain, the text lost its no-break space (pasted from a word processor) to str.strip()."""
    steps = {"1": {"kelengkapan": "\xa0Surat permohonan", "output": "Data\u3000",
                   "form": [{"name": "catatan", "label": "\u2003Catatan", "type": "text"}]}}
    assert editor.steps_model(editor.compose_yaml("", steps)) == steps


def test_the_steps_model_is_written_back_into_the_yaml(rt):
    steps = editor.source(rt, KEY, OWNER)["steps"]
    assert editor.compose_yaml(YAML, steps) == YAML  # unchanged model: the file as written
    steps["7"]["output"] = "Data: lengkap"
    steps["7"]["form"].append({"name": "catatan_data", "label": "Catatan?", "type": "choice",
                               "choices": ["Ya", "Tidak"], "required": False, "help": ""})
    draft = editor.save_draft(rt, KEY, OWNER, BPMN, steps=steps, revision=0)
    assert draft["problems"] == []
    with rt.uow() as session:
        yaml_text = session.get(DefinitionDraft, KEY).yaml_text
    assert yaml_text.startswith(YAML[:YAML.index("  7:\n")])  # header, comments, other steps untouched
    assert yaml_text.endswith(YAML[YAML.index("  8:\n"):])
    assert "    output: 'Data: lengkap'\n" in yaml_text
    assert "      - {name: catatan_data, label: 'Catatan?', type: choice, choices: [Ya, Tidak]}\n" in yaml_text
    result = editor.deploy_draft(rt, KEY, OWNER)
    assert "Langkah 7: kelengkapan atau output diubah" in result["summary"]
    assert "Langkah 7: isian formulir diubah" in result["summary"]


def test_a_steps_model_too_deep_or_with_a_huge_step_number_is_refused_or_written_not_a_crash(rt):
    deep: list = []
    for _ in range(900):
        deep = [deep]
    with pytest.raises(InvalidData, match="bersarang terlalu dalam"):
        editor.save_draft(rt, KEY, OWNER, BPMN, steps={"1": {"kelengkapan": deep}}, revision=0)
    huge = "9" * 5000
    draft = editor.save_draft(rt, KEY, OWNER, BPMN, steps={huge: {}}, revision=0)
    assert draft["problems"]  # the validator says what is wrong with such a step


def test_alur_init_does_not_bring_back_the_file_after_an_editor_deploy(rt):
    deploy_v2(rt, step7_to_administrasi())
    [result] = bootstrap.deploy_directory(rt, rt.settings.definitions_dir)
    assert (result.version, result.created) == (1, False)
    assert editor.versions(rt, KEY, OWNER)[0]["version"] == 2


def test_alur_init_does_not_put_a_changed_file_over_an_editor_deploy(rt, tmp_path):
    """After an upgrade changed the shipped file (`git pull`, then `alur init` as the README says), init
    deployed it as the newest version, on top of the process owner's editor version: their change was
    undone unseen. A file never deployed goes in only while the newest version is one init deployed."""
    deploy_v2(rt, step7_to_administrasi())
    (tmp_path / f"{KEY}.bpmn").write_text(BPMN, encoding="utf-8")
    (tmp_path / f"{KEY}.yaml").write_text(YAML.replace('nomor: "000.8.3.3/327"', 'nomor: "000.8.3.3/999"'),
                                          encoding="utf-8")
    [result] = bootstrap.deploy_directory(rt, tmp_path)
    assert (result.version, result.created, result.newest, result.file_differs) == (2, False, 2, True)
    assert editor.versions(rt, KEY, OWNER)[0]["version"] == 2


def test_alur_init_deploys_a_changed_file_while_init_deployed_the_newest_version(rt, tmp_path):
    (tmp_path / f"{KEY}.bpmn").write_text(BPMN, encoding="utf-8")
    (tmp_path / f"{KEY}.yaml").write_text(YAML.replace('nomor: "000.8.3.3/327"', 'nomor: "000.8.3.3/999"'),
                                          encoding="utf-8")
    [result] = bootstrap.deploy_directory(rt, tmp_path)
    assert (result.version, result.created) == (2, True)


def test_a_header_deployed_meanwhile_is_carried_into_the_draft(rt):
    editor.save_draft(rt, KEY, OWNER, step7_to_administrasi(), yaml_text=YAML, revision=0)
    # Meanwhile the SOP header is edited on its own page: version 2, header only.
    services.deploy(rt, load(BPMN, YAML.replace('nomor: "000.8.3.3/327"', 'nomor: "000.8.3.3/400"')), "admin")

    result = editor.deploy_draft(rt, KEY, OWNER)
    assert result["version"] == 3
    deployed = editor.definition_of(rt, KEY, 3)
    assert deployed.header["nomor"] == "000.8.3.3/400"           # the header edit is kept
    assert deployed.step(7).lane.role == "administrasi"          # and so is the draft's change
    assert "Langkah 7 dipindah" in result["summary"]


def test_a_version_deployed_while_a_draft_is_checked_is_not_undone(rt, monkeypatch):
    """deploy_draft compared the draft's base with the newest version in one transaction and deployed in
    another, after validating the draft: a header edit deployed in between was silently undone."""
    editor.save_draft(rt, KEY, OWNER, step7_to_administrasi(), yaml_text=YAML, revision=0)
    checked = editor.validate

    def validate_while_the_header_is_edited(*args, **kwargs):
        monkeypatch.setattr(editor, "validate", checked)
        services.deploy(rt, load(BPMN, YAML.replace('nomor: "000.8.3.3/327"', 'nomor: "000.8.3.3/400"')), "admin")
        return checked(*args, **kwargs)

    monkeypatch.setattr(editor, "validate", validate_while_the_header_is_edited)
    with pytest.raises(Conflict, match="sudah diubah menjadi versi 2"):
        editor.deploy_draft(rt, KEY, OWNER)
    assert [v["version"] for v in editor.versions(rt, KEY, OWNER)] == [2, 1]
    deployed = editor.deploy_draft(rt, KEY, OWNER)  # deployed again, the draft carries the new header
    assert editor.definition_of(rt, KEY, deployed["version"]).header["nomor"] == "000.8.3.3/400"


def test_a_version_deployed_while_a_header_edit_is_checked_is_not_undone(rt, monkeypatch):
    """update_header checked the expected version, built the new version on it, and deployed in another
    transaction: a diagram change deployed meanwhile was reverted by the header edit."""
    from engine import definitions
    loads = definitions.load

    def load_while_the_diagram_changes(*args, **kwargs):
        monkeypatch.setattr(definitions, "load", loads)
        services.deploy(rt, load(step7_to_administrasi(), YAML), "admin")
        return loads(*args, **kwargs)

    monkeypatch.setattr(definitions, "load", load_while_the_diagram_changes)
    header = {**definitions.get_version(rt, KEY).definition.header, "nomor": "A/1"}
    with pytest.raises(Conflict, match="sudah diubah menjadi versi 2"):
        definitions.update_header(rt, KEY, header, OWNER, expected_version=1)
    latest = definitions.get_version(rt, KEY)
    assert latest.version == 2 and latest.definition.step(7).lane.role == "administrasi"


def test_a_draft_older_than_another_diagram_change_is_not_deployed_over_it(rt):
    editor.save_draft(rt, KEY, OWNER, step7_to_administrasi(), yaml_text=YAML, revision=0)
    services.deploy(rt, load(step7_to_administrasi(minutes=45), YAML), "admin")
    with pytest.raises(Conflict, match="setelah draf ini dibuat"):
        editor.deploy_draft(rt, KEY, OWNER)
    assert [v["version"] for v in editor.versions(rt, KEY, OWNER)] == [2, 1]


# -- uploads ---------------------------------------------------------------------------

def test_a_camunda_modeler_file_becomes_a_draft_with_problems(rt):
    draft = editor.upload(rt, OWNER, CAMUNDA_BPMN.encode(), None, filename="surat.bpmn")
    assert draft["key"] == "Process_surat_masuk" and not draft["deployable"]
    messages = {(p["element"], p["message"]) for p in draft["problems"]}
    assert any(e == "Activity_catat" and "belum memiliki nomor SOP" in m for e, m in messages)
    assert any(e == "Activity_catat" and "tidak berada di lane mana pun" in m for e, m in messages)
    assert any(e == "Activity_kirim" and "serviceTask tidak didukung" in m for e, m in messages)
    assert all(p["element_id"] in (None, "Activity_catat", "Activity_kirim", "Process_surat_masuk")
               for p in draft["problems"])
    listed = {r["key"]: r for r in editor.definitions(rt, OWNER)}
    assert listed["Process_surat_masuk"]["version"] is None and listed["Process_surat_masuk"]["draft"]
    assert editor.source(rt, "Process_surat_masuk", OWNER)["origin"] == "draft"
    with pytest.raises(InvalidData):
        editor.deploy_draft(rt, "Process_surat_masuk", OWNER)


def test_an_upload_with_its_yaml_can_be_deployed(rt):
    other = BPMN.replace('id="monev_kegiatan_bidang"', 'id="monev_salinan"') \
        .replace('processRef="monev_kegiatan_bidang"', 'processRef="monev_salinan"')
    draft = editor.upload(rt, OWNER, other.encode(), YAML.encode())
    assert (draft["key"], draft["problems"]) == ("monev_salinan", [])
    assert editor.deploy_draft(rt, "monev_salinan", OWNER)["summary"] == "Versi pertama"



def test_an_upload_of_the_diagram_alone_keeps_the_sops_yaml(rt):
    """A diagram downloaded, changed in Camunda Modeler and uploaded alone keeps its header sheet,
    Kelengkapan, Output and forms: they are not in the BPMN file."""
    changed = re.sub(r'(<bpmn:boundaryEvent id="Timer_03" name=")30 Menit(".*?<bpmn:timeDuration[^>]*>)PT30M<',
                     r"\g<1>45 Menit\g<2>PT45M<", BPMN, count=1, flags=re.S)
    draft = editor.upload(rt, OWNER, changed.encode(), None, filename="monev.bpmn")
    assert (draft["key"], draft["problems"]) == (KEY, [])
    assert editor.source(rt, KEY, OWNER)["yaml_text"] == YAML
    editor.deploy_draft(rt, KEY, OWNER)
    deployed = editor.definition_of(rt, KEY, 2)
    assert deployed.header["nomor"] == "000.8.3.3/327"
    assert deployed.step(3).mutu_baku == MutuBaku.parse("45 Menit") and deployed.step(3).form.fields

def test_a_billion_laughs_upload_is_refused_quickly(rt):
    began = time.process_time()  # CPU time: a busy machine stretches wall time, not this
    with pytest.raises(InvalidData) as refused:
        editor.upload(rt, OWNER, BILLION_LAUGHS, None)
    assert time.process_time() - began < 2
    assert "entity tidak diizinkan" in str(refused.value)
    assert [r["key"] for r in editor.definitions(rt, OWNER)] == [KEY]


def test_uploads_that_are_not_bpmn_or_too_large_are_refused(rt):
    with pytest.raises(InvalidData):
        editor.upload(rt, OWNER, b"<html><body>bukan bpmn</body></html>", None)
    with pytest.raises(InvalidData):
        editor.upload(rt, OWNER, b"\x89PNG\r\n\x1a\n\x00\x00", None)
    with pytest.raises(TooLarge):
        editor.upload(rt, OWNER, b" " * (editor.MAX_BPMN_BYTES + 1), None)


def test_an_upload_does_not_replace_a_draft_someone_else_saved(rt):
    """Uploading a file over a colleague's draft would throw their work away unseen: refused, unless the
    uploader names the draft revision they mean to replace (as a save in the editor does)."""
    editor.upload(rt, "admin", CAMUNDA_BPMN.encode(), None)
    theirs = editor.source(rt, "Process_surat_masuk", OWNER)
    changed = CAMUNDA_BPMN.replace("Catat surat", "Catat surat masuk")
    with pytest.raises(Conflict) as refused:
        editor.upload(rt, OWNER, changed.encode(), None)
    assert "admin" in str(refused.value)
    assert editor.source(rt, "Process_surat_masuk", OWNER)["bpmn_xml"] == theirs["bpmn_xml"]
    with pytest.raises(Conflict):  # a revision that is not the draft's own is refused too
        editor.upload(rt, OWNER, changed.encode(), None, revision=theirs["revision"] + 1)
    replaced = editor.upload(rt, OWNER, changed.encode(), None, revision=theirs["revision"])
    assert replaced["revision"] == theirs["revision"] + 1 and replaced["saved_by"] == OWNER
    again = editor.upload(rt, OWNER, CAMUNDA_BPMN.encode(), None)  # one's own draft: replaced as before
    assert again["revision"] == replaced["revision"] + 1


def test_deploying_or_discarding_the_draft_one_loaded_refuses_a_colleagues_later_save(rt):
    loaded = editor.save_draft(rt, KEY, OWNER, BPMN, yaml_text=YAML)["revision"]
    later = editor.save_draft(rt, KEY, "admin", without_step_number(BPMN, "Step_07"), yaml_text=YAML)
    for act in (editor.deploy_draft, editor.discard_draft):
        with pytest.raises(Conflict) as refused:
            act(rt, KEY, OWNER, revision=loaded)
        assert "disimpan oleh admin" in str(refused.value)
    assert editor.source(rt, KEY, OWNER)["revision"] == later["revision"]  # neither deployed nor thrown away
    assert [v["version"] for v in editor.versions(rt, KEY, OWNER)] == [1]
    editor.discard_draft(rt, KEY, OWNER, revision=later["revision"])
    assert editor.source(rt, KEY, OWNER)["origin"] == "version"


# -- migration ---------------------------------------------------------------------------

def test_an_instance_at_step_1_moves_to_the_new_version(rt, clock):
    instance_id = start(rt)
    before = open_row(rt, instance_id)
    clock.advance(minutes=20)
    deploy_v2(rt, step7_to_administrasi())

    listing = editor.migration_candidates(rt, KEY, OWNER)
    assert listing["target"] == 2
    assert listing["instances"] == [{"id": instance_id, "title": "Layanan email dinas", "bidang": "aptika",
                                     "version": 1, "current_steps": [1], "eligible": True, "reason": None}]
    result = editor.migrate(rt, instance_id, OWNER)

    assert (result["from"], result["to"]) == (1, 2)
    assert instance_version(rt, instance_id) == 2
    after = open_row(rt, instance_id)
    assert after.id == before.id and after.step == 1                  # the open task keeps its id
    assert after.due_at == before.due_at                                # counted from when the step began
    with rt.uow() as session:
        [timer] = session.scalars(select(Timer).where(Timer.task_id == after.id)).all()
        assert timer.due_at == before.due_at and timer.fired_at is None
        assert after.definition_version_id == session.get(Instance, instance_id).definition_version_id
    [logged] = events(rt, instance_id, "migrated")
    assert (logged.actor, logged.data["from"], logged.data["to"]) == (OWNER, 1, 2)
    assert [t["id"] for t in worklist.tasks(rt, "aptika.implementasi", instance_id=instance_id)] == [after.id]
    assert editor.migration_candidates(rt, KEY, OWNER)["instances"] == []

    # The migrated instance runs on: step 7 is now Tim Administrasi's, with the new standard time.
    drive_to_step7(rt, instance_id)
    row = open_row(rt, instance_id)
    assert (row.step, row.lane_role) == (7, "administrasi")
    assert row.due_at == rt.calendar.due(row.created_at, MutuBaku.parse("60 Menit"))


def test_an_overdue_step_stays_overdue_after_migration(rt, clock):
    from engine.scheduler import Scheduler
    instance_id = start(rt)
    do_step(rt, instance_id, 1)
    do_step(rt, instance_id, 2)
    clock.advance(hours=3)                     # step 3's 30 working minutes have passed
    Scheduler(rt, deliver=False).run_pass()
    before = open_row(rt, instance_id)
    assert before.step == 3 and before.overdue
    deploy_v2(rt, step7_to_administrasi())

    editor.migrate(rt, instance_id, OWNER)
    after = open_row(rt, instance_id)
    assert (after.id, after.overdue, after.due_at) == (before.id, True, before.due_at)
    assert len(events(rt, instance_id, "overdue")) == 1  # not escalated a second time
    do_step(rt, instance_id, 3)
    assert open_row(rt, instance_id).step == 4


def test_a_step_whose_new_standard_has_already_passed_is_overdue_and_escalated_once_at_the_migration(rt, clock):
    """Step 7 (30 minutes) open for 20; version 2 gives it 10 minutes. Its due time is the new version's,
    counted from when the step began, so the migration finds it past due: overdue and escalated then, once,
    not 10 minutes later at the old due time."""
    from engine.scheduler import Scheduler
    instance_id = start(rt)
    drive_to_step7(rt, instance_id)
    before = open_row(rt, instance_id)
    clock.advance(minutes=20)
    deploy_v2(rt, step7_to_administrasi(minutes=10))

    editor.migrate(rt, instance_id, OWNER)
    after = open_row(rt, instance_id)
    assert after.due_at == rt.calendar.due(before.created_at, MutuBaku.parse("10 Menit")) < before.due_at
    assert after.overdue
    clock.advance(minutes=15)  # past the old due time too
    Scheduler(rt, deliver=False).run_pass()
    assert len(events(rt, instance_id, "overdue")) == 1
    assert [e.data["level"] for e in events(rt, instance_id, "escalated")].count(1) == 1


def test_migration_is_refused_when_the_current_step_was_removed(rt):
    instance_id = start(rt)
    deploy_v2(rt, step_renamed(BPMN, "Step_01", "Step_01_baru"))

    [row] = editor.migration_candidates(rt, KEY, OWNER)["instances"]
    assert not row["eligible"] and "Step_01" in row["reason"] and "langkah 1" in row["reason"]
    with pytest.raises(Conflict) as refused:
        editor.migrate(rt, instance_id, OWNER)
    assert "langkah 1" in str(refused.value) and "Step_01" in str(refused.value)

    assert instance_version(rt, instance_id) == 1
    [logged] = events(rt, instance_id, "migration_refused")
    assert logged.actor == OWNER and logged.data["to"] == 2 and "Step_01" in logged.data["reason"]
    assert events(rt, instance_id, "migrated") == []
    assert open_row(rt, instance_id).definition_version_id == instance_version_id(rt, KEY, 1)


def instance_version_id(rt, key: str, version: int) -> int:
    with rt.uow() as session:
        return session.scalars(select(DefinitionVersion.id).where(
            DefinitionVersion.key == key, DefinitionVersion.version == version)).one()


def test_migration_is_refused_when_a_step_already_done_was_removed(rt):
    instance_id = start(rt)
    do_step(rt, instance_id, 1)
    do_step(rt, instance_id, 2)
    deploy_v2(rt, step_renamed(BPMN, "Step_01", "Step_01_baru"))
    with pytest.raises(Conflict) as refused:
        editor.migrate(rt, instance_id, OWNER)
    assert "sudah dilalui" in str(refused.value)
    assert instance_version(rt, instance_id) == 1


def timer_drawn_again(bpmn: str, timer: str, standard_time: str, duration: str) -> str:
    """A step's timer deleted and drawn again in bpmn-js: a new element id, maybe another duration."""
    bpmn = re.sub(rf'(<bpmn:boundaryEvent id="{timer}" name=")[^"]*(".*?<bpmn:timeDuration[^>]*>)\w+<',
                  rf"\g<1>{standard_time}\g<2>{duration}<", bpmn, count=1, flags=re.S)
    return step_renamed(bpmn, timer, "Event_0t8k2xq")


def test_a_steps_timer_drawn_again_does_not_stop_migration(rt, clock):
    from engine.scheduler import Scheduler
    waiting = start(rt, "Di langkah 1")
    past = start(rt, "Di langkah 3")
    do_step(rt, past, 1)
    do_step(rt, past, 2)
    begun = open_row(rt, waiting)
    clock.advance(minutes=10)
    deploy_v2(rt, timer_drawn_again(BPMN, "Timer_01", "20 Hari", "P20D"))

    listing = editor.migration_candidates(rt, KEY, OWNER)["instances"]
    assert [(r["eligible"], r["reason"]) for r in listing] == [(True, None), (True, None)]
    editor.migrate(rt, waiting, OWNER)
    editor.migrate(rt, past, OWNER)

    # The step's timer is the new one, re-planned per the new standard time from when the step began.
    row = open_row(rt, waiting)
    assert row.due_at == rt.calendar.due(begun.created_at, MutuBaku.parse("20 Hari")) != begun.due_at
    with rt.uow() as session:
        [timer] = session.scalars(select(Timer).where(Timer.task_id == row.id)).all()
        assert (timer.due_at, timer.fired_at) == (row.due_at, None)
    clock.set(row.due_at - timedelta(minutes=1))
    Scheduler(rt, deliver=False).run_pass()
    assert not open_row(rt, waiting).overdue
    clock.set(row.due_at + timedelta(minutes=1))
    Scheduler(rt, deliver=False).run_pass()
    assert open_row(rt, waiting).overdue and len(events(rt, waiting, "overdue")) == 1
    do_step(rt, waiting, 1)
    do_step(rt, past, 3)
    assert (open_row(rt, waiting).step, open_row(rt, past).step) == (2, 4)


def test_a_waiting_timer_that_cannot_be_matched_is_named_by_its_step(rt, monkeypatch):
    # Every step has its one timer, so SpiffWorkflow matches a timer drawn again by its step;
    # should it ever not, the refusal names the step, not the timer's element id.
    def timer_01_unmatched(*args):
        diff, subprocesses = diff_workflow(*args)
        for task in [t for t in diff.alignment if t.task_spec.name == "Timer_01"]:
            diff.alignment[task] = None
            diff.removed.append(task)
        return diff, subprocesses
    monkeypatch.setattr(editor, "diff_workflow", timer_01_unmatched)
    instance_id = start(rt)
    deploy_v2(rt, timer_drawn_again(BPMN, "Timer_01", "30 Hari", "P30D"))

    [row] = editor.migration_candidates(rt, KEY, OWNER)["instances"]
    assert row["reason"] == ("batas waktu langkah 1 (Merencanakan kegiatan dan layanan Bidang berpedoman pada "
                             "petunjuk pelaksanaan dan petunjuk teknis) yang sedang menunggu tidak ada di versi 2")
    assert instance_version(rt, instance_id) == 1


def test_a_version_taking_away_a_waiting_steps_standard_time_is_not_deployed(rt):
    """Migration relies on every step of every version having its one timer: taking a step's
    standard time away (SOP rows each have a Waktu) is a problem of the draft, so no version without
    it is deployed and an activity waiting at the step keeps its due time. Should the validator ever
    allow it, SpiffWorkflow 3.2 cannot move such an activity: its step would lose the completed
    boundary-event split above it, which `migrate_workflow` leaves in the tree with the old spec."""
    instance_id = start(rt)
    before = open_row(rt, instance_id)
    draft = editor.save_draft(rt, KEY, OWNER, remove_element(BPMN, "boundaryEvent", "Timer_01"), yaml_text=YAML)

    [problem] = [p for p in editor.errors(draft["problems"]) if p["element"] == "Step_01"]
    assert "belum memiliki mutu baku waktu" in problem["message"]
    with pytest.raises(InvalidData):
        editor.deploy_draft(rt, KEY, OWNER)
    assert editor.migration_candidates(rt, KEY, OWNER) == {"key": KEY, "target": 1, "instances": []}
    after = open_row(rt, instance_id)
    assert (instance_version(rt, instance_id), after.due_at) == (1, before.due_at)
    with rt.uow() as session:
        [timer] = session.scalars(select(Timer).where(Timer.task_id == after.id)).all()
        assert (timer.due_at, timer.fired_at) == (before.due_at, None)


def test_an_open_step_moved_to_another_lane_is_offered_to_that_lane(rt, clock):
    instance_id = start(rt)
    drive_to_step7(rt, instance_id)
    row = open_row(rt, instance_id)
    services.claim(rt, row.id, "aptika.implementasi")
    deploy_v2(rt, step7_to_administrasi())

    result = editor.migrate(rt, instance_id, OWNER)
    assert result["steps"] == [{"step": 7, "task_id": row.id, "lane": ["implementasi", "administrasi"],
                                "unclaimed": "aptika.implementasi"}]
    moved = open_row(rt, instance_id)
    assert (moved.id, moved.lane_role, moved.assignee) == (row.id, "administrasi", None)
    # The new standard time counts from when the step began.
    assert moved.due_at == rt.calendar.due(row.created_at, MutuBaku.parse("60 Menit"))
    assert [t["id"] for t in worklist.tasks(rt, "aptika.administrasi", instance_id=instance_id)] == [row.id]
    assert worklist.tasks(rt, "aptika.implementasi", instance_id=instance_id) == []
    services.claim(rt, row.id, "aptika.administrasi")
    services.complete(rt, row.id, "aptika.administrasi", {"data_diberikan": "Rekap akun"})
    assert open_row(rt, instance_id).step == 8


def test_migrate_all_reports_each_instance(rt):
    at_step_1 = start(rt, "Di langkah 1")
    at_step_2 = start(rt, "Di langkah 2")
    do_step(rt, at_step_2, 1)
    deploy_v2(rt, step_renamed(BPMN, "Step_01", "Step_01_baru"))
    results = {r["id"]: r for r in editor.migrate_all(rt, KEY, OWNER)}
    assert not results[at_step_1]["migrated"] and "Step_01" in results[at_step_1]["reason"]
    assert not results[at_step_2]["migrated"] and "sudah dilalui" in results[at_step_2]["reason"]


def test_migration_to_an_older_version_is_refused_and_to_its_own_changes_nothing(rt):
    """Its own version was refused, and the refusal logged each time: a retry of a migration done
    filled the history with refusals. It is done already: nothing to write."""
    deploy_v2(rt, step7_to_administrasi())
    instance_id = start(rt)
    assert editor.migrate(rt, instance_id, OWNER) == {"id": instance_id, "from": 2, "to": 2, "steps": [],
                                                      "migrated": False}
    assert events(rt, instance_id, "migration_refused") == []
    with pytest.raises(Conflict, match="lebih lama"):
        editor.migrate(rt, instance_id, OWNER, target=1)
    assert len(events(rt, instance_id, "migration_refused")) == 1


# -- permissions ------------------------------------------------------------------------

@pytest.mark.parametrize("login", ["aptika.implementasi", "kepala.aptika", "kadis", "sekretaris"])
def test_only_process_owners_and_admins_edit_deploy_or_migrate(rt, login):
    instance_id = start(rt)
    editor.save_draft(rt, KEY, "admin", BPMN, yaml_text=YAML)  # admins may
    calls = [
        lambda: editor.definitions(rt, login),
        lambda: editor.source(rt, KEY, login),
        lambda: editor.save_draft(rt, KEY, login, BPMN, yaml_text=YAML),
        lambda: editor.upload(rt, login, CAMUNDA_BPMN.encode()),
        lambda: editor.discard_draft(rt, KEY, login),
        lambda: editor.deploy_draft(rt, KEY, login),
        lambda: editor.versions(rt, KEY, login),
        lambda: editor.version_source(rt, KEY, 1, login),
        lambda: editor.migration_candidates(rt, KEY, login),
        lambda: editor.migrate(rt, instance_id, login),
        lambda: editor.migrate_all(rt, KEY, login),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()
    with rt.uow() as session:
        assert session.get(DefinitionDraft, KEY).saved_by == "admin"


# -- a condition that fails when an instance reaches it -----------------------------------

def gateway_without_a_path(condition: str = "terverifikasi == True and False") -> str:
    """The seed SOP whose "terverifikasi?" gateway lets no instance through (no default path either)."""
    return BPMN.replace(">terverifikasi == True<", f">{condition}<", 1).replace(
        ">terverifikasi == False<", ">terverifikasi == False and 1 == 2<", 1)


@pytest.mark.parametrize("condition,reason", [
    ("terverifikasi == True and catatan != 'x'", "catatan"),   # an optional field left out: not in the data
    ("terverifikasi == True and 1 // (terverifikasi - terverifikasi) == 0", "modulo by zero"),
    ("terverifikasi == True and False", "No conditions satisfied"),  # and no default path
])
def test_a_gateway_that_cannot_be_passed_blocks_the_step_with_its_reason_and_writes_nothing(
        rt, condition, reason):
    # Step 5 with a document too: a blocked step must not leave its file behind either.
    deploy_v2(rt, gateway_without_a_path(condition), YAML.replace(
        "      - {name: catatan, label: Catatan verifikasi, type: text}\n",
        "      - {name: catatan, label: Catatan verifikasi, type: text}\n"
        "      - {name: bukti, label: Bukti verifikasi, type: file}\n", 1))
    instance_id = start(rt)
    for step in (1, 2, 3, 4):
        do_step(rt, instance_id, step)
    row = open_row(rt, instance_id)
    assert row.step == 5
    services.claim(rt, row.id, "aptika.teknis")
    with rt.uow() as session:
        before = session.get(Instance, instance_id).version
    files_before = sorted((rt.settings.data_dir / "files").rglob("*"))

    with pytest.raises(StepBlocked) as blocked:
        services.complete(rt, row.id, "aptika.teknis", {"terverifikasi": True},
                          files={"bukti": ("bukti.pdf", b"%PDF-1.4 bukti verifikasi")})

    assert reason in str(blocked.value) and "Gateway_05" in str(blocked.value)
    assert blocked.value.status == 422
    with rt.uow() as session:
        assert session.get(Instance, instance_id).version == before
    again = open_row(rt, instance_id)
    assert (again.id, again.assignee, again.state) == (row.id, "aptika.teknis", "open")
    assert events(rt, instance_id, "step_completed")[-1].step == 4
    assert sorted((rt.settings.data_dir / "files").rglob("*")) == files_before


def test_an_engine_fault_is_not_passed_off_as_a_blocked_gateway(rt, monkeypatch):
    """Only a condition that failed or a gateway with no path is the user's StepBlocked (422);
    SpiffWorkflow's other errors (a corrupt state, an engine bug) stay errors, for the log."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.exceptions import WorkflowException
    instance_id = start(rt)
    row = open_row(rt, instance_id)
    services.claim(rt, row.id, "aptika.implementasi")

    def broken(self):
        raise WorkflowException("state went from READY to COMPLETED!")
    monkeypatch.setattr(BpmnWorkflow, "do_engine_steps", broken)
    with pytest.raises(WorkflowException) as fault:
        services.complete(rt, row.id, "aptika.implementasi", STEP_DATA[1])
    assert not isinstance(fault.value, StepBlocked)
    assert open_row(rt, instance_id).id == row.id


def test_two_answers_without_a_revision_do_not_undo_each_other(rt, monkeypatch):
    """Answering read the draft in one transaction and saved it in another; without a revision (the API
    allows none) the save overwrote whatever was saved in between: a colleague's answer came undone."""
    from process.sop_import import answering
    from tests.integration.sop import SEED_TEXT
    editor.import_source(rt, OWNER, "sop.txt", SEED_TEXT.read_bytes(), key="impor")
    without = answering.without_questions

    def while_a_colleague_answers(yaml_text, answered):
        monkeypatch.setattr(answering, "without_questions", without)
        editor.resolve_question(rt, "impor", "admin", "Gateway_12.tidak")
        return without(yaml_text, answered)

    monkeypatch.setattr(answering, "without_questions", while_a_colleague_answers)
    with pytest.raises(Conflict):
        editor.resolve_question(rt, "impor", OWNER, "Step_01.pelaksana")
    left = {q["id"] for q in editor.questions(editor.source(rt, "impor", OWNER)["yaml_text"])}
    assert "Gateway_12.tidak" not in left and "Step_01.pelaksana" in left


def test_a_version_deployed_before_the_loader_refused_its_form_still_runs(rt):
    """A version stored by an older Alur may list a choice twice (the editor's comma list made it easy)
    or write `required: "false"`, which the loader now refuses. Its running activities must still load."""
    instance_id = start(rt)
    with rt.uow() as session:
        version = session.get(Instance, instance_id).definition
        version.yaml_text = version.yaml_text.replace(
            "choices: [Sesuai rencana, Sebagian, Tidak tercapai]",
            "choices: [Sesuai rencana, Sebagian, Sesuai rencana]").replace(
            "type: text, required: true}\n      - {name: jumlah_penerima_manfaat",
            "type: text, required: 'false'}\n      - {name: jumlah_penerima_manfaat")
        assert "Sebagian, Sesuai rencana]" in version.yaml_text and "required: 'false'" in version.yaml_text
        session.commit()
    fresh = type(rt)(rt.settings, clock=rt.clock)  # a process that has not parsed the version yet
    try:
        do_step(fresh, instance_id, 1)
        with fresh.uow() as session:
            definition = fresh.definition_of(session.get(Instance, instance_id))[0]
        [capaian] = [f for f in definition.step(10).form.fields if f.name == "capaian"]
        assert capaian.choices == ("Sesuai rencana", "Sebagian")  # offered once each
    finally:
        fresh.dispose()
