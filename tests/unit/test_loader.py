"""Loading definitions: the seed SOP, and every way a definition can be broken.

Broken definitions are made by mutating the seed's own BPMN and YAML text, so
each case differs from a valid definition in exactly one thing, and each
asserts the Problem it must produce: the file, the element id (or YAML path)
and what the message says.
"""
from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from process import bpmn as bpmn_module
from process.definition import SCOPE_BIDANG, SCOPE_OFFICE
from process.expressions import evaluate
from process.loader import HEADER_KEYS, LANE_ROLES, DefinitionError, Problem, load, load_file, validate_paths
from process.loader import problems_of as loader_problems_of
from process.mutu_baku import MutuBaku
from tests.integration.sop import nested_lanes

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
SEED_BPMN_PATH = DEFINITIONS / "monev_kegiatan_bidang.bpmn"
SEED_YAML_PATH = DEFINITIONS / "monev_kegiatan_bidang.yaml"
SEED_BPMN = SEED_BPMN_PATH.read_text(encoding="utf-8")
SEED_YAML = SEED_YAML_PATH.read_text(encoding="utf-8")
BPMN, YAML = "sop.bpmn", "sop.yaml"


def load_texts(bpmn_text: str = SEED_BPMN, yaml_text: str = SEED_YAML):
    return load(bpmn_text, yaml_text, bpmn_name=BPMN, yaml_name=YAML)


