"""Walking the seed SOP through the service layer, step by step.

The seed SOP exists twice: hand-made in definitions/, and imported from the
seed's PDF text with the lane assignment of READING.md as answers
(`deploy_imported_seed`). Both must run the same paths; only their forms
differ (the import knows only the decisions' answers and the documents
its Kelengkapan names), so each variant has its own step data.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from engine import services, worklist
from process.loader import load
from process.sop_import import import_sop

DATA = Path(__file__).resolve().parents[1] / "data"
SEED_TEXT = DATA / "seed_sop.txt"
SEED_ANSWERS = DATA / "seed_answers.yaml"
SEED_KEY = "monev_kegiatan_bidang"

# Valid form data for every step of the seed SOP.
STEP_DATA = {
    1: {"rencana_kegiatan": "Rencana layanan email", "tanggal_mulai": "2026-03-02", "tanggal_selesai": "2026-03-31"},
    2: {"uraian_pelaksanaan": "Dilaksanakan sesuai juknis"},
    3: {"hasil_kegiatan": "120 akun email dibuat", "jumlah_penerima_manfaat": 120},
    4: {"hasil_verifikasi": "Diperiksa"},
    6: {"data_dikumpulkan": "Data akun"},
    7: {"data_diberikan": "Rekap akun"},
    8: {"ringkasan_input": "Diinput"},
    9: {"data_lengkap": True},
    10: {"capaian": "Sesuai rencana"},
    11: {"hasil_evaluasi": "Baik"},
    13: {"analisa_permasalahan": "Server penuh", "solusi": "Tambah kapasitas"},
    14: {},
    15: {"kesimpulan": "Tercapai"},
}
STEP_FILES = {
    14: {"laporan_solusi": ("laporan-solusi.pdf", b"%PDF-1.4 solusi")},
    15: {"laporan_evaluasi": ("laporan-evaluasi.pdf", b"%PDF-1.4 evaluasi")},
}


# The imported seed's forms: the two decisions, and optional file fields only.
IMPORTED_STEP_DATA: dict[int, dict] = {}
IMPORTED_STEP_FILES: dict[int, dict] = {}


def imported_seed():
    """The seed SOP imported from its PDF text, READING.md's lanes given as answers."""
    answers = yaml.safe_load(SEED_ANSWERS.read_text(encoding="utf-8"))
    return import_sop(SEED_TEXT.name, SEED_TEXT.read_bytes(), key=SEED_KEY, answers=answers)


def deploy_imported_seed(rt) -> None:
    """Deploy the imported seed as the newest version of the seed's key: new instances run it."""
    result = imported_seed()
    deployed = services.deploy(rt, load(result.bpmn_xml, result.yaml_text), "import")
    assert deployed.created and deployed.version == 2, deployed


def performer(step: int, bidang: str) -> str:
    if step in (1, 2, 3, 7):
        return f"{bidang}.implementasi"
    if step in (4, 5):
        return f"{bidang}.teknis"
    if step in (6, 8):
        return f"{bidang}.administrasi"
    return "sekretaris"


def open_task(rt, instance_id: int) -> dict:
    [task] = worklist.tasks(rt, instance_id=instance_id)
    return task


def do_step(rt, instance_id: int, step: int, data: dict | None = None, bidang: str = "aptika",
            imported: bool = False) -> dict:
    task = open_task(rt, instance_id)
    assert task["step"] == step, f"expected step {step}, instance is at {task['step']}"
    login = performer(step, bidang)
    services.claim(rt, task["id"], login)
    step_data, step_files = (IMPORTED_STEP_DATA, IMPORTED_STEP_FILES) if imported else (STEP_DATA, STEP_FILES)
    return services.complete(rt, task["id"], login, step_data.get(step, {}) if data is None else data,
                             files=step_files.get(step))


def nested_lanes(bpmn: str, parent: str = "Diskominfo") -> str:
    """The seed's four lanes as child lanes of one parent lane, as Camunda Modeler and bpmn-js draw them.

    The parent lists every node its children list (bpmn-js does so) and has its own shape, 30 units
    wide on the left, where the children's shapes begin."""
    head, rest = bpmn.split('<bpmn:laneSet id="LaneSet_monev">\n', 1)
    lanes, tail = rest.split("    </bpmn:laneSet>\n", 1)
    refs = "".join(f"        <bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>\n"
                   for ref in re.findall(r"<bpmn:flowNodeRef>([^<]+)</bpmn:flowNodeRef>", lanes))
    children = "".join(f"    {line}\n" for line in lanes.splitlines())
    wrapped = (f'<bpmn:laneSet id="LaneSet_monev">\n      <bpmn:lane id="Lane_{parent}" name="{parent}">\n{refs}'
               f'        <bpmn:childLaneSet id="LaneSet_{parent}">\n{children}        </bpmn:childLaneSet>\n'
               f"      </bpmn:lane>\n    </bpmn:laneSet>\n")
    shape = re.compile(r'(<bpmndi:BPMNShape id="Lane_\w+_di" bpmnElement="Lane_\w+" isHorizontal="true">\s*'
                       r'<dc:Bounds) x="190" (y="\d+") width="2940"')
    diagram, n = shape.subn(r'\1 x="220" \2 width="2910"', tail)
    assert n == 4, "the seed's lanes are drawn elsewhere now"
    first = diagram.index('      <bpmndi:BPMNShape id="Lane_')
    parent_shape = (f'      <bpmndi:BPMNShape id="Lane_{parent}_di" bpmnElement="Lane_{parent}" isHorizontal="true">\n'
                    f'        <dc:Bounds x="190" y="80" width="2940" height="680" />\n      </bpmndi:BPMNShape>\n')
    return head + wrapped + diagram[:first] + parent_shape + diagram[first:]
