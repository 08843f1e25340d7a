"""Loading a definition: the BPMN diagram and its YAML, checked together.

Every problem is collected (not just the first) and names the file, the
element or YAML path, and what is wrong, so a process owner can fix a whole
diagram in one pass.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml

from process import bpmn
from process.calendar import CalendarConfigError, CountingRule
from process.definition import SCOPE_BIDANG, SCOPE_OFFICE, Decision, Definition, Lane, Overrides, Step
from process.expressions import ExpressionError, check, names_used
from process.forms import FIELD_KEYS, FIELD_TYPES, Form, FormField
from process.gateways import gateway_warnings
from process.byte_order import marked_encoding
from process.messages import Text, text_from_json
from process.sop_document import MAX_LANES, header_date_problems
from process.mutu_baku import MutuBaku, MutuBakuError, Unit
from process.step_order import numbering_warnings
from process.user_yaml import user_yaml

LANE_ROLES = ("administrasi", "teknis", "implementasi", "sekretaris")
MAX_YAML_BYTES = 512 * 1024
# No SOP has this many steps; a step number must also fit the task rows' Integer column.
MAX_STEP_NUMBER = 9999
HEADER_KEYS = (
    "nomor", "tanggal_pembuatan", "tanggal_revisi", "tanggal_efektif", "disahkan_oleh",
    "dasar_hukum", "kualifikasi_pelaksana", "keterkaitan", "peralatan_perlengkapan",
    "peringatan", "pencatatan_pendataan",
    "judul_pencatatan",     # the records field's title as the SOP writes it, when not the national one
)
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    file: str
    element: str
    message: str
    # An error stops loading and deploying; a warning is shown and does not.
    severity: str = ERROR

    def __str__(self) -> str:
        warning = "peringatan: " if self.severity == WARNING else ""
        return f"{self.file}: {self.element}: {warning}{self.message}"


class DefinitionError(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load(bpmn_text: str, yaml_text: str = "", *, bpmn_name: str = "definition.bpmn",
         yaml_name: str = "definition.yaml", known_roles: Iterable[str] = LANE_ROLES,
         stored: bool = False) -> Definition:
    """Build a Definition, or raise DefinitionError listing every problem.

    `stored`: a version already deployed, perhaps by an older Alur. What the
    loader has refused only since (a choice listed twice, `required` written
    as text) is then a warning, read as that Alur read it: its running
    activities go on."""
    return _Loader(bpmn_text, yaml_text, bpmn_name, yaml_name, tuple(known_roles), stored).run()


def problems_of(bpmn_text: str, yaml_text: str = "", *, bpmn_name: str = "definition.bpmn",
                yaml_name: str = "definition.yaml", known_roles: Iterable[str] = LANE_ROLES) -> list[Problem]:
    """Every problem of a definition: its errors (as `load` raises them), then its warnings."""
    loader = _Loader(bpmn_text, yaml_text, bpmn_name, yaml_name, tuple(known_roles))
    try:
        loader.run()
    except DefinitionError as err:
        return [*err.problems, *loader.warnings]
    return loader.warnings


def yaml_path_for(bpmn_path: Path) -> Path | None:
    for suffix in (".yaml", ".yml"):
        candidate = bpmn_path.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return None


def load_file(bpmn_path: str | Path, **kwargs: Any) -> Definition:
    bpmn_text, yaml_text, names = _read_definition(Path(bpmn_path))
    return load(bpmn_text, yaml_text, **names, **kwargs)


def _read_definition(path: Path) -> tuple[str, str, dict[str, str]]:
    """A definition file's BPMN and YAML texts, and the names its problems give the two files.

    The BPMN is read in the encoding its XML declaration names; DefinitionError if it is not."""
    yaml_path = yaml_path_for(path)
    try:
        bpmn_text = bpmn.text_of(path.read_bytes())
    except bpmn.BpmnReadError as err:
        raise DefinitionError([Problem(str(path), "-", err.args[0])]) from None
    return (bpmn_text, _read_text(yaml_path) if yaml_path else "",
            {"bpmn_name": str(path), "yaml_name": str(yaml_path or path.with_suffix(".yaml"))})


def validate_paths(paths: Iterable[str | Path]) -> list[Problem]:
    """Check definition files without deploying. A YAML path checks its BPMN."""
    problems: list[Problem] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.suffix in (".yaml", ".yml"):
            path = path.with_suffix(".bpmn")
        if path in seen:
            continue
        seen.add(path)
        if not path.exists():
            problems.append(Problem(str(raw), "-", Text("berkas tidak ditemukan")))
            continue
        try:
            bpmn_text, yaml_text, names = _read_definition(path)
        except OSError as err:  # a directory, no permission, ...
            problems.append(Problem(str(raw), "-", Text("berkas tidak dapat dibaca: %(reason)s",
                                                         reason=err.strerror or str(err))))
            continue
        except DefinitionError as err:  # not text in the encoding it declares
            problems.extend(err.problems)
            continue
        problems.extend(problems_of(bpmn_text, yaml_text, **names))
    return problems


def step_number(raw: Any) -> int | None:
    """The step a person reads in `raw`, a diagram's alur:step or a YAML step key: "010" is step 10.

    None if it is not a positive whole number in the digits 0-9 ("²".isdigit() is true, and int()
    refuses it); a number past MAX_STEP_NUMBER reads as MAX_STEP_NUMBER + 1, without int() of its
    thousands of digits."""
    text = str(raw).strip()
    digits = text.lstrip("0")
    if not (text.isascii() and text.isdigit() and digits):
        return None
    return int(digits) if len(digits) <= len(str(MAX_STEP_NUMBER)) else MAX_STEP_NUMBER + 1


def _read_text(path: Path) -> str:
    """A YAML file's text. YAML says nothing of its encoding: one that is not UTF-8 (the editor's
    upload refuses it too) is a problem, not guessed as Latin-1 with its quotes and names garbled.
    A byte-order mark says it, as to the upload."""
    data = path.read_bytes()
    try:
        return data.decode(marked_encoding(data) or "utf-8")
    except UnicodeDecodeError:
        raise DefinitionError([Problem(str(path), "-", Text("berkas harus berupa teks UTF-8"))]) from None


def _finite(value: int | float) -> bool:
    """Whether a YAML number is one a form can compare with: an integer past any float (400 digits)
    is not, and math.isfinite raises on it."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