def problems_of(bpmn_text: str = SEED_BPMN, yaml_text: str = SEED_YAML) -> list[Problem]:
    with pytest.raises(DefinitionError) as caught:
        load_texts(bpmn_text, yaml_text)
    assert caught.value.problems, "a DefinitionError must list its problems"
    return caught.value.problems


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the seed changed: {old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def remove_element(text: str, tag: str, element_id: str) -> str:
    """Cut one element (by id) out of the seed's text."""
    pattern = re.compile(rf'\n\s*<bpmn:{tag} id="{element_id}"[^>]*?(?:/>|>.*?</bpmn:{tag}>)', re.S)
    new, n = pattern.subn("", text, count=1)
    assert n == 1, f"{tag} {element_id} not found in the seed"
    return new


def find(problems: list[Problem], file: str, element: str, *fragments: str) -> Problem:
    for problem in problems:
        if problem.file == file and problem.element == element and all(f in problem.message for f in fragments):
            return problem
    raise AssertionError(f"no problem {file}: {element}: {' … '.join(fragments)} in:\n"
                         + "\n".join(map(str, problems)))


# ---------------------------------------------------------------------------------
# The seed definition
# ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed():
    return load_file(SEED_BPMN_PATH)


# Default lane assignment from /work/shared/seed/READING.md
EXPECTED_ROLE = {1: "implementasi", 2: "implementasi", 3: "implementasi", 7: "implementasi",
                 4: "teknis", 5: "teknis", 6: "administrasi", 8: "administrasi",
                 **{n: "sekretaris" for n in range(9, 16)}}
# Standard times as the SOP writes them (the diagram keeps the SOP's unit: 120 Menit, not 2 Jam)
EXPECTED_TIME = {1: "30 Hari", 2: "30 Hari", 3: "30 Menit", 4: "30 Menit", 5: "30 Menit", 6: "120 Menit",
                 7: "30 Menit", 8: "60 Menit", 9: "5 Menit", 10: "30 Hari", 11: "7 Hari", 12: "1 Hari",
                 13: "1 Hari", 14: "1Hari", 15: "7 Hari"}


def test_seed_identity(seed):
    assert seed.key == "monev_kegiatan_bidang"
    assert seed.name.startswith("Monitoring Dan Evaluasi Kegiatan Layanan Bidang")
    assert seed.counting == {"days": "kerja", "time": "kerja"}
    assert len(seed.content_hash) == 64


def test_seed_has_fifteen_numbered_steps(seed):
    assert [s.number for s in seed.steps] == list(range(1, 16))
    assert [s.element_id for s in seed.steps] == [f"Step_{n:02d}" for n in range(1, 16)]
    assert seed.step(6).name == "Melakukan pengumpulan Data Kegiatan dan Layanan yang diperlukan"
    assert seed.step_for_element("Step_09").number == 9
    assert seed.step_for_timer("Timer_09").number == 9


def test_seed_lanes_follow_the_default_assignment(seed):
    assert {s.number: s.lane.role for s in seed.steps} == EXPECTED_ROLE
    scopes = {lane.role: lane.scope for lane in seed.lanes}
    assert scopes == {"administrasi": SCOPE_BIDANG, "teknis": SCOPE_BIDANG,
                      "implementasi": SCOPE_BIDANG, "sekretaris": SCOPE_OFFICE}
    assert {lane.name for lane in seed.lanes} == {"Tim Administrasi", "Tim Teknis", "Tim Implementasi", "Sekretaris"}


def test_child_lanes_are_the_actors_and_their_parent_lane_only_groups_them(seed):
    """Camunda Modeler's and bpmn-js's child lanes: the parent ("Diskominfo", no role) was refused as an unknown
    lane, though the actors are its children. The leaf lanes are the SOP's lanes, in the diagram's order."""
    nested = load_texts(nested_lanes(SEED_BPMN))
    assert [(lane.id, lane.name, lane.role, lane.scope) for lane in nested.lanes] == [
        (lane.id, lane.name, lane.role, lane.scope) for lane in seed.lanes]
    assert {s.number: s.lane.role for s in nested.steps} == EXPECTED_ROLE


@pytest.mark.parametrize("number", sorted(EXPECTED_TIME))
def test_seed_standard_time_per_step(seed, number):
    step = seed.step(number)
    assert step.mutu_baku == MutuBaku.parse(EXPECTED_TIME[number])
    assert step.timer_id == f"Timer_{number:02d}"


def test_seed_decisions(seed):
    assert [s.number for s in seed.steps if s.is_decision] == [5, 12]
    outcomes = {n: {label: target for _, label, _, target in seed.step(n).decision.outcomes} for n in (5, 12)}
    assert outcomes == {5: {"Ya": "Step_06", "Tidak": "Step_03"}, 12: {"Ya": "Step_13", "Tidak": "Step_15"}}
    assert seed.step(5).decision.gateway_id == "Gateway_05"
    assert seed.step(12).decision.gateway_id == "Gateway_12"


@pytest.mark.parametrize("number,field,answer,expected", [
    (5, "terverifikasi", True, "Ya"), (5, "terverifikasi", False, "Tidak"),
    (12, "ada_kendala", True, "Ya"), (12, "ada_kendala", False, "Tidak"),
])
def test_seed_decisions_route_on_their_own_form(seed, number, field, answer, expected):
    step = seed.step(number)
    form_field = next(f for f in step.form.fields if f.name == field)
    assert form_field.type == "boolean" and form_field.required
    chosen = [label for _, label, condition, _ in step.decision.outcomes
              if condition is not None and evaluate(condition, {field: answer})]
    assert chosen == [expected]


def test_seed_header_sheet(seed):
    assert set(seed.header) == set(HEADER_KEYS)
    assert seed.header["nomor"] == "000.8.3.3/327"
    assert seed.header["tanggal_pembuatan"] == "2025-05-21"
    assert seed.header["tanggal_efektif"] == "2025-05-22"
    assert seed.header["disahkan_oleh"]["nip"] == "196707151993091001"
    assert len(seed.header["dasar_hukum"]) == 7
    json.dumps(seed.header)  # dates became strings


def test_seed_kelengkapan_output_and_forms(seed):
    assert seed.step(13).kelengkapan == "Rapat Koordinasi"
    assert seed.step(13).output == "Permasalahan yang ada"
    assert seed.step(14).output == "Laporan Solusi Permasalahan"
    assert seed.step(5).kelengkapan == "" and seed.step(5).output == ""
    assert seed.step(1).form.json_schema()["required"] == ["rencana_kegiatan", "tanggal_mulai", "tanggal_selesai"]
    assert [f.type for f in seed.step(10).form.fields] == ["choice", "text"]


def test_seed_loads_the_same_from_text_and_file(seed):
    assert load_texts().steps == seed.steps


# ---------------------------------------------------------------------------------
# Broken definitions: one mutation, one specific problem
# ---------------------------------------------------------------------------------

def _billion_laughs() -> str:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    body = SEED_BPMN.split("?>", 1)[1]
    body = replace_once(body, '<bpmn:startEvent id="Mulai" name="Mulai">',
                        '<bpmn:startEvent id="Mulai" name="&lol9;">')
    return f'<?xml version="1.0"?>\n<!DOCTYPE bpmn:definitions [{entities}]>{body}'


def _xxe() -> str:
    body = SEED_BPMN.split("?>", 1)[1]
    body = replace_once(body, '<bpmn:startEvent id="Mulai" name="Mulai">', '<bpmn:startEvent id="Mulai" name="&x;">')
    return f'<?xml version="1.0"?>\n<!DOCTYPE bpmn:definitions [<!ENTITY x SYSTEM "file:///etc/passwd">]>{body}'


def _no_condition(text: str) -> str:
    return re.sub(r'(<bpmn:sequenceFlow id="Flow_05_Tidak"[^>]*>)\s*<bpmn:conditionExpression[^<]*'
                  r'</bpmn:conditionExpression>', r"\1", text)


YAML_BAD_LINE = "    kelengkapan: Rapat: Koordinasi"


def _yaml_line(text: str, line: str) -> int:
    return text.splitlines().index(line) + 1


def _bpmn(fn: Callable[[str], str]):
    return lambda: (fn(SEED_BPMN), SEED_YAML)


def _yaml(fn: Callable[[str], str]):
    return lambda: (SEED_BPMN, fn(SEED_YAML))


# id: (make (bpmn, yaml), [(file, element, message fragments...)], only these problems?)
BROKEN = {
    "unknown lane role": (
        _bpmn(lambda t: replace_once(t, 'alur:role="teknis"', 'alur:role="keuangan"')),
        [(BPMN, "Lane_Teknis", "lane 'Tim Teknis' tidak dikenal",
          "perannya 'keuangan' bukan salah satu peran kantor (administrasi, teknis, implementasi, sekretaris)")],
        True),
    "unknown lane read from its name": (
        _bpmn(lambda t: replace_once(t, 'name="Tim Teknis" alur:role="teknis"', 'name="Tim Keuangan"')),
        [(BPMN, "Lane_Teknis", "lane 'Tim Keuangan' tidak dikenal", "perannya 'keuangan'")],
        True),
    "lane without a name or a role (a new lane, a lane divided in two)": (
        _bpmn(lambda t: replace_once(t, 'name="Tim Teknis" alur:role="teknis"', 'name=""')),
        [(BPMN, "Lane_Teknis", "lane belum memiliki nama maupun peran; pilih perannya, salah satu peran kantor "
                               "(administrasi, teknis, implementasi, sekretaris)")],
        True),
    "bad lane scope": (
        _bpmn(lambda t: replace_once(t, 'alur:role="teknis" alur:scope="bidang"',
                                     'alur:role="teknis" alur:scope="kota"')),
        [(BPMN, "Lane_Teknis", "cakupan lane harus bidang atau office, bukan 'kota'")],
        True),
    "nodes listed only in a parent lane": (
        _bpmn(lambda t: replace_once(replace_once(
            nested_lanes(t), "            <bpmn:flowNodeRef>Step_04</bpmn:flowNodeRef>\n", ""),
            "            <bpmn:flowNodeRef>Gateway_05</bpmn:flowNodeRef>\n", "")),
        [(BPMN, "Step_04", "userTask 'Melakukan verifikasi hasil kegiatan dan layanan bidang' hanya tercantum di "
                           "lane induk 'Diskominfo'", "tidak di salah satu lane di dalamnya"),
         (BPMN, "Gateway_05", "exclusiveGateway 'Terverifikasi?' hanya tercantum di lane induk 'Diskominfo'")],
        True),
    "node listed in two lanes": (
        _bpmn(lambda t: replace_once(t, "        <bpmn:flowNodeRef>Step_06</bpmn:flowNodeRef>\n",
                                     "        <bpmn:flowNodeRef>Step_06</bpmn:flowNodeRef>\n"
                                     "        <bpmn:flowNodeRef>Step_04</bpmn:flowNodeRef>\n")),
        [(BPMN, "Step_04", "userTask 'Melakukan verifikasi hasil kegiatan dan layanan bidang' tercantum di dua lane, "
                           "'Tim Administrasi' dan 'Tim Teknis'", "letakkan di satu lane saja")],
        True),
    "node listed in two child lanes of a parent lane": (
        _bpmn(lambda t: replace_once(nested_lanes(t), "            <bpmn:flowNodeRef>Gateway_05</bpmn:flowNodeRef>\n",
                                     "            <bpmn:flowNodeRef>Gateway_05</bpmn:flowNodeRef>\n"
                                     "            <bpmn:flowNodeRef>Step_01</bpmn:flowNodeRef>\n")),
        [(BPMN, "Step_01", "tercantum di dua lane, 'Tim Teknis' dan 'Tim Implementasi'")],
        True),
    "user task outside any lane": (
        _bpmn(lambda t: replace_once(t, "<bpmn:flowNodeRef>Step_04</bpmn:flowNodeRef>", "")),
        [(BPMN, "Step_04", "user task 'Melakukan verifikasi hasil kegiatan dan layanan bidang' tidak berada di lane mana pun")],
        True),
    "step without a standard time": (
        _bpmn(lambda t: remove_element(t, "boundaryEvent", "Timer_04")),
        [(BPMN, "Step_04", "belum memiliki mutu baku waktu", "timer boundary event non-interrupting yang berdurasi")],
        True),
    "timer without a duration": (
        _bpmn(lambda t: replace_once(
            t, '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT120M</bpmn:timeDuration>', "")),
        [(BPMN, "Timer_06", "timer memerlukan durasi (timeDuration), mis. PT30M")],
        True),
    "gateway flow without a condition and no default": (
        _bpmn(_no_condition),
        [(BPMN, "Flow_05_Tidak", "alur percabangan tanpa kondisi, padahal 'Gateway_05' tidak memiliki alur bawaan (default flow)")],
        True),
    "unreachable element": (
        _bpmn(lambda t: replace_once(t, 'sourceRef="Gateway_12" targetRef="Step_13"',
                                     'sourceRef="Gateway_12" targetRef="Step_14"')),
        [(BPMN, "Step_13", "userTask 'Menganalisa dan mencari Solusi Permasalahan' tidak dapat dicapai dari start event"),
         (BPMN, "Timer_13", "boundaryEvent '1 Hari' tidak dapat dicapai dari start event")],
        True),
    "form field of unknown type": (
        _yaml(lambda t: replace_once(t, "label: Jumlah penerima layanan, type: number, min: 0, whole: true}",
                                     "label: Jumlah penerima layanan, type: angka}")),
        [(YAML, "steps.3.form.jumlah_penerima_manfaat", "jenis isian 'angka' tidak dikenal",
          "yang dikenal: text, number, date, boolean, choice, file")],
        True),
    "choice field without choices": (
        _yaml(lambda t: replace_once(t, "choices: [Sesuai rencana, Sebagian, Tidak tercapai]", "choices: []")),
        [(YAML, "steps.10.form.capaian", "isian choice memerlukan daftar 'choices' yang tidak kosong")],
        True),
    "malformed XML": (
        _bpmn(lambda t: replace_once(t, "</bpmn:process>", "")),
        [(BPMN, "-", "XML rusak: mismatched tag: line")],
        True),
    "duration that cannot be read": (
        _bpmn(lambda t: replace_once(t, ">PT120M<", ">PT30X<")),
        [(BPMN, "Timer_06", "durasi 'PT30X' tidak terbaca", "P7D, PT2H atau PT30M")],
        True),
    "duration with two components": (
        _bpmn(lambda t: replace_once(t, ">PT120M<", ">PT1H60M<")),
        [(BPMN, "Timer_06", "durasi 'PT1H60M' tidak terbaca")],
        True),
    "duration of thousands of digits": (  # past Python's 4,300-digit int limit: was a ValueError crash
        _bpmn(lambda t: replace_once(t, ">PT120M<", f">PT{'9' * 5000}M<")),
        [(BPMN, "Timer_06", "lebih dari sepuluh tahun")],
        True),
    "missing alur:step": (
        _bpmn(lambda t: replace_once(t, ' alur:step="7"', "")),
        [(BPMN, "Step_07", "langkah belum memiliki nomor SOP (atribut alur:step)")],
        False),  # the YAML's step 7 is then also reported as having no step in the diagram
    "alur:step that is not a number": (
        _bpmn(lambda t: replace_once(t, 'alur:step="7"', 'alur:step="tujuh"')),
        [(BPMN, "Step_07", "nomor SOP 'tujuh' harus bilangan bulat positif")],
        False),
    "alur:step in superscript digits": (  # "²".isdigit() is true and int() refuses it: was a crash
        _bpmn(lambda t: replace_once(t, 'alur:step="7"', 'alur:step="\u00b2"')),
        [(BPMN, "Step_07", "nomor SOP '\u00b2' harus bilangan bulat positif")],
        False),
    "alur:step too large for a task row": (  # deployed, then every start was a 500 on PostgreSQL
        _bpmn(lambda t: replace_once(t, 'alur:step="7"', 'alur:step="99999999999"')),
        [(BPMN, "Step_07", "nomor SOP '99999999999' terlalu besar (paling besar 9999)")],
        False),
    "duplicate step number": (
        _bpmn(lambda t: replace_once(t, 'alur:step="7"', 'alur:step="6"')),
        [(BPMN, "Step_07", "nomor SOP 6 sudah dipakai oleh 'Step_06'"),
         (YAML, "steps.7", "tidak ada langkah 7 pada diagram")],
        True),
    "YAML step number not in the diagram": (
        _yaml(lambda t: t + "  16:\n    kelengkapan: Arsip\n"),
        [(YAML, "steps.16", "tidak ada langkah 16 pada diagram")],
        True),
    "YAML step number written twice, once zero-padded": (  # 010 was octal 8: step 10's details on step 8
        _yaml(lambda t: t + "  010:\n    kelengkapan: Arsip\n"),
        [(YAML, "steps.010", "langkah 10 sudah tertulis sebagai '10'")],
        True),
    "malformed YAML": (
        _yaml(lambda t: replace_once(t, "    kelengkapan: Rapat Koordinasi", YAML_BAD_LINE)),
        [(YAML, f"line {_yaml_line(SEED_YAML.replace('    kelengkapan: Rapat Koordinasi', YAML_BAD_LINE), YAML_BAD_LINE)}",
          "YAML rusak: mapping values are not allowed here")],
        True),  # and no follow-on "kondisi membaca ..., which no form provides"
    "YAML value that is not a date": (
        _yaml(lambda t: replace_once(t, "tanggal_efektif: 2025-05-22", "tanggal_efektif: 2025-13-45")),
        [(YAML, f"line {_yaml_line(SEED_YAML, '  tanggal_efektif: 2025-05-22')}",
          "YAML rusak: '2025-13-45' tidak terbaca sebagai timestamp: month must be in 1..12")],
        True),
    "YAML that is not a mapping": (
        _yaml(lambda t: "- sop\n- steps\n"),
        [(YAML, "-", "berkas harus berupa mapping dengan kunci 'sop', 'counting' dan 'steps'")],
        True),
    "unknown YAML key": (
        _yaml(lambda t: t + "langkah: {}\n"),
        [(YAML, "langkah", "kunci tidak dikenal (yang dikenal: sop, counting, steps, questions)")],
        True),
    "open questions left by an import": (
        _yaml(lambda t: t + "questions:\n  - {id: Step_04.pelaksana, element: Step_04, text: 'Who does it?'}\n"
                            "  - {element: Gateway_12}\n"),
        [(YAML, "Step_04", "pertanyaan terbuka Step_04.pelaksana: Who does it?", "lalu hapus dari 'questions'"),
         (YAML, "questions[1]", "pertanyaan memerlukan paling tidak 'element' dan 'text'")],
        True),
    "unknown header field": (
        _yaml(lambda t: replace_once(t, "  nomor:", "  nomer:")),
        [(YAML, "sop.nomer", "isian kop SOP tidak dikenal")],
        True),
    "condition reading a name no form provides": (
        _bpmn(lambda t: replace_once(t, "terverifikasi == True", "disetujui == True")),
        [(BPMN, "Flow_05_Ya", "kondisi membaca 'disetujui', yang tidak disediakan formulir langkah mana pun")],
        True),
    "condition on a flow that does not leave a gateway": (
        _bpmn(lambda t: replace_once(
            t, '<bpmn:sequenceFlow id="Flow_06_07" sourceRef="Step_06" targetRef="Step_07" />',
            '<bpmn:sequenceFlow id="Flow_06_07" sourceRef="Step_06" targetRef="Step_07">'
            '<bpmn:conditionExpression>data_dikumpulkan != ""</bpmn:conditionExpression></bpmn:sequenceFlow>')),
        [(BPMN, "Flow_06_07", "kondisi hanya boleh ada pada alur yang keluar dari exclusive gateway")],
        True),
    "interrupting timer": (
        _bpmn(lambda t: replace_once(t, 'id="Timer_09" name="5 Menit" cancelActivity="false"',
                                     'id="Timer_09" name="5 Menit" cancelActivity="true"')),
        [(BPMN, "Timer_09", 'timer mutu baku waktu harus non-interrupting (cancelActivity="false")')],
        True),
    "timer interrupting by default": (
        _bpmn(lambda t: replace_once(t, 'id="Timer_09" name="5 Menit" cancelActivity="false"',
                                     'id="Timer_09" name="5 Menit"')),
        [(BPMN, "Timer_09", "harus non-interrupting")],
        True),
    "flow from a step's timer": (  # followed when the step is overdue: it ended the activity, or ran a step
        _bpmn(lambda t: replace_once(t, '<bpmn:sequenceFlow id="Flow_13_14"',
                                     '<bpmn:sequenceFlow id="Flow_T" sourceRef="Timer_01" targetRef="Selesai" />'
                                     '<bpmn:sequenceFlow id="Flow_13_14"')),
        [(BPMN, "Flow_T", "timer mutu baku waktu tidak boleh memiliki alur")],
        True),
    "flow into a step's timer": (
        _bpmn(lambda t: replace_once(t, '<bpmn:sequenceFlow id="Flow_13_14"',
                                     '<bpmn:sequenceFlow id="Flow_T" sourceRef="Step_01" targetRef="Timer_01" />'
                                     '<bpmn:sequenceFlow id="Flow_13_14"')),
        [(BPMN, "Flow_T", "timer mutu baku waktu tidak boleh memiliki alur"),
         (BPMN, "Step_01", "langkah hanya boleh memiliki satu alur keluar")],
        True),
    "a second timer on a step": (  # deployed, then starting an activity failed (no step has its deadline)
        _bpmn(lambda t: replace_once(
            t, '<bpmn:userTask id="Step_02"',
            '<bpmn:boundaryEvent id="Timer_01b" cancelActivity="false" attachedToRef="Step_01">'
            '<bpmn:timerEventDefinition><bpmn:timeDuration>P1D</bpmn:timeDuration></bpmn:timerEventDefinition>'
            '</bpmn:boundaryEvent><bpmn:userTask id="Step_02"')),
        [(BPMN, "Timer_01b", "sudah memiliki timer mutu baku waktu 'Timer_01'; satu langkah hanya memiliki satu timer")],
        True),
    "script task": (
        _bpmn(lambda t: replace_once(
            t, '<bpmn:endEvent id="Selesai"',
            '<bpmn:scriptTask id="Script_1" name="Hitung"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
            '<bpmn:endEvent id="Selesai"')),
        [(BPMN, "Script_1", "script task tidak diizinkan: diagram tidak boleh menjalankan kode di server")],
        True),
    "service task in place of a step": (
        _bpmn(lambda t: re.sub(r'<bpmn:userTask (id="Step_13"[^>]*)>(.*?)</bpmn:userTask>',
                               r"<bpmn:serviceTask \1>\2</bpmn:serviceTask>", t, count=1, flags=re.S)),
        [(BPMN, "Step_13", "serviceTask tidak didukung (Alur menjalankan user task, exclusive gateway"),
         (BPMN, "Timer_13", "timer boundary event harus menempel pada user task")],
        False),
    "sub-process": (
        _bpmn(lambda t: replace_once(t, '<bpmn:endEvent id="Selesai"',
                                     '<bpmn:subProcess id="Sub_1"><bpmn:startEvent id="Sub_Start"/></bpmn:subProcess>'
                                     '<bpmn:endEvent id="Selesai"')),
        [(BPMN, "Sub_1", "subProcess tidak didukung")],
        True),
    "multi-instance step": (
        _bpmn(lambda t: replace_once(t, "<bpmn:outgoing>Flow_13_14</bpmn:outgoing>",
                                     "<bpmn:outgoing>Flow_13_14</bpmn:outgoing>"
                                     '<bpmn:multiInstanceLoopCharacteristics isSequential="true"/>')),
        [(BPMN, "Step_13", "langkah berulang (loop) dan multi-instance tidak didukung")],
        True),
    "two outgoing flows from a step": (
        _bpmn(lambda t: replace_once(t, '<bpmn:sequenceFlow id="Flow_13_14"',
                                     '<bpmn:sequenceFlow id="Flow_13_15" sourceRef="Step_13" targetRef="Step_15" />'
                                     '<bpmn:sequenceFlow id="Flow_13_14"')),
        [(BPMN, "Step_13", "langkah hanya boleh memiliki satu alur keluar; letakkan keputusan di gateway")],
        True),
    "flow to an element that does not exist": (
        _bpmn(lambda t: replace_once(t, 'sourceRef="Step_14" targetRef="Step_15"', 'sourceRef="Step_14" targetRef="Step_99"')),
        [(BPMN, "Flow_14_15", "target 'Step_99' bukan elemen proses ini")],
        True),
    "no start event": (
        _bpmn(lambda t: remove_element(t, "startEvent", "Mulai")),
        [(BPMN, "monev_kegiatan_bidang", "proses harus memiliki tepat satu start event, ada 0")],
        False),
    "two start events": (
        _bpmn(lambda t: replace_once(t, '<bpmn:endEvent id="Selesai"',
                                     '<bpmn:startEvent id="Mulai_2"><bpmn:outgoing>Flow_M2</bpmn:outgoing>'
                                     '</bpmn:startEvent><bpmn:sequenceFlow id="Flow_M2" sourceRef="Mulai_2" '
                                     'targetRef="Step_09"/><bpmn:endEvent id="Selesai"')),
        [(BPMN, "monev_kegiatan_bidang", "proses harus memiliki tepat satu start event, ada 2")],
        True),
    "timer start event": (
        _bpmn(lambda t: replace_once(t, '<bpmn:startEvent id="Mulai" name="Mulai">',
                                     '<bpmn:startEvent id="Mulai" name="Mulai"><bpmn:timerEventDefinition/>')),
        [(BPMN, "Mulai", "start event dengan timerEventDefinition tidak didukung")],
        True),
    "no end event": (
        _bpmn(lambda t: replace_once(t, '<bpmn:endEvent id="Selesai" name="Selesai">',
                                     '<bpmn:exclusiveGateway id="Selesai" name="Selesai">').replace(
            "<bpmn:incoming>Flow_15_Selesai</bpmn:incoming>\n    </bpmn:endEvent>",
            "<bpmn:incoming>Flow_15_Selesai</bpmn:incoming>\n    </bpmn:exclusiveGateway>")),
        [(BPMN, "monev_kegiatan_bidang", "proses tidak memiliki end event"),
         (BPMN, "Selesai", "exclusiveGateway 'Selesai' tidak memiliki alur keluar")],
        True),
    "two processes in one file": (
        _bpmn(lambda t: replace_once(t, "</bpmn:process>",
                                     '</bpmn:process><bpmn:process id="lain" isExecutable="true" />')),
        [(BPMN, "-", "dokumen memiliki beberapa process (monev_kegiatan_bidang, lain); "
                     "Alur menjalankan satu process per berkas")],
        True),
    "no process at all": (
        _bpmn(lambda t: re.sub(r"<bpmn:process .*</bpmn:process>", "", t, flags=re.S)),
        [(BPMN, "-", "dokumen tidak memiliki process")],
        True),
    "external entity (XXE)": (
        lambda: (_xxe(), SEED_YAML),
        [(BPMN, "-", "deklarasi tipe dokumen (DTD) dan entity tidak diizinkan")],
        True),
    "any DTD at all": (
        lambda: ('<?xml version="1.0"?><!DOCTYPE bpmn:definitions>' + SEED_BPMN.split("?>", 1)[1], SEED_YAML),
        [(BPMN, "-", "deklarasi tipe dokumen (DTD) dan entity tidak diizinkan")],
        True),
    "oversized BPMN": (
        _bpmn(lambda t: replace_once(t, "</bpmn:definitions>",
                                     "<!--" + "x" * bpmn_module.MAX_BPMN_BYTES + "--></bpmn:definitions>")),
        [(BPMN, "-", "berkas lebih dari 2048 KiB")],
        True),
    "oversized YAML": (
        _yaml(lambda t: t + "# " + "x" * 600 * 1024 + "\n"),
        [(YAML, "-", "berkas lebih dari 512 KiB")],
        True),
    "non-BPMN XML root": (
        lambda: ('<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', SEED_YAML),
        [(BPMN, "-", "bukan dokumen BPMN 2.0 (elemen akarnya harus bpmn:definitions)")],
        True),
    "definitions in another namespace": (
        _bpmn(lambda t: t.replace("http://www.omg.org/spec/BPMN/20100524/MODEL", "http://example.org/bpmn")),
        [(BPMN, "-", "bukan dokumen BPMN 2.0")],
        True),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_definition(case):
    make, expected, only = BROKEN[case]
    found = problems_of(*make())
    for file, element, *fragments in expected:
        find(found, file, element, *fragments)
    if only:
        assert len(found) == len(expected), "unexpected extra problems:\n" + "\n".join(map(str, found))


def test_a_timer_left_in_its_steps_old_lane_too_is_not_a_problem():
    """bpmn-js lists a step's timer in the lane the step was moved out of as well: the timer goes with its step."""
    text = replace_once(SEED_BPMN, "        <bpmn:flowNodeRef>Step_06</bpmn:flowNodeRef>\n",
                        "        <bpmn:flowNodeRef>Step_06</bpmn:flowNodeRef>\n"
                        "        <bpmn:flowNodeRef>Timer_04</bpmn:flowNodeRef>\n")
    assert load_texts(text).step(4).lane.role == "teknis"


def test_default_flow_needs_no_condition():
    text = replace_once(_no_condition(SEED_BPMN), '<bpmn:exclusiveGateway id="Gateway_05" name="Terverifikasi?">',
                        '<bpmn:exclusiveGateway id="Gateway_05" name="Terverifikasi?" default="Flow_05_Tidak">')
    decision = load_texts(text).step(5).decision
    assert ("Flow_05_Tidak", "Tidak", None, "Step_03") in decision.outcomes


def test_billion_laughs_is_refused_quickly():
    text = _billion_laughs()
    started = time.process_time()  # CPU time: a busy machine stretches wall time, not this
    found = problems_of(text)
    elapsed = time.process_time() - started
    assert found == [Problem(BPMN, "-", "deklarasi tipe dokumen (DTD) dan entity tidak diizinkan")]
    assert elapsed < 1.0


def test_external_entity_is_not_read():
    found = problems_of(_xxe())
    assert not any("root:" in str(p) for p in found)  # /etc/passwd's first line


def test_yaml_aliases_are_refused_quickly():
    # The YAML "billion laughs" in a header field: seven levels of alias, 10**7 strings
    # for the header code to walk once expanded (nine levels would be 10**9).
    levels = ["    - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"] + [
        f"    - &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    text, n = re.subn(r"  peringatan:\n(    - .*\n)+", "  peringatan:\n" + "\n".join(levels) + "\n", SEED_YAML)
    assert n == 1
    started = time.process_time()
    found = problems_of(yaml_text=text)
    assert time.process_time() - started < 1.0
    line = _yaml_line(text, levels[1])
    assert found == [Problem(YAML, f"line {line}", "YAML rusak: alias (*a0) tidak diizinkan")]


def test_recursive_yaml_is_refused():
    text = replace_once(SEED_YAML, 'nomor: "000.8.3.3/327"', "nomor: &x [*x]")
    find(problems_of(yaml_text=text), YAML, "line 6", "alias (*x) tidak diizinkan")


def test_several_problems_are_all_reported():
    text = SEED_BPMN
    text = replace_once(text, "<bpmn:flowNodeRef>Step_04</bpmn:flowNodeRef>", "")
    text = _no_condition(text)
    text = replace_once(text, ">PT120M<", ">PT30X<")
    text = replace_once(text, 'id="Timer_09" name="5 Menit" cancelActivity="false"',
                        'id="Timer_09" name="5 Menit" cancelActivity="true"')
    text = replace_once(text, "ada_kendala == True", "kendala == True")
    text = replace_once(text, '<bpmn:endEvent id="Selesai"',
                        '<bpmn:scriptTask id="Script_1"><bpmn:script>1</bpmn:script></bpmn:scriptTask>'
                        '<bpmn:endEvent id="Selesai"')
    yaml_text = replace_once(SEED_YAML, "type: number, min: 0, whole: true}", "type: angka}") + "  16:\n    output: x\n"
    with pytest.raises(DefinitionError) as caught:
        load_texts(text, yaml_text)
    found = caught.value.problems
    expected = [
        (BPMN, "Step_04", "tidak berada di lane mana pun"),
        (BPMN, "Flow_05_Tidak", "tanpa kondisi"),
        (BPMN, "Timer_06", "durasi 'PT30X' tidak terbaca"),
        (BPMN, "Timer_09", "non-interrupting"),
        (BPMN, "Flow_12_Ya", "kondisi membaca 'kendala'"),
        (BPMN, "Script_1", "script task tidak diizinkan"),
        (YAML, "steps.3.form.jumlah_penerima_manfaat", "jenis isian 'angka' tidak dikenal"),
        (YAML, "steps.16", "tidak ada langkah 16 pada diagram"),
    ]
    for file, element, fragment in expected:
        find(found, file, element, fragment)
    assert len(found) == len(expected), "\n".join(map(str, found))
    # one line per problem, in the FILE: ELEMENT: message form
    lines = str(caught.value).splitlines()
    assert lines == [f"{p.file}: {p.element}: {p.message}" for p in found]


def test_yaml_of_a_step_with_a_diagram_problem_is_still_checked():
    # Step 4 has a diagram problem (no lane); its YAML form is checked in the same pass.
    text = replace_once(SEED_BPMN, "<bpmn:flowNodeRef>Step_04</bpmn:flowNodeRef>", "")
    yaml_text = replace_once(SEED_YAML, "{name: hasil_verifikasi, label: Hasil pemeriksaan, type: text",
                             "{name: hasil_verifikasi, label: Hasil pemeriksaan, type: teks")
    found = problems_of(text, yaml_text)
    find(found, BPMN, "Step_04", "tidak berada di lane mana pun")
    find(found, YAML, "steps.4.form.hasil_verifikasi", "jenis isian 'teks' tidak dikenal")
    assert len(found) == 2


def test_known_roles_can_be_configured():
    text = replace_once(SEED_BPMN, 'alur:role="teknis"', 'alur:role="keuangan"')
    roles = (*LANE_ROLES, "keuangan")
    assert load(text, SEED_YAML, known_roles=roles).step(4).lane.role == "keuangan"


def test_problem_str():
    assert str(Problem("a.bpmn", "Step_01", "salah")) == "a.bpmn: Step_01: salah"


# ---------------------------------------------------------------------------------
# Files: load_file and validate_paths
# ---------------------------------------------------------------------------------

@pytest.fixture
def copy(tmp_path) -> tuple[Path, Path]:
    bpmn_path = tmp_path / "monev.bpmn"
    yaml_path = tmp_path / "monev.yaml"
    shutil.copyfile(SEED_BPMN_PATH, bpmn_path)
    shutil.copyfile(SEED_YAML_PATH, yaml_path)
    return bpmn_path, yaml_path


def test_validate_paths_on_the_seed():
    assert validate_paths([SEED_BPMN_PATH, SEED_YAML_PATH]) == []


def test_validate_paths_on_a_yaml_path_checks_its_bpmn(copy):
    bpmn_path, yaml_path = copy
    bpmn_path.write_text(replace_once(SEED_BPMN, ">PT120M<", ">PT30X<"), encoding="utf-8")
    found = validate_paths([yaml_path])
    assert found == [Problem(str(bpmn_path), "Timer_06", found[0].message)]
    assert "durasi 'PT30X' tidak terbaca" in found[0].message
    # Both files of one definition are checked once, not twice.
    assert validate_paths([bpmn_path, yaml_path]) == found


def test_validate_paths_names_the_yaml_file(copy):
    bpmn_path, yaml_path = copy
    yaml_path.write_text(SEED_YAML + "  16:\n    output: x\n", encoding="utf-8")
    assert validate_paths([bpmn_path]) == [Problem(str(yaml_path), "steps.16", "tidak ada langkah 16 pada diagram")]


def test_validate_paths_missing_file(tmp_path):
    missing = tmp_path / "tidak_ada.bpmn"
    assert validate_paths([missing]) == [Problem(str(missing), "-", "berkas tidak ditemukan")]
    assert validate_paths([tmp_path / "tidak_ada.yaml"]) == [
        Problem(str(tmp_path / "tidak_ada.yaml"), "-", "berkas tidak ditemukan")]


def test_validate_paths_on_a_directory_is_a_problem_not_a_crash(tmp_path):
    folder = tmp_path / "definitions"
    folder.mkdir()
    [problem] = validate_paths([folder])
    assert (problem.file, problem.element) == (str(folder), "-")
    assert "berkas tidak dapat dibaca" in problem.message


def test_load_file_without_yaml_reports_the_missing_forms(copy):
    bpmn_path, yaml_path = copy
    yaml_path.unlink()
    with pytest.raises(DefinitionError) as caught:
        load_file(bpmn_path)
    # Without the YAML no form provides the decisions' data.
    find(caught.value.problems, str(bpmn_path), "Flow_05_Ya", "kondisi membaca 'terverifikasi'")


def test_load_file_reads_latin1(copy):
    bpmn_path, _ = copy
    text = SEED_BPMN.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace(
        'name="Mulai">', 'name="Mulai \xe9">', 1)
    bpmn_path.write_bytes(text.encode("latin-1"))
    definition = load_file(bpmn_path)
    assert definition.key == "monev_kegiatan_bidang"
    # The text is stored and parsed again as UTF-8: its names stay as written, not mojibake ('Mulai Ã©').
    assert bpmn_module.read_graph(definition.bpmn_xml).nodes["Mulai"].name == "Mulai \xe9"
    assert definition.name == load(definition.bpmn_xml, definition.yaml_text).name


@pytest.mark.parametrize("encoding", ["UTF-16", "UTF-8", "UTF-32"])  # UTF-32's mark begins as UTF-16's does
def test_load_file_reads_the_encoding_the_file_declares_with_its_byte_order_mark(copy, encoding):
    bpmn_path, _ = copy
    text = SEED_BPMN.replace('encoding="UTF-8"', f'encoding="{encoding}"').replace(
        'name="Mulai">', 'name="Mulai \u2013 \xe9">', 1)
    bpmn_path.write_bytes(text.encode(encoding.lower().replace("utf-8", "utf-8-sig")))
    definition = load_file(bpmn_path)
    assert bpmn_module.read_graph(definition.bpmn_xml).nodes["Mulai"].name == "Mulai \u2013 \xe9"


def test_a_file_that_is_not_text_in_its_declared_encoding_is_a_problem(copy):
    bpmn_path, _ = copy
    bpmn_path.write_bytes(SEED_BPMN.replace('name="Mulai">', 'name="Mulai \xe9">', 1).encode("latin-1"))
    [problem] = validate_paths([bpmn_path])
    assert (problem.file, problem.element) == (str(bpmn_path), "-")
    assert "berkas bukan teks UTF-8 yang sah" in problem.message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_a_yaml_file_with_a_byte_order_mark_is_read_as_the_editors_upload_reads_it(copy, encoding):
    """Marked UTF-16 or UTF-32 (Notepad's "Unicode") was taken by the editor's upload and refused here."""
    bpmn_path, yaml_path = copy
    text = yaml_path.read_text(encoding="utf-8")
    yaml_path.write_bytes(text.encode(encoding))
    assert load_file(bpmn_path).yaml_text == text


def test_a_yaml_that_is_not_utf8_is_a_problem_not_read_as_latin1(copy):
    """YAML declares no encoding: a Windows-1252 file was read as Latin-1, its curly quotes garbled
    without a word, where the editor's upload refuses it. (A byte-order mark says its encoding.)"""
    bpmn_path, yaml_path = copy
    yaml_path.write_bytes(yaml_path.read_bytes() + b"\n# \x93kutipan\x94 dari Word\n")
    [problem] = validate_paths([bpmn_path])
    assert (problem.file, problem.element) == (str(yaml_path), "-")
    assert "berkas harus berupa teks UTF-8" in problem.message
    with pytest.raises(DefinitionError):
        load_file(bpmn_path)


# ---------------------------------------------------------------------------------
# Robustness: exotic input is loaded or refused with DefinitionError, nothing else
# ---------------------------------------------------------------------------------

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_1" '
        'targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.20.0">')
TAIL = "</bpmn:definitions>"


def _simple_process(pid: str = "Process_1", executable: str = "true", inner: str = "") -> str:
    return (f'<bpmn:process id="{pid}" isExecutable="{executable}">'
            f'<bpmn:startEvent id="{pid}_start"><bpmn:outgoing>{pid}_f1</bpmn:outgoing></bpmn:startEvent>'
            f'<bpmn:userTask id="{pid}_task" name="Periksa">{inner}<bpmn:incoming>{pid}_f1</bpmn:incoming>'
            f'<bpmn:outgoing>{pid}_f2</bpmn:outgoing></bpmn:userTask>'
            f'<bpmn:endEvent id="{pid}_end"><bpmn:incoming>{pid}_f2</bpmn:incoming></bpmn:endEvent>'
            f'<bpmn:sequenceFlow id="{pid}_f1" sourceRef="{pid}_start" targetRef="{pid}_task"/>'
            f'<bpmn:sequenceFlow id="{pid}_f2" sourceRef="{pid}_task" targetRef="{pid}_end"/>'
            "</bpmn:process>")


EXOTIC = {
    "empty string": ("", "XML rusak"),
    "whitespace": ("  \n\t", "XML rusak"),
    "random bytes": (bytes(range(256)).decode("latin-1") * 4, "XML rusak"),
    "a NUL byte": ("\x00", "XML rusak"),
    "JSON": ('{"definitions": []}', "XML rusak"),
    "YAML in the BPMN slot": (SEED_YAML, "XML rusak"),
    "BPMN without lanes (bpmn.io)": (HEAD + _simple_process() + TAIL, "tidak berada di lane mana pun"),
    "collaboration of two participants": (
        HEAD + '<bpmn:collaboration id="C"><bpmn:participant id="P1" processRef="A"/>'
               '<bpmn:participant id="P2" processRef="B"/><bpmn:messageFlow id="M" sourceRef="A_task" '
               'targetRef="B_task"/></bpmn:collaboration>' + _simple_process("A") + _simple_process("B") + TAIL,
        "beberapa process (A, B)"),
    "collaboration with one executable process": (
        HEAD + '<bpmn:collaboration id="C"><bpmn:participant id="P1" processRef="A"/>'
               '<bpmn:participant id="P2" processRef="B"/></bpmn:collaboration>'
        + _simple_process("A") + _simple_process("B", executable="false") + TAIL,
        "user task 'Periksa' tidak berada di lane mana pun"),
    "camunda:formField extension": (
        HEAD + _simple_process(inner='<bpmn:extensionElements><camunda:formData><camunda:formField id="nama" '
                                     'label="Nama" type="string"/></camunda:formData></bpmn:extensionElements>')
        + TAIL, "belum memiliki mutu baku waktu"),
    "intermediate timer event": (
        HEAD + '<bpmn:process id="P" isExecutable="true"><bpmn:startEvent id="s"/>'
               '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H'
               '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent><bpmn:endEvent id="e"/>'
               '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait"/>'
               '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="e"/></bpmn:process>' + TAIL,
        "intermediateCatchEvent tidak didukung"),
    "parallel gateway": (
        HEAD + '<bpmn:process id="P" isExecutable="true"><bpmn:startEvent id="s"/>'
               '<bpmn:parallelGateway id="fork"/><bpmn:endEvent id="e"/>'
               '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="fork"/>'
               '<bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="e"/></bpmn:process>' + TAIL,
        "parallelGateway tidak didukung"),
    "boundary error event": (
        HEAD + _simple_process("P").replace(
            "</bpmn:process>", '<bpmn:boundaryEvent id="err" attachedToRef="P_task">'
                               '<bpmn:errorEventDefinition/></bpmn:boundaryEvent></bpmn:process>') + TAIL,
        "hanya timer boundary event (mutu baku waktu langkah) yang didukung"),
    "boundary timer on nothing": (
        HEAD + _simple_process("P").replace(
            "</bpmn:process>", '<bpmn:boundaryEvent id="t" cancelActivity="false" attachedToRef="nope">'
                               '<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>'
                               '</bpmn:timerEventDefinition></bpmn:boundaryEvent></bpmn:process>') + TAIL,
        "timer boundary event harus menempel pada user task"),
    "elements without ids": (
        HEAD + '<bpmn:process><bpmn:startEvent/><bpmn:userTask/><bpmn:userTask/><bpmn:sequenceFlow/>'
               '<bpmn:laneSet><bpmn:lane><bpmn:flowNodeRef/></bpmn:lane></bpmn:laneSet></bpmn:process>' + TAIL,
        None),
    "nested lanes": (
        HEAD + _simple_process("P").replace(
            '<bpmn:startEvent', '<bpmn:laneSet id="ls"><bpmn:lane id="outer" name="Sekretaris">'
                                '<bpmn:childLaneSet id="cls"><bpmn:lane id="inner" name="Tim Teknis">'
                                '<bpmn:flowNodeRef>P_task</bpmn:flowNodeRef></bpmn:lane></bpmn:childLaneSet>'
                                '</bpmn:lane></bpmn:laneSet><bpmn:startEvent', 1) + TAIL,
        "belum memiliki mutu baku waktu"),
    "comments and processing instructions": (
        HEAD + "<!-- c --><?pi x?>" + _simple_process() + TAIL, "tidak berada di lane mana pun"),
    "end event with a message": (
        HEAD + _simple_process("P").replace('<bpmn:endEvent id="P_end">',
                                            '<bpmn:endEvent id="P_end"><bpmn:messageEventDefinition/>') + TAIL,
        "end event dengan messageEventDefinition tidak didukung"),
}


@pytest.mark.parametrize("case", EXOTIC)
def test_exotic_input_is_loaded_or_refused_cleanly(case):
    text, fragment = EXOTIC[case]
    try:
        load_texts(text, "")
    except DefinitionError as err:
        if fragment is not None:
            assert any(fragment in p.message for p in err.problems), "\n".join(map(str, err.problems))
    else:
        assert fragment is None, f"expected a problem containing {fragment!r}"


# Random mutations of the seed: delete an element or an attribute, or change a text or an attribute.
SEED_ELEMENTS = sum(1 for e in etree.fromstring(SEED_BPMN.encode()).iter() if isinstance(e.tag, str))
VALUES = st.sampled_from(["", "x", "0", "-1", "true", "false", "P0D", "PT30X", "Step_01", "Timer_01", "Gateway_05",
                          "Flow_05_Ya", "Lane_Teknis", "__import__('os')", "a == 1", "terverifikasi", "\u00e9", " "])
MUTATION = st.tuples(st.sampled_from(["delete element", "delete attribute", "set attribute", "set text"]),
                     st.integers(min_value=0, max_value=SEED_ELEMENTS - 1), st.integers(min_value=0, max_value=20),
                     VALUES)


def _mutate(mutations) -> str:
    root = etree.fromstring(SEED_BPMN.encode())
    for op, position, index, value in mutations:
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        element = elements[position % len(elements)]  # document order; shifts as elements go
        names = sorted(element.attrib)
        if op == "delete element" and element.getparent() is not None:
            element.getparent().remove(element)
        elif op == "delete attribute" and names:
            del element.attrib[names[index % len(names)]]
        elif op == "set attribute" and names:
            element.set(names[index % len(names)], value)
        elif op == "set text":
            element.text = value
    return etree.tostring(root, encoding="unicode")


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(MUTATION, min_size=1, max_size=4))
def test_mutated_seed_bpmn_is_loaded_or_refused_cleanly(mutations):
    text = _mutate(mutations)
    try:
        load_texts(text)
    except DefinitionError as err:
        assert err.problems and all(isinstance(p, Problem) and p.message for p in err.problems)


YAML_SNIPPETS = st.sampled_from([
    "", "- x", "x: [", "x: {", "  nomor: &a [*a]", "steps: 5", "steps: {1: 5}", "steps: {1: {form: 5}}",
    "steps: {1: {form: [5]}}", "steps: {1: {form: [{name: X}]}}", "steps: {abc: {}}", "counting: {days: x}",
    "counting: 5", "sop: 5", "sop: {nomor: !!binary aGVsbG8=}", "  tanggal_revisi: 2025-02-30",
    "    - {name: a, type: choice, choices: x}", "    - {name: a, type: choice, choices: [[1]]}",
    "\t", "? [a]\n: b", "x: !!python/object:os.system ls", "x: !!int abc", "x: !!float y", "%YAML 9.9", "---\n---",
    "    counting: {days: kalender}", "    form: 7", "  1: [a]", "  99:", "\x00",
])


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=400), st.booleans(), YAML_SNIPPETS),
                min_size=1, max_size=3))
