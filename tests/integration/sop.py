"""Walking the seed SOP through the service layer, step by step."""
from __future__ import annotations

from engine import services, worklist

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


def do_step(rt, instance_id: int, step: int, data: dict | None = None, bidang: str = "aptika") -> dict:
    task = open_task(rt, instance_id)
    assert task["step"] == step, f"expected step {step}, instance is at {task['step']}"
    login = performer(step, bidang)
    services.claim(rt, task["id"], login)
    return services.complete(rt, task["id"], login, STEP_DATA.get(step, {}) if data is None else data,
                             files=STEP_FILES.get(step))
