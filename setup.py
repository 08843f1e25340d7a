"""What a wheel carries besides the packages pyproject.toml finds (`pip install .` without -e).

A source tree compiles its catalogues when the app starts and serves definitions/ and node_modules/
from its root; an installed package has neither beside it, and its folder may be read-only. So the
wheel gets the compiled catalogues, definitions/ as engine/shipped_definitions (engine/definitions.py
is a module) and the front-end libraries (package.json) as web/vendor, where engine.config and
web.instances look when not in a source tree.
"""
import importlib.util
import json
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
VENDOR = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]


def _catalogues():
    """web/catalogues.py alone, loaded from its file: building has Babel, not the packages Alur imports."""
    spec = importlib.util.spec_from_file_location("alur_catalogues", ROOT / "web" / "catalogues.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildWithAssets(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install runs from the tree, which has them all
            return
        built = Path(self.build_lib)
        compile_catalog = _catalogues().compile_catalog
        for po in (ROOT / "web" / "translations").glob("*/LC_MESSAGES/messages.po"):
            mo = built / po.relative_to(ROOT).with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            compile_catalog(po, mo)
        _copy(ROOT / "definitions", built / "engine" / "shipped_definitions")
        for package in VENDOR:
            dist = ROOT / "node_modules" / package / "dist"
            if not dist.is_dir():
                raise SystemExit(f"{dist} is missing: run `npm ci --omit=dev` before building the wheel")
            _copy(dist, built / "web" / "vendor" / package)


def _copy(source: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)  # a build folder reused: nothing left from the last build
    shutil.copytree(source, target)


setup(cmdclass={"build_py": BuildWithAssets})
