"""`alur import` as a user runs it: questions printed, answers applied, the result validated and deployed."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.sop import SEED_ANSWERS, SEED_TEXT

ALUR = Path(sys.executable).parent / "alur"


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
    env.update(ALUR_DATA_DIR=str(tmp_path / "data"), ALUR_DATABASE_URL=f"sqlite:///{tmp_path / 'alur.db'}")
    return subprocess.run([str(ALUR), *args], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)


def test_import_prints_questions_and_validate_names_them_until_answered(tmp_path):
    out = tmp_path / "out"
    first = run(tmp_path, "import", str(SEED_TEXT), "--out", str(out), "--key", "monev_impor")
    assert first.returncode == 0, first.stderr
    assert f"{out / 'monev_impor.bpmn'} dan {out / 'monev_impor.yaml'} ditulis: 15 langkah, 4 Pelaksana" in first.stdout
    assert "14 pertanyaan terbuka" in first.stdout
    assert "  Gateway_12.tidak: Keputusan pada langkah 12 ('Apakah hasil evaluasi" in first.stdout
    check = run(tmp_path, "validate", str(out / "monev_impor.bpmn"))
    assert check.returncode == 1
    assert f"{out / 'monev_impor.yaml'}: Gateway_12: pertanyaan terbuka Gateway_12.tidak:" in check.stdout

    second = run(tmp_path, "import", str(SEED_TEXT), "--out", str(out), "--key", "monev_impor",
                 "--answers", str(SEED_ANSWERS))
    assert second.returncode == 0 and "tidak ada pertanyaan terbuka" in second.stdout, second.stdout + second.stderr
    assert run(tmp_path, "validate", str(out / "monev_impor.bpmn")).stdout.strip() == "ok: 1 berkas"
    assert run(tmp_path, "init").returncode == 0
    deployed = run(tmp_path, "deploy", str(out / "monev_impor.bpmn"))
    assert deployed.returncode == 0 and deployed.stdout.strip() == "monev_impor v1 (di-deploy)", deployed.stderr


def test_import_errors_are_one_line_naming_the_row_and_write_nothing(tmp_path):
    source = tmp_path / "rusak.csv"
    source.write_text("No,Uraian Prosedur,Tim Teknis,Kelengkapan,Waktu,Output\n1,A,X,,1 Hari,\nx,B,X,,1 Hari,\n")
    result = run(tmp_path, "import", str(source), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"galat: {source}: baris 3: No 'x' bukan nomor langkah"
    assert not (tmp_path / "out").exists()
    answers = tmp_path / "answers.yaml"
    answers.write_text("Step_01: {pelaksana: Tim Entah}\n")
    bad = run(tmp_path, "import", str(SEED_TEXT), "--out", str(tmp_path / "out"), "--answers", str(answers))
    assert bad.returncode == 1 and "Step_01.pelaksana: 'Tim Entah' bukan salah satu Pelaksana dalam tabel" in bad.stderr
    answers.write_text("Step_01: {pelaksana: [Tim\n")
    bad = run(tmp_path, "import", str(SEED_TEXT), "--out", str(tmp_path / "out"), "--answers", str(answers))
    assert bad.returncode == 1 and bad.stderr.startswith(f"galat: {answers}: YAML rusak: ") and not bad.stdout
    assert not (tmp_path / "out").exists()