class _Loader:
    """One pass over one definition; collects problems instead of stopping."""

    def __init__(self, bpmn_text, yaml_text, bpmn_name, yaml_name, known_roles, stored=False):
        self.bpmn_text, self.yaml_text = bpmn_text, yaml_text or ""
        self.stored = stored
        self.bpmn_name, self.yaml_name = bpmn_name, yaml_name
        self.known_roles = known_roles
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        # Names the YAML's forms provide, including those of steps left out
        # for a diagram problem, so a condition is not blamed for it.
        self.provided: set[str] = set()
        self.yaml_unreadable = False
        self.step_numbers: dict[int, str] = {}  # each step number to its element

    def bpmn_problem(self, element: str, message: str) -> None:
        self.problems.append(Problem(self.bpmn_name, element or "-", message))

    def yaml_problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.yaml_name, path or "-", message))

    def bpmn_warning(self, element: str, message: str) -> None:
        self.warnings.append(Problem(self.bpmn_name, element or "-", message, WARNING))

    def yaml_warning(self, path: str, message: str) -> None:
        self.warnings.append(Problem(self.yaml_name, path or "-", message, WARNING))

    def yaml_problem_since(self, path: str, message: str) -> None:
        """A problem an older Alur deployed without a word: a warning in a stored version (see `load`)."""
        (self.yaml_warning if self.stored else self.yaml_problem)(path, message)

    def bpmn_problem_since(self, element: str, message: str) -> None:
        """As `yaml_problem_since`, in the diagram."""
        (self.bpmn_warning if self.stored else self.bpmn_problem)(element, message)

    def run(self) -> Definition:
        try:
            graph = bpmn.read_graph(self.bpmn_text)
        except bpmn.BpmnReadError as err:
            raise DefinitionError([Problem(self.bpmn_name, "-", err.args[0])]) from None
        config = self._read_yaml()
        counting = self._counting(config.get("counting"), "counting", {})
        lanes = self._lanes(graph)
        if len(lanes) > MAX_LANES:  # runs, but its official document cannot be printed whole
            self.bpmn_warning("-", Text("%(n)d lane: tabel dokumen SOP hanya muat %(max)d lane pada A4 mendatar, "
                                        "sehingga PDF-nya terpotong", n=len(lanes), max=MAX_LANES))
        self._check_elements(graph)
        self._check_flows(graph)
        self._check_reachability(graph)
        steps = self._steps(graph, lanes, config.get("steps") or {}, counting)
        for element, message in numbering_warnings(graph, self.step_numbers):
            self.bpmn_warning(element, message)
        self._check_conditions_have_data(graph, steps)
        self._check_branch_names(steps)
        if not self.yaml_unreadable:  # the forms are unknown; the YAML problem is reported
            for element, message in gateway_warnings(graph, steps):
                self.bpmn_warning(element, message)
        header = self._header(config.get("sop") or {})
        if self.problems:
            raise DefinitionError(self.problems)
        return Definition(
            key=graph.process_id, name=graph.process_name or graph.process_id,
            bpmn_xml=self.bpmn_text, yaml_text=self.yaml_text, header=header,
            lanes=tuple(lanes.values()), steps=tuple(sorted(steps, key=lambda s: s.number)),
            counting=counting,
        )

    # -- YAML -------------------------------------------------------------

    def _read_yaml(self) -> dict:
        if not self.yaml_text.strip():
            return {}
        if len(self.yaml_text.encode()) > MAX_YAML_BYTES:
            self.yaml_problem("-", Text("berkas lebih dari %(n)d KiB", n=MAX_YAML_BYTES // 1024))
            self.yaml_unreadable = True
            return {}
        try:
            data = user_yaml(self.yaml_text)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark else "-"
            self.yaml_problem(where, Text("YAML rusak: %(reason)s", reason=getattr(err, "problem", None) or str(err)))
            self.yaml_unreadable = True
            return {}
        if not isinstance(data, dict):
            self.yaml_problem("-", Text("berkas harus berupa mapping dengan kunci 'sop', 'counting' dan 'steps'"))
            self.yaml_unreadable = True
            return {}
        for key in data:
            if key not in ("sop", "counting", "steps", "questions"):
                self.yaml_problem(str(key), Text("kunci tidak dikenal (yang dikenal: sop, counting, steps, questions)"))
        self._open_questions(data.get("questions"))
        return data

    def _open_questions(self, questions: Any) -> None:
        """Questions an import left open: each one blocks the definition until it is answered and removed."""
        if questions is None:
            return
        if not isinstance(questions, list):
            self.yaml_problem("questions", Text("harus berupa daftar pertanyaan terbuka"))
            return
        for i, question in enumerate(questions):
            if not isinstance(question, dict) or not question.get("text"):
                self.yaml_problem(f"questions[{i}]", Text("pertanyaan memerlukan paling tidak 'element' dan 'text'"))
                continue
            text = text_from_json(question.get("message"), str(question["text"]))  # as the import stored it
            self.yaml_problem(str(question.get("element") or f"questions[{i}]"),
                              Text("pertanyaan terbuka %(id)s: %(text)s (jawab, lalu hapus dari 'questions')",
                                   id=str(question.get("id") or i + 1), text=text))

    def _header(self, sop: Any) -> dict:
        if not isinstance(sop, dict):
            self.yaml_problem("sop", Text("harus berupa mapping isian kop SOP"))
            return {}
        for key in sop:
            if key not in HEADER_KEYS:
                self.yaml_problem(f"sop.{key}", Text("isian kop SOP tidak dikenal (yang dikenal: %(keys)s)",
                                                    keys=", ".join(HEADER_KEYS)))
        header = {k: _plain(v) for k, v in sop.items() if k in HEADER_KEYS}
        # A warning, not an error: a file (or a stored version) written so still loads; the header editor refuses it.
        for key, message in header_date_problems(header).items():
            self.yaml_warning(f"sop.{key}", message)
        return header

    def _counting(self, raw: Any, path: str, base: Overrides) -> Overrides:
        if raw is None:
            return base
        try:
            CountingRule.from_dict(raw, key=path)
        except CalendarConfigError as err:
            self.yaml_problem(err.where, err.message)
            return base
        return {**base, **{k: str(v) for k, v in raw.items()}}

    def _form(self, raw: Any, path: str) -> Form:
        if raw is None:
            return Form()
        if not isinstance(raw, list):
            self.yaml_problem(path, Text("harus berupa daftar isian"))
            return Form()
        fields, names = [], set()
        for i, item in enumerate(raw):
            where = f"{path}[{i}]"
            if not isinstance(item, dict):
                self.yaml_problem(where, Text("setiap isian harus berupa mapping dengan name, label dan type"))
                continue
            name, kind = item.get("name"), item.get("type")
            if not isinstance(name, str) or not _FIELD_NAME.match(name):
                self.yaml_problem(where, Text("nama isian %(name)s harus lower_snake_case: huruf kecil, angka dan _, "
                                               "diawali huruf", name=repr(name)))
                continue
            where = f"{path}.{name}"
            if name in names:
                self.yaml_problem(where, Text("nama isian ini sudah dipakai isian lain pada formulir yang sama"))
            names.add(name)
            if kind not in FIELD_TYPES:
                self.yaml_problem(where, Text("jenis isian %(kind)s tidak dikenal (yang dikenal: %(types)s)",
                                               kind=repr(kind), types=", ".join(FIELD_TYPES)))
                continue
            choices = item.get("choices") or ()
            if kind == "choice" and (not isinstance(choices, list) or not choices):
                self.yaml_problem(where, Text("isian choice memerlukan daftar 'choices' yang tidak kosong"))
                continue
            if kind != "choice":  # unused: left by the editor when the field was retyped, where it hides them
                choices = choices if isinstance(choices, list) else ()
            repeated = sorted(c for c, n in Counter(map(str, choices)).items() if n > 1)
            if repeated and kind == "choice":  # the form would offer the same answer twice
                self.yaml_problem_since(where, Text("pilihan tertulis lebih dari sekali: %(choices)s",
                                              choices=", ".join(repeated)))
            unknown = set(item) - set(FIELD_KEYS)
            if unknown:
                self.yaml_problem(where, Text("kunci tidak dikenal: %(keys)s", keys=", ".join(sorted(map(str, unknown)))))
            required = item.get("required")
            if required is not None and not isinstance(required, bool):  # "false" and "tidak" read as true
                self.yaml_problem_since(where, Text("required harus true atau false (tertulis %(value)s)",
                                                    value=repr(required)))
            fields.append(FormField(
                name=name, label=str(item.get("label") or name), type=kind,
                # A stored version runs as it was deployed: an older Alur read `required` by its truth.
                required=bool(required) if self.stored else required is True,
                choices=tuple(dict.fromkeys(str(c) for c in choices)), help=str(item.get("help") or ""),
                not_before=str(item.get("not_before") or ""), min=self._minimum(item, kind, where),
                whole=self._whole(item, kind, where),
            ))
        self._check_not_before(fields, path)
        return Form(tuple(fields))

    def _minimum(self, item: dict, kind: str, where: str) -> int | float | None:
        """`min` of a number field: a finite number, or absent."""
        value = item.get("min")
        if value is None:
            return None
        if kind != "number" or isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not _finite(value):
            self.yaml_problem(where, Text("min hanya untuk isian number, dan harus berupa angka (tertulis %(value)s)",
                                          value=repr(value)))
            return None
        return value

    def _whole(self, item: dict, kind: str, where: str) -> bool:
        """`whole` of a number field: true or false, or absent (false)."""
        value = item.get("whole")
        if value is None or value is False:
            return False
        if kind != "number" or value is not True:
            self.yaml_problem(where, Text("whole hanya untuk isian number, dan harus true atau false (tertulis %(value)s)",
                                          value=repr(value)))
            return False
        return True

    def _check_not_before(self, fields: list[FormField], path: str) -> None:
        """`not_before` names another date field of the same form (an end date's start date)."""
        dates = {f.name for f in fields if f.type == "date"}
        for f in fields:
            if f.not_before and (f.type != "date" or f.not_before not in dates or f.not_before == f.name):
                self.yaml_problem(f"{path}.{f.name}", Text(
                    "not_before harus menyebut isian date lain pada formulir ini (tertulis %(other)s pada isian "
                    "%(kind)s)", other=repr(f.not_before), kind=f.type))

    # -- BPMN -------------------------------------------------------------

    def _lanes(self, graph: bpmn.Graph) -> dict[str, Lane]:
        lanes: dict[str, Lane] = {}
        for info in graph.lanes:
            role = info.role or _role_from_name(info.name)
            if not role:  # bpmn-js adds a lane, or divides one, without a name
                self.bpmn_problem(info.id, Text("lane belum memiliki nama maupun peran; pilih perannya, salah satu "
                                                "peran kantor (%(roles)s)", roles=", ".join(self.known_roles)))
                continue
            if role not in self.known_roles:
                self.bpmn_problem(info.id, Text("lane %(name)s tidak dikenal: perannya %(role)s bukan salah satu "
                                                "peran kantor (%(roles)s)", name=repr(info.name), role=repr(role),
                                                roles=", ".join(self.known_roles)))
                continue
            scope = info.scope or (SCOPE_OFFICE if role == "sekretaris" else SCOPE_BIDANG)
            if scope not in (SCOPE_BIDANG, SCOPE_OFFICE):
                self.bpmn_problem(info.id, Text("cakupan lane harus %(bidang)s atau %(office)s, bukan %(scope)s",
                                                bidang=SCOPE_BIDANG, office=SCOPE_OFFICE, scope=repr(scope)))
                continue
            lanes[info.id] = Lane(info.id, info.name or role, role, scope)
        return lanes

    def _check_elements(self, graph: bpmn.Graph) -> None:
        for node in graph.unsupported:
            if node.kind == "scriptTask":
                self.bpmn_problem(node.id, Text("script task tidak diizinkan: diagram tidak boleh menjalankan kode di "
                                                "server"))
            else:
                self.bpmn_problem(node.id, Text("%(kind)s tidak didukung (Alur menjalankan user task, exclusive "
                                                "gateway, start/end event dan timer boundary event)", kind=node.kind))
        starts = [n for n in graph.nodes.values() if n.kind == "startEvent"]
        if len(starts) != 1:
            self.bpmn_problem(graph.process_id, Text("proses harus memiliki tepat satu start event, ada %(n)d",
                                                     n=len(starts)))
        if not any(n.kind == "endEvent" for n in graph.nodes.values()):
            self.bpmn_problem(graph.process_id, Text("proses tidak memiliki end event"))
        for node in graph.nodes.values():
            kinds = [bpmn.local_name(d) for d in bpmn.event_definitions(node)]
            if node.kind == "startEvent" and kinds:
                self.bpmn_problem(node.id, Text("start event dengan %(kind)s tidak didukung; pakai start event biasa",
                                                kind=kinds[0]))
            if node.kind == "endEvent" and any(k != "terminateEventDefinition" for k in kinds):
                self.bpmn_problem(node.id, Text("end event dengan %(kind)s tidak didukung", kind=kinds[0]))
            if node.kind == "boundaryEvent":
                self._check_boundary(graph, node, kinds)
            if node.kind == "userTask" and (node.element.find(f"{{{bpmn.BPMN_NS}}}multiInstanceLoopCharacteristics")
                                            is not None or node.element.find(
                                                f"{{{bpmn.BPMN_NS}}}standardLoopCharacteristics") is not None):
                self.bpmn_problem(node.id, Text("langkah berulang (loop) dan multi-instance tidak didukung"))

    def _check_boundary(self, graph: bpmn.Graph, node: bpmn.Node, kinds: list[str]) -> None:
        host = graph.nodes.get(node.attrs.get("attachedToRef", ""))
        if kinds != ["timerEventDefinition"]:
            self.bpmn_problem(node.id, Text("hanya timer boundary event (mutu baku waktu langkah) yang didukung"))
        elif host is None or host.kind != "userTask":
            self.bpmn_problem(node.id, Text("timer boundary event harus menempel pada user task"))
        elif node.attrs.get("cancelActivity", "true").lower() != "false":
            self.bpmn_problem(node.id, Text("timer mutu baku waktu harus non-interrupting (cancelActivity=\"false\")"))
        elif bpmn.timer_duration(node) is None:
            self.bpmn_problem(node.id, Text("timer memerlukan durasi (timeDuration), mis. PT30M"))

    def _check_flows(self, graph: bpmn.Graph) -> None:
        for flow in graph.flows.values():
            elements = set(graph.nodes) | {n.id for n in graph.unsupported}
            # A timer marks its step's standard time; the engine follows a flow from it when the step is
            # overdue, so such a flow ended the activity or started another step beside the late one.
            if any(graph.nodes.get(ref) is not None and graph.nodes[ref].kind == "boundaryEvent"
                   for ref in (flow.source, flow.target)):
                self.bpmn_problem_since(flow.id, Text("timer mutu baku waktu tidak boleh memiliki alur: timer hanya "
                                                      "menandai batas waktu langkah (eskalasi); hapus alur ini"))
            if flow.source not in elements:
                self.bpmn_problem(flow.id, Text("source %(ref)s bukan elemen proses ini", ref=repr(flow.source)))
            if flow.target not in elements:
                self.bpmn_problem(flow.id, Text("target %(ref)s bukan elemen proses ini", ref=repr(flow.target)))
            if flow.condition is not None:
                try:
                    check(flow.condition)
                except ExpressionError as err:
                    self.bpmn_problem(flow.id, Text("kondisi %(condition)s ditolak: %(reason)s",
                                                    condition=repr(flow.condition), reason=err.args[0]))
                source = graph.nodes.get(flow.source)
                if source is not None and source.kind != "exclusiveGateway":
                    self.bpmn_problem(flow.id, Text("kondisi hanya boleh ada pada alur yang keluar dari exclusive "
                                                    "gateway"))
        for node in graph.nodes.values():
            outgoing = graph.outgoing(node.id)
            if node.kind == "exclusiveGateway" and len(outgoing) > 1:
                default = node.attrs.get("default")
                for flow in outgoing:
                    if flow.condition is None and flow.id != default:
                        self.bpmn_problem(flow.id, Text("alur percabangan tanpa kondisi, padahal %(gateway)s tidak "
                                                        "memiliki alur bawaan (default flow)", gateway=repr(node.id)))
            if node.kind in ("userTask", "startEvent", "exclusiveGateway") and not outgoing:
                self.bpmn_problem(node.id, Text("%(kind)s %(name)s tidak memiliki alur keluar", kind=node.kind,
                                                name=repr(node.name or node.id)))
            if node.kind == "userTask" and len(outgoing) > 1:
                self.bpmn_problem(node.id, Text("langkah hanya boleh memiliki satu alur keluar; letakkan keputusan di "
                                                "gateway"))

    def _check_reachability(self, graph: bpmn.Graph) -> None:
        starts = [n.id for n in graph.nodes.values() if n.kind == "startEvent"]
        seen, queue = set(starts), list(starts)
        boundaries: dict[str, list[str]] = {}
        for node in graph.nodes.values():
            if node.kind == "boundaryEvent":
                boundaries.setdefault(node.attrs.get("attachedToRef", ""), []).append(node.id)
        while queue:
            current = queue.pop()
            nxt = [f.target for f in graph.outgoing(current)] + boundaries.get(current, [])
            for target in nxt:
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
        if not starts:
            return
        for node in graph.nodes.values():
            if node.id not in seen:
                self.bpmn_problem(node.id, Text("%(kind)s %(name)s tidak dapat dicapai dari start event", kind=node.kind,
                                                name=repr(node.name or node.id)))

    def _steps(self, graph: bpmn.Graph, lanes: dict[str, Lane], yaml_steps: Any,
               counting: Overrides) -> list[Step]:
        if not isinstance(yaml_steps, dict):
            self.yaml_problem("steps", Text("harus berupa mapping dari nomor langkah SOP ke rincian langkahnya"))
            yaml_steps = {}
        lane_of = self._lane_of(graph)
        only_in_parent = self._check_parent_lanes(graph, lane_of)
        timers: dict[str, bpmn.Node] = {}
        for timer in (n for n in graph.nodes.values() if n.kind == "boundaryEvent"):
            host = timer.attrs.get("attachedToRef", "")
            if host in timers and getattr(graph.nodes.get(host), "kind", None) == "userTask":
                # The engine would ask for the deadline of a timer that is no step's: starting failed.
                self.bpmn_problem_since(timer.id, Text("langkah %(name)s sudah memiliki timer mutu baku waktu "
                                                       "%(other)s; satu langkah hanya memiliki satu timer",
                                                       name=repr(graph.nodes[host].name or host),
                                                       other=repr(timers[host].id)))
                continue
            timers[host] = timer
        steps: list[Step] = []
        numbers = self.step_numbers
        details_of = self._details_by_number(yaml_steps)
        for node in (n for n in graph.nodes.values() if n.kind == "userTask"):
            number = self._step_number(node, numbers)
            lane_id = lane_of.get(node.id)
            if lane_id is None and node.id not in only_in_parent:
                self.bpmn_problem(node.id, Text("user task %(name)s tidak berada di lane mana pun",
                                                name=repr(node.name or node.id)))
            timer = timers.get(node.id)
            mutu = self._mutu_baku(node, timer)
            if number is None:
                continue
            # The YAML side is checked even when the diagram side of the step
            # has a problem, so one pass reports both.
            details = details_of.get(number) or {}
            path = f"steps.{number}"
            if not isinstance(details, dict):
                self.yaml_problem(path, Text("harus berupa mapping (kelengkapan, output, form, counting)"))
                details = {}
            for key in set(details) - {"kelengkapan", "output", "form", "counting"}:
                self.yaml_problem(f"{path}.{key}", Text("kunci tidak dikenal (yang dikenal: kelengkapan, output, form, "
                                                       "counting)"))
            step_counting = self._counting(details.get("counting"), f"{path}.counting", counting)
            form = self._form(details.get("form"), f"{path}.form")
            self.provided.update(f.name for f in form.fields)
            if lane_id not in lanes or mutu is None:
                continue
            steps.append(Step(
                number=number, element_id=node.id, name=node.name, lane=lanes[lane_id],
                mutu_baku=mutu, timer_id=timer.id, counting=step_counting,
                kelengkapan=str(details.get("kelengkapan") or ""), output=str(details.get("output") or ""),
                form=form, decision=self._decision(graph, node),
            ))
        for key in yaml_steps:
            if step_number(key) not in numbers:
                self.yaml_problem(f"steps.{key}", Text("tidak ada langkah %(step)s pada diagram", step=str(key)))
        return steps

    def _details_by_number(self, yaml_steps: dict) -> dict[int, Any]:
        """Each step's details under the step its key names, read as the diagram's alur:step is."""
        keys: dict[int, Any] = {}
        for key in yaml_steps:
            number = step_number(key)
            if number is None:
                continue  # reported with the keys of no step on the diagram
            if number in keys:  # 10 and 010: YAML keeps both
                self.yaml_problem_since(f"steps.{key}", Text("langkah %(n)d sudah tertulis sebagai %(other)s",
                                                             n=number, other=repr(str(keys[number]))))
            else:
                keys[number] = key
        return {number: yaml_steps[key] for number, key in keys.items()}

    def _lane_of(self, graph: bpmn.Graph) -> dict[str, str]:
        """Each node's (leaf) lane; a node two lanes list is a problem: its step would be offered to one of them.

        Not a timer: it goes with its step, and bpmn-js leaves it in the old lane too when its step is moved."""
        nodes = {ref: node for ref, node in {**{n.id: n for n in graph.unsupported}, **graph.nodes}.items()
                 if node.kind != "boundaryEvent"}
        lane_of: dict[str, bpmn.LaneInfo] = {}
        for info in graph.lanes:
            for ref in info.nodes:
                first = lane_of.setdefault(ref, info)
                if first is not info and ref in nodes:
                    node = nodes[ref]
                    self.bpmn_problem(ref, Text("%(kind)s %(name)s tercantum di dua lane, %(lane)s dan %(other)s; "
                                                "letakkan di satu lane saja", kind=node.kind,
                                                name=repr(node.name or node.id), lane=repr(first.name or first.id),
                                                other=repr(info.name or info.id)))
        return {ref: info.id for ref, info in lane_of.items()}

    def _check_parent_lanes(self, graph: bpmn.Graph, lane_of: dict[str, str]) -> set[str]:
        """A node a parent lane lists must be in one of its child lanes too: the child lanes are the actors.

        Returns the nodes found only in a parent lane."""
        nodes = {**{n.id: n for n in graph.unsupported}, **graph.nodes}
        parent_of = {ref: info for info in graph.parent_lanes for ref in info.nodes
                     if ref in nodes and ref not in lane_of}
        for ref, parent in parent_of.items():
            node = nodes[ref]
            self.bpmn_problem(ref, Text("%(kind)s %(name)s hanya tercantum di lane induk %(lane)s, tidak di salah "
                                        "satu lane di dalamnya; letakkan di lane pelaksananya", kind=node.kind,
                                        name=repr(node.name or node.id), lane=repr(parent.name or parent.id)))
        return set(parent_of)

    def _step_number(self, node: bpmn.Node, numbers: dict[int, str]) -> int | None:
        raw = node.alur("step")
        if raw is None:
            self.bpmn_problem(node.id, Text("langkah belum memiliki nomor SOP (atribut alur:step)"))
            return None
        number = step_number(raw)
        if number is None:
            self.bpmn_problem(node.id, Text("nomor SOP %(raw)s harus bilangan bulat positif", raw=repr(raw)))
            return None
        if number > MAX_STEP_NUMBER:
            self.bpmn_problem(node.id, Text("nomor SOP %(raw)s terlalu besar (paling besar %(max)d)",
                                            raw=repr(raw), max=MAX_STEP_NUMBER))
            return None
        if number in numbers:
            self.bpmn_problem(node.id, Text("nomor SOP %(n)d sudah dipakai oleh %(other)s", n=number,
                                            other=repr(numbers[number])))
            return None
        numbers[number] = node.id
        return number

    def _mutu_baku(self, node: bpmn.Node, timer: bpmn.Node | None) -> MutuBaku | None:
        if timer is None:
            self.bpmn_problem(node.id, Text("langkah %(name)s belum memiliki mutu baku waktu (timer boundary event "
                                            "non-interrupting yang berdurasi)", name=repr(node.name or node.id)))
            return None
        text = bpmn.timer_duration(timer)
        if text is None:
            return None  # reported by _check_boundary
        try:
            mutu = MutuBaku.from_iso(text)
        except MutuBakuError as err:
            self.bpmn_problem(timer.id, err.args[0])
            return None
        self._check_timer_name(timer, mutu)
        return mutu

    def _check_timer_name(self, timer: bpmn.Node, mutu: MutuBaku) -> None:
        """A timer named as another standard time than its duration (a duration changed in another tool):
        the diagrams show the name, the engine and the SOP document the duration."""
        try:
            named = MutuBaku.parse(timer.name)
        except MutuBakuError:
            return  # no standard time ("Batas waktu", or none)
        if (named.unit is Unit.HARI, named.minutes) != (mutu.unit is Unit.HARI, mutu.minutes):
            self.bpmn_warning(timer.id, Text("timer ini bernama %(name)s, tetapi durasinya %(duration)s: diagram "
                                             "menampilkan nama itu; samakan namanya dengan mutu baku waktunya",
                                             name=repr(timer.name), duration=str(mutu)))

    def _decision(self, graph: bpmn.Graph, node: bpmn.Node) -> Decision | None:
        outgoing = graph.outgoing(node.id)
        gateway = graph.nodes.get(outgoing[0].target) if len(outgoing) == 1 else None
        if gateway is None or gateway.kind != "exclusiveGateway":
            return None
        default = gateway.attrs.get("default")
        outcomes = tuple(
            (f.id, f.name, None if f.id == default else f.condition, f.target) for f in graph.outgoing(gateway.id)
        )
        return Decision(gateway.id, gateway.name or node.name, outcomes)

    def _check_branch_names(self, steps: list[Step]) -> None:
        """The SOP document labels a decision's arrows with their flows' names ("Ya", "Tidak")."""
        for step in steps:
            if step.decision is None or len(step.decision.outcomes) < 2:
                continue
            for flow_id, name, _condition, _target in step.decision.outcomes:
                if not (name or "").strip():
                    self.bpmn_warning(flow_id, Text("cabang keputusan langkah %(n)d belum bernama: dokumen SOP "
                                                    "menggambar panahnya tanpa label; beri nama Ya atau Tidak",
                                                    n=step.number))

    def _check_conditions_have_data(self, graph: bpmn.Graph, steps: list[Step]) -> None:
        if self.yaml_unreadable:
            return  # the forms are unknown; the YAML problem is reported
        provided = self.provided | {f.name for s in steps for f in s.form.fields}
        for flow in graph.flows.values():
            if flow.condition is None:
                continue
            try:
                missing = names_used(flow.condition) - provided
            except ExpressionError:
                continue  # already reported
            for name in sorted(missing):
                self.bpmn_problem(flow.id, Text("kondisi membaca %(field)s, yang tidak disediakan formulir langkah "
                                                "mana pun", field=repr(name)))


def _role_from_name(name: str) -> str:
    lowered = name.strip().lower()
    return lowered[4:].strip() if lowered.startswith("tim ") else lowered


def _plain(value: Any) -> Any:
    """YAML dates become ISO strings so the header is JSON-ready."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