def test_mutated_seed_yaml_is_loaded_or_refused_cleanly(edits):
    lines = SEED_YAML.splitlines()
    for index, replace, snippet in edits:
        at = index % (len(lines) + 1)
        if replace and at < len(lines):
            lines[at] = snippet
        else:
            lines.insert(at, snippet)
    try:
        load_texts(SEED_BPMN, "\n".join(lines))
    except DefinitionError as err:
        assert err.problems and all(p.file in (BPMN, YAML) for p in err.problems)


@pytest.mark.parametrize("bad", ["rencana_kegiatan", "tidak_ada", "tanggal_selesai"])
def test_not_before_names_another_date_field_of_the_same_form(bad):
    yaml_text = replace_once(SEED_YAML, "not_before: tanggal_mulai}", f"not_before: {bad}}}")
    find(problems_of(yaml_text=yaml_text), "sop.yaml", "steps.1.form.tanggal_selesai",
         "not_before harus menyebut isian date lain")


def test_the_seed_refuses_an_end_of_implementation_before_its_start(seed):
    form = seed.step(1).form
    assert [f.not_before for f in form.fields if f.name == "tanggal_selesai"] == ["tanggal_mulai"]


# -- warnings: gateways that may refuse the step before them at completion time -------------

def warnings_of(bpmn_text: str = SEED_BPMN, yaml_text: str = SEED_YAML) -> list[Problem]:
    load_texts(bpmn_text, yaml_text)  # a warning does not stop loading
    problems = loader_problems_of(bpmn_text, yaml_text, bpmn_name=BPMN, yaml_name=YAML)
    assert all(p.severity == "warning" for p in problems), problems
    return problems


