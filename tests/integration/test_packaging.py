"""A wheel (`pip install .` without -e) carries everything an installed Alur runs on.

The wheel used to list five packages by hand (web.api and process.sop_import were missing) and no
templates, static files, translations, definitions or front-end libraries: installed so, Alur did
not start. The wheel is built from a copy of the tree (pip builds in the folder it is given and
leaves build/ and an egg-info there), then installed into a folder and asked where it finds things.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_SECONDS = 120  # 10 to 20 s here (pip fetches setuptools for its build environment); a cap, not a wait
NOT_SHIPPED = shutil.ignore_patterns(".git", ".venv", "node_modules", "var", "build", "*.egg-info", "__pycache__",
                                     "*.mo", "tests", "benchmarks", "test-artifacts", ".*cache", ".hypothesis")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if not (ROOT / "node_modules" / "bpmn-js" / "dist").is_dir():
        pytest.skip("node_modules missing: run make install (npm ci)")
    source = tmp_path_factory.mktemp("source") / "alur"
    shutil.copytree(ROOT, source, ignore=NOT_SHIPPED)
    (source / "node_modules").symlink_to(ROOT / "node_modules")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
                   check=True, timeout=BUILD_SECONDS)
    [built] = out.glob("alur-*.whl")
    return built


@pytest.fixture(scope="module")
def files(wheel) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def shipped(folder: str, pattern: str = "*") -> set[str]:
    return {path.relative_to(ROOT).as_posix() for path in (ROOT / folder).rglob(pattern)
            if path.is_file() and "__pycache__" not in path.parts}


def test_every_python_module_is_in_the_wheel(files):
    modules = shipped("process", "*.py") | shipped("engine", "*.py") | shipped("web", "*.py")
    assert "process/sop_import/__init__.py" in modules and "web/api/__init__.py" in modules
    assert modules - files == set()


def test_templates_static_files_and_migrations_are_in_the_wheel(files):
    assert shipped("web/templates") - files == set()
    assert shipped("web/static") - files == set()
    assert {"engine/migrations/env.py", "engine/migrations/script.py.mako"} <= files


def test_the_catalogues_come_compiled_and_the_definitions_and_libraries_inside_the_packages(files):
    # Compiled at build time: an installed package may be read-only, and the app compiles only a .po.
    assert "web/translations/en/LC_MESSAGES/messages.mo" in files
    assert not any(name.endswith(".po") for name in files)
    assert {f"engine/shipped_definitions/{name}" for name in os.listdir(ROOT / "definitions")} <= files
    assert {"web/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js", "web/vendor/bpmn-js/assets/bpmn-js.css",
            "web/vendor/bpmn-js/bpmn-modeler.production.min.js", "web/vendor/chart.js/chart.umd.min.js"} <= files


WHERE = """
import json
from engine.config import Settings
from web.catalogues import catalogue
from web.instances import VENDOR
settings = Settings.from_env()
print(json.dumps({"definitions": str(settings.definitions_dir), "bpmn-js": str(VENDOR["bpmn-js"]),
                  "chart.js": str(VENDOR["chart.js"]), "english": catalogue("en").gettext("Kegiatan dimulai.")}))
"""


def test_installed_alur_finds_its_definitions_libraries_and_translations_inside_itself(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, timeout=BUILD_SECONDS)
    env = {**os.environ, "PYTHONPATH": str(target), "ALUR_DATA_DIR": str(tmp_path / "data")}
    env.pop("ALUR_DEFINITIONS_DIR", None)
    answer = subprocess.run([sys.executable, "-c", WHERE], env=env, cwd=tmp_path, check=True,
                            capture_output=True, text=True, timeout=BUILD_SECONDS)
    found = json.loads(answer.stdout)
    assert found["definitions"] == str(target / "engine" / "shipped_definitions")
    assert found["bpmn-js"] == str(target / "web" / "vendor" / "bpmn-js")
    assert found["chart.js"] == str(target / "web" / "vendor" / "chart.js")
    assert found["english"] == "Activity started."