def with_condition(old: str, new: str, text: str = SEED_BPMN) -> str:
    return replace_once(text, f">{old}<", f">{new}<")


def test_the_seed_has_no_warnings_its_gateways_answer_every_yes_or_no():
    assert warnings_of() == []
    assert validate_paths([SEED_BPMN_PATH]) == []


def test_a_gateway_without_a_default_whose_conditions_may_all_be_false_is_warned():
    [warning] = warnings_of(with_condition("terverifikasi == False", "terverifikasi == False and 1 == 2"))
    assert (warning.file, warning.element) == (BPMN, "Gateway_05")
    assert warning.message == ("percabangan Terverifikasi? tidak memiliki alur bawaan: bila tidak ada kondisinya yang "
                               "terpenuhi, langkah sebelumnya ditolak saat diselesaikan; tetapkan alur bawaan")
    assert str(warning) == f"{BPMN}: Gateway_05: peringatan: {warning.message}"



def test_a_timer_named_as_another_standard_time_than_its_duration_is_warned():
    """Camunda Modeler changes a timer's duration and leaves its name: the diagrams (editor, activity page)
    then show "30 Menit" beside a step that runs, and is documented, with 45."""
    changed = replace_once(SEED_BPMN, '"TimerDef_03">\n        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT30M',
                           '"TimerDef_03">\n        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT45M')
    [warning] = warnings_of(changed)
    assert (warning.file, warning.element) == (BPMN, "Timer_03")
    assert warning.message == ("timer ini bernama '30 Menit', tetapi durasinya 45 Menit: diagram menampilkan nama "
                               "itu; samakan namanya dengan mutu baku waktunya")
    # The same length written otherwise, or a name that is no standard time, is not warned about.
    assert warnings_of(replace_once(SEED_BPMN, 'name="120 Menit"', 'name="2 Jam"')) == []
    assert warnings_of(replace_once(SEED_BPMN, '"Timer_15" name="7 Hari"', '"Timer_15" name="7 Hari Kerja"')) == []
    assert warnings_of(replace_once(SEED_BPMN, '"Timer_03" name="30 Menit"', '"Timer_03" name="Batas waktu"')) == []

def test_a_decisions_branch_without_a_name_is_warned():
    """The SOP document labels a decision's arrows with their flows' names ("Ya", "Tidak"): a branch drawn
    without one is an arrow nobody can read on paper."""
    [warning] = warnings_of(replace_once(SEED_BPMN, 'id="Flow_05_Tidak" name="Tidak"', 'id="Flow_05_Tidak"'))
    assert (warning.file, warning.element) == (BPMN, "Flow_05_Tidak")
    assert warning.message == ("cabang keputusan langkah 5 belum bernama: dokumen SOP menggambar panahnya tanpa "
                               "label; beri nama Ya atau Tidak")


@pytest.mark.parametrize("field,choices,conditions,warned", [
    # A required choice: each choice routed, or one of them left out.
    ("capaian", "[Sesuai rencana, Sebagian]", ("capaian == 'Sesuai rencana'", "capaian != 'Sesuai rencana'"), False),
    ("capaian", "[Sesuai rencana, Sebagian]", ("capaian == 'Sesuai rencana'", "capaian == 'Lainnya'"), True),
    ("capaian", "[Sesuai rencana, Sebagian]", ("capaian in ['Sesuai rencana', 'Sebagian']", "False"), False),
])
def test_a_required_choice_is_tried_with_each_of_its_choices(field, choices, conditions, warned):
    yaml_text = replace_once(SEED_YAML, '{name: terverifikasi, label: "Hasil kegiatan dan layanan terverifikasi?", '
                                        'type: boolean, required: true}',
                             f"{{name: {field}, label: Capaian, type: choice, required: true, choices: {choices}}}")
    text = with_condition("terverifikasi == False", conditions[1],
                          with_condition("terverifikasi == True", conditions[0]))
    assert [w.element for w in warnings_of(text, yaml_text)] == (["Gateway_05"] if warned else [])


def test_a_default_flow_settles_the_gateway():
    text = replace_once(with_condition("terverifikasi == False", "terverifikasi == False and 1 == 2"),
                        '<bpmn:exclusiveGateway id="Gateway_05" name="Terverifikasi?">',
                        '<bpmn:exclusiveGateway id="Gateway_05" name="Terverifikasi?" default="Flow_05_Tidak">')
    assert warnings_of(text) == []


def test_a_condition_reading_an_optional_field_of_the_step_before_is_warned():
    text = with_condition("terverifikasi == True", "terverifikasi == True and catatan != 'x'")
    warnings = warnings_of(text)
    [optional] = [w for w in warnings if w.element == "Flow_05_Ya"]
    assert optional.message == ("kondisi membaca catatan, yang tidak wajib diisi pada langkah 5: bila dikosongkan, "
                                "langkah itu ditolak saat diselesaikan; jadikan isian itu wajib atau ubah kondisinya")
    assert optional.message.template.startswith("kondisi membaca %(field)s")  # translatable in the editor
    # Reading a free-text field, the conditions are not shown to cover every answer either.
    assert [w.element for w in warnings if w is not optional] == ["Gateway_05"]


@pytest.mark.parametrize("condition,warned", [
    ("terverifikasi == True and 120 > 1.000", ["1.000"]),   # an Indonesian thousand: Python reads one
    ("terverifikasi == True and 3 > 12.345", ["12.345"]),
    ("terverifikasi == True and 3 > 2.5", []),              # plainly a decimal
    ("terverifikasi == True and 3 > 0.125", []),            # nobody writes a thousand as 0.125
    ("terverifikasi == True and 'x' != '1.000'", []),       # text, not a number
])
def test_a_number_written_with_a_thousands_dot_in_a_condition_is_warned(condition, warned):
    warnings = [w for w in warnings_of(with_condition("terverifikasi == True", condition)) if w.element == "Flow_05_Ya"]
    assert [w.message.values["number"] for w in warnings] == warned
    for w in warnings:
        assert "untuk ribuan tulis " + w.message.values["number"].replace(".", "") in w.message


def test_a_condition_reading_the_field_once_it_is_required_is_not_warned():
    text = with_condition("terverifikasi == True", "terverifikasi == True and catatan != 'x'")
    yaml_text = replace_once(SEED_YAML, "{name: catatan, label: Catatan verifikasi, type: text}",
                             "{name: catatan, label: Catatan verifikasi, type: text, required: true}")
    assert [w.element for w in warnings_of(text, yaml_text)] == ["Gateway_05"]


def test_a_gateway_after_a_step_left_out_for_an_error_is_not_warned_as_well():
    text = replace_once(SEED_BPMN, 'alur:role="teknis"', 'alur:role="keuangan"')  # steps 4 and 5 are left out
    problems = loader_problems_of(text, SEED_YAML, bpmn_name=BPMN, yaml_name=YAML)
    assert problems and all(p.severity == "error" for p in problems)


def test_validate_paths_lists_warnings_after_errors(tmp_path):
    bpmn_path = tmp_path / "sop.bpmn"
    bpmn_path.write_text(with_condition("terverifikasi == False", "terverifikasi == False and 1 == 2"),
                         encoding="utf-8")
    shutil.copyfile(SEED_YAML_PATH, tmp_path / "sop.yaml")
    [warning] = validate_paths([bpmn_path])
    assert (warning.element, warning.severity) == ("Gateway_05", "warning")


@pytest.mark.parametrize("revised,warned", [("2025-05-20", True), ("2025-05-21", False), ("2025-05-22", False)])
def test_a_revision_dated_before_the_sop_was_made_is_warned(revised, warned):
    """A file still loads (a stored version so written must), but `alur validate` and the editor say it;
    the header editor refuses it (tests/unit/test_sop_document.py)."""
    yaml_text = replace_once(SEED_YAML, "tanggal_revisi: 2025-05-22", f"tanggal_revisi: {revised}")
    assert load_texts(SEED_BPMN, yaml_text).header["tanggal_revisi"] == revised
    found = [(w.file, w.element, w.message) for w in warnings_of(SEED_BPMN, yaml_text)]
    assert found == ([(YAML, "sop.tanggal_revisi", "tidak boleh sebelum tanggal pembuatan")] if warned else [])


@pytest.mark.parametrize("effective,warned", [("2020-01-01", True), ("2025-05-21", False)])
def test_an_effective_date_before_the_sop_was_made_is_warned(effective, warned):
    """The header editor's rule (process.sop_document.header_date_problems), said by `alur validate`."""
    yaml_text = replace_once(SEED_YAML, "tanggal_efektif: 2025-05-22", f"tanggal_efektif: {effective}")
    found = [(w.file, w.element, w.message) for w in warnings_of(SEED_BPMN, yaml_text)]
    assert found == ([(YAML, "sop.tanggal_efektif", "tidak boleh sebelum tanggal pembuatan")] if warned else [])


@pytest.mark.parametrize("bad", ["min: nol", "min: .nan", "min: true", "type: text, min: 0",
                                 "min: " + "9" * 400])  # an integer past any float
def test_min_is_a_number_on_a_number_field(bad):
    yaml_text = replace_once(SEED_YAML, "type: number, min: 0, whole: true}", f"type: number, {bad}}}".replace(
        "type: number, type: text", "type: text"))
    find(problems_of(yaml_text=yaml_text), "sop.yaml", "steps.3.form.jumlah_penerima_manfaat",
         "min hanya untuk isian number")


@pytest.mark.parametrize("bad", ["whole: ya", "whole: 1", "type: text, whole: true"])
def test_whole_is_true_or_false_on_a_number_field(bad):
    yaml_text = replace_once(SEED_YAML, "type: number, min: 0, whole: true}", f"type: number, {bad}}}".replace(
        "type: number, type: text", "type: text"))
    find(problems_of(yaml_text=yaml_text), "sop.yaml", "steps.3.form.jumlah_penerima_manfaat",
         "whole hanya untuk isian number")


def test_the_seed_refuses_a_negative_or_fractional_count_of_people_served(seed):
    [served] = [f for f in seed.step(3).form.fields if f.name == "jumlah_penerima_manfaat"]
    assert served.min == 0 and served.whole


@pytest.mark.parametrize("written", ['"false"', '"tidak"', "0", '"ya"'])
def test_required_is_true_or_false(written):
    """A step's `required` written as text or a number was read by its truth: "false" and "tidak" made
    the field required, without a word."""
    yaml_text = replace_once(SEED_YAML, "type: text, required: true}\n      - {name: jumlah_penerima_manfaat",
                             f"type: text, required: {written}}}\n      - {{name: jumlah_penerima_manfaat")
    find(problems_of(yaml_text=yaml_text), "sop.yaml", "steps.3.form.hasil_kegiatan", "required harus true atau false")


def test_a_choice_written_twice_is_refused():
    """The form would offer the same answer twice (and the editor's comma list makes that easy)."""
    yaml_text = replace_once(SEED_YAML, "choices: [Sesuai rencana, Sebagian, Tidak tercapai]",
                             "choices: [Sesuai rencana, Sebagian, Sesuai rencana, 1, '1']")
    find(problems_of(yaml_text=yaml_text), "sop.yaml", "steps.10.form.capaian",
         "pilihan tertulis lebih dari sekali: 1, Sesuai rencana")


@pytest.mark.parametrize("written", ["[Ya, Ya]", "abca", "5"])
def test_choices_left_on_a_field_of_another_type_are_no_problem(written):
    """The editor shows a field's choices only while it is a choice field, and keeps them when it is
    retyped: a text field's leftover choices, unused, were refused as listed twice with no way to
    clear them in the panel (text was read letter by letter), and a number there was a crash."""
    yaml_text = replace_once(SEED_YAML, "type: text, required: true}\n      - {name: jumlah_penerima_manfaat",
                             f"type: text, required: true, choices: {written}}}\n"
                             "      - {name: jumlah_penerima_manfaat")
    assert [p for p in loader_problems_of(SEED_BPMN, yaml_text) if p.severity == "error"] == []


def test_a_stored_version_with_a_flow_from_a_timer_still_loads():
    """Refused since; a version an older Alur deployed so still loads for its running activities."""
    text = replace_once(SEED_BPMN, '<bpmn:sequenceFlow id="Flow_13_14"',
                        '<bpmn:sequenceFlow id="Flow_T" sourceRef="Timer_01" targetRef="Selesai" />'
                        '<bpmn:sequenceFlow id="Flow_13_14"')
    assert load(text, SEED_YAML, stored=True).step(1).element_id == "Step_01"


# -- warnings: step numbers that skip or do not follow the flow ----------------------------------

def renumbered(numbers: dict[int, int], bpmn_text: str = SEED_BPMN, yaml_text: str = SEED_YAML) -> tuple[str, str]:
    """The seed with steps given other numbers ({old: new}), in the diagram and in the YAML's keys."""
    bpmn_text = re.sub(r'alur:step="(\d+)"', lambda m: f'alur:step="{numbers.get(int(m[1]), int(m[1]))}"', bpmn_text)
    steps_at = yaml_text.index("\nsteps:\n")
    steps = re.sub(r"(?m)^  (\d+):$", lambda m: f"  {numbers.get(int(m[1]), int(m[1]))}:", yaml_text[steps_at:])
    return bpmn_text, yaml_text[:steps_at] + steps


def with_step_between_4_and_5(number: int, text: str = SEED_BPMN) -> str:
    """A step drawn between steps 4 and 5 (Tim Teknis) and numbered `number`."""
    text = replace_once(text, "        <bpmn:flowNodeRef>Step_05</bpmn:flowNodeRef>\n",
                        "        <bpmn:flowNodeRef>Step_04b</bpmn:flowNodeRef>\n"
                        "        <bpmn:flowNodeRef>Timer_04b</bpmn:flowNodeRef>\n"
                        "        <bpmn:flowNodeRef>Step_05</bpmn:flowNodeRef>\n")
    text = replace_once(text, '<bpmn:sequenceFlow id="Flow_04_05" sourceRef="Step_04" targetRef="Step_05" />',
                        '<bpmn:sequenceFlow id="Flow_04_05" sourceRef="Step_04" targetRef="Step_04b" />\n'
                        '    <bpmn:sequenceFlow id="Flow_04b_05" sourceRef="Step_04b" targetRef="Step_05" />')
    return replace_once(text, '    <bpmn:userTask id="Step_05"',
                        f'    <bpmn:userTask id="Step_04b" name="Memeriksa dokumen" alur:step="{number}">\n'
                        '      <bpmn:incoming>Flow_04_05</bpmn:incoming><bpmn:outgoing>Flow_04b_05</bpmn:outgoing>\n'
                        '    </bpmn:userTask>\n'
                        '    <bpmn:boundaryEvent id="Timer_04b" name="30 Menit" cancelActivity="false" '
                        'attachedToRef="Step_04b">\n'
                        '      <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT30M'
                        '</bpmn:timeDuration></bpmn:timerEventDefinition>\n'
                        '    </bpmn:boundaryEvent>\n'
                        '    <bpmn:userTask id="Step_05"')


def test_a_gap_in_the_step_numbers_is_warned_at_the_step_after_it():
    """Step 15 removed and 16 left as it was: the SOP document numbered its rows 1…14, 16."""
    [warning] = warnings_of(*renumbered({15: 16}))
    assert (warning.file, warning.element, warning.severity) == (BPMN, "Step_15", "warning")
    assert warning.message == "nomor SOP 16 melompati nomor 15: nomor langkah mestinya 1 sampai 15 tanpa celah"
    [first] = warnings_of(*renumbered({n: n + 2 for n in range(1, 16)}))
    assert (first.element, first.message.values["missing"]) == ("Step_01", "1–2")


def test_a_step_numbered_out_of_the_flows_order_is_warned():
    """A step drawn between steps 4 and 5 and numbered 16 was printed last in the SOP document."""
    [warning] = warnings_of(with_step_between_4_and_5(16))
    assert (warning.element, warning.severity) == ("Step_04b", "warning")
    assert warning.message == ("nomor SOP 16 tidak mengikuti urutan alur: menurut alur dari start event, langkah ini "
                               "adalah langkah ke-5")
    swapped = warnings_of(*renumbered({7: 8, 8: 7}))
    assert [(w.element, w.message.values["position"]) for w in swapped] == [("Step_07", 7)]


def test_numbers_following_the_flow_past_its_loops_and_branches_are_not_warned():
    # The verification sends back to step 3 and "Ada kendala?" skips 13 and 14: neither is out of order.
    text, yaml_text = renumbered({n: n + 1 for n in range(5, 16)})
    assert warnings_of(with_step_between_4_and_5(5, text), yaml_text) == []
