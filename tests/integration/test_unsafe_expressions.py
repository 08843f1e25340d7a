"""Unsafe expressions and scripts: refused by the loader, and harmless even if they got past it.

The second half bypasses `process.loader` on purpose: it hands a BPMN with a
script task and with malicious gateway conditions straight to SpiffWorkflow
(through `engine.spiff.parse_spec`) and runs it with the engine's
`RestrictedScriptEngine`. Every attack writes a file into tmp_path; the tests
assert the file is not there. A control run with SpiffWorkflow's default
script engine shows the same attack *does* write the file, so the harness
itself can detect a leak.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.util.task import TaskState

import process.expressions as expressions
from engine.spiff import RestrictedEnvironment, RestrictedScriptEngine, ScriptRefused, parse_spec
from process.expressions import ExpressionError
from process.loader import DefinitionError, load

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
SEED_BPMN = (DEFINITIONS / "monev_kegiatan_bidang.bpmn").read_text(encoding="utf-8")
SEED_YAML = (DEFINITIONS / "monev_kegiatan_bidang.yaml").read_text(encoding="utf-8")
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


def problems(bpmn_text: str, yaml_text: str = SEED_YAML):
    with pytest.raises(DefinitionError) as caught:
        load(bpmn_text, yaml_text, bpmn_name="sop.bpmn", yaml_name="sop.yaml")
    return caught.value.problems


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- the loader refuses them --------------------------------------------------------

EVIL_CONDITIONS = {
    "__import__('os').system('id')": "hanya fungsi berikut yang boleh dipanggil",
    "().__class__.__base__.__subclasses__()": "hanya fungsi berikut yang boleh dipanggil",
    "terverifikasi.__class__": "Attribute tidak diizinkan",
    "open('/etc/passwd').read() != ''": "hanya fungsi berikut yang boleh dipanggil",
    "exec('import os') or terverifikasi": "hanya fungsi berikut yang boleh dipanggil",
    "eval('1') == 1": "hanya fungsi berikut yang boleh dipanggil",
    "(lambda: True)()": "hanya fungsi berikut yang boleh dipanggil",
    "[c for c in ().__class__.__mro__]": "ListComp tidak diizinkan",
    "terverifikasi and 10 ** 10 ** 10": "Pow tidak diizinkan",
    "__builtins__ is not None": "nama '__builtins__' tidak diizinkan",
}


@pytest.mark.parametrize("condition", EVIL_CONDITIONS)
def test_loader_refuses_an_unsafe_gateway_condition_naming_the_flow(condition):
    text = SEED_BPMN.replace("terverifikasi == True", xml_escape(condition))
    [problem] = problems(text)
    assert problem.file == "sop.bpmn"
    assert problem.element == "Flow_05_Ya"
    assert problem.message.startswith(f"kondisi {condition!r} ditolak: ")
    assert EVIL_CONDITIONS[condition] in problem.message
    assert str(problem).startswith("sop.bpmn: Flow_05_Ya: kondisi ")


def test_loader_refuses_a_script_task():
    text = SEED_BPMN.replace(
        '<bpmn:endEvent id="Selesai"',
        '<bpmn:scriptTask id="Script_Hapus" name="Hapus arsip" scriptFormat="python">'
        "<bpmn:script>import shutil; shutil.rmtree('/')</bpmn:script></bpmn:scriptTask>"
        '<bpmn:endEvent id="Selesai"', 1)
    [problem] = problems(text)
    assert (problem.file, problem.element) == ("sop.bpmn", "Script_Hapus")
    assert problem.message == "script task tidak diizinkan: diagram tidak boleh menjalankan kode di server"


def test_loader_refuses_a_script_step_in_the_flow():
    # Step 7 rewritten as a script task: refused, not silently skipped.
    text = SEED_BPMN.replace('<bpmn:userTask id="Step_07"', '<bpmn:scriptTask id="Step_07"', 1)
    text = text.replace("<bpmn:outgoing>Flow_07_08</bpmn:outgoing>\n    </bpmn:userTask>",
                        "<bpmn:outgoing>Flow_07_08</bpmn:outgoing>\n    <bpmn:script>x = 1</bpmn:script>"
                        "</bpmn:scriptTask>", 1)
    found = problems(text)
    assert any(p.element == "Step_07" and "script task tidak diizinkan" in p.message for p in found)


# -- ... and they could not run even if they got through -----------------------------

def engine() -> RestrictedScriptEngine:
    return RestrictedScriptEngine(lambda: NOW, lambda timer_id, ready_at: ready_at + timedelta(days=1))


def spec_of(bpmn_xml: str, key: str):
    """Parse with the engine's own parse_spec, skipping the loader entirely."""
    return parse_spec(SimpleNamespace(key=key, bpmn_xml=bpmn_xml))


HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="https://alur.id/test">')


def script_bpmn(script: str) -> str:
    return HEAD + f'''
  <bpmn:process id="skrip" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="Script_Evil" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{xml_escape(script)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="Script_Evil"/>
    <bpmn:sequenceFlow id="f2" sourceRef="Script_Evil" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>'''


def gateway_bpmn(condition: str) -> str:
    return HEAD + f'''
  <bpmn:process id="gerbang" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="Gateway_Evil" default="f_no">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f_yes</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="e_yes"><bpmn:incoming>f_yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="e_no"><bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="Gateway_Evil"/>
    <bpmn:sequenceFlow id="f_yes" sourceRef="Gateway_Evil" targetRef="e_yes">
      <bpmn:conditionExpression>{xml_escape(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="Gateway_Evil" targetRef="e_no"/>
  </bpmn:process>
</bpmn:definitions>'''


def scripts(target: Path) -> dict[str, str]:
    return {
        "open": f"open({str(target)!r}, 'w').write('pwned')",
        "os": f"import os\nos.system('touch ' + {str(target)!r})",
        "pathlib": f"from pathlib import Path\nPath({str(target)!r}).write_text('pwned')",
    }


def conditions(target: Path) -> dict[str, str]:
    return {
        "open": f"open({str(target)!r}, 'w').write('pwned') > 0",
        "import": f"__import__('pathlib').Path({str(target)!r}).write_text('pwned') > 0",
        "subclasses": "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'FileIO']"
                      f"[0]({str(target)!r}, 'w').write(b'pwned') > 0",
    }


@pytest.mark.parametrize("kind", ["open", "os", "pathlib"])
def test_a_script_task_that_got_through_is_refused_at_run_time(tmp_path, kind):
    target = tmp_path / "pwned.txt"
    workflow = BpmnWorkflow(spec_of(script_bpmn(scripts(target)[kind]), "skrip"), script_engine=engine())
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert caught.value.error_type == "ScriptRefused"
    assert isinstance(caught.value.__context__, ScriptRefused)
    assert "scripts are not allowed in Alur definitions" in str(caught.value)
    assert not target.exists()
    assert not workflow.completed
    [task] = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "Script_Evil"]
    assert task.state == TaskState.ERROR


@pytest.mark.parametrize("kind", ["open", "import", "subclasses"])
def test_a_malicious_condition_that_got_through_is_refused_at_run_time(tmp_path, kind):
    target = tmp_path / "pwned.txt"
    workflow = BpmnWorkflow(spec_of(gateway_bpmn(conditions(target)[kind]), "gerbang"), script_engine=engine())
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert caught.value.error_type == "ExpressionRefused"  # an ExpressionError
    assert isinstance(caught.value.__context__, ExpressionError)
    assert not target.exists()
    assert not workflow.completed


@pytest.mark.parametrize("kind", ["open", "pathlib"])
def test_control_the_default_engine_would_have_run_the_script(tmp_path, kind):
    # Proves the harness: without the restricted engine the same diagram writes the file.
    target = tmp_path / "pwned.txt"
    workflow = BpmnWorkflow(spec_of(script_bpmn(scripts(target)[kind]), "skrip"), script_engine=PythonScriptEngine())
    workflow.do_engine_steps()
    assert target.read_text() == "pwned"
    assert workflow.completed


def test_control_the_default_engine_would_have_evaluated_the_condition(tmp_path):
    target = tmp_path / "pwned.txt"
    workflow = BpmnWorkflow(spec_of(gateway_bpmn(conditions(target)["open"]), "gerbang"),
                            script_engine=PythonScriptEngine())
    workflow.do_engine_steps()
    assert target.read_text() == "pwned"


def test_a_safe_condition_still_routes_with_the_restricted_engine():
    workflow = BpmnWorkflow(spec_of(gateway_bpmn("lengkap == True"), "gerbang"), script_engine=engine())
    workflow.get_tasks(state=TaskState.READY)[0].data["lengkap"] = True
    workflow.do_engine_steps()
    assert workflow.completed
    ended = {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)}
    assert "e_yes" in ended and "e_no" not in ended


def test_restricted_environment_directly(tmp_path):
    target = tmp_path / "pwned.txt"
    environment = RestrictedEnvironment()
    with pytest.raises(ScriptRefused, match="scripts are not allowed"):
        environment.execute(f"open({str(target)!r}, 'w').write('x')", {})
    with pytest.raises(ScriptRefused, match="service tasks are not allowed"):
        environment.call_service({}, operation_name="http", operation_params={})
    with pytest.raises(ExpressionError):
        environment.evaluate(f"open({str(target)!r}, 'w')", {})
    assert environment.evaluate("a and not b", {"a": True}, {"b": False}) is True
    assert not target.exists()


@pytest.mark.parametrize("expression,fragment", [
    ("().__class__.__base__.__subclasses__()", "__subclasses__"),
    ("__import__('os').system('id')", "'__import__' not defined"),
    ("open('/etc/passwd').read()", "'open' not defined"),
    ("exec('import os')", "'exec' not defined"),
    ("len.__self__", "__self__"),
    ("(lambda: 1)()", "Lambda"),
    ("[c for c in x]", "ListComp"),
    ("{'a': 1}", "Dict"),
    ("2 ** 10000000", "2 ** 10000000"),
    ("__builtins__", "'__builtins__' is not defined"),
])
def test_second_layer_holds_even_if_check_is_skipped(monkeypatch, expression, fragment):
    # If check() had a hole, simpleeval (no builtins, no dunders) is still in the way.
    monkeypatch.setattr(expressions, "check", lambda expression: None)
    with pytest.raises(ExpressionError) as caught:
        expressions.evaluate(expression, {"x": [1]})
    assert f"{expression!r} tidak dapat dihitung" in str(caught.value)
    assert fragment in str(caught.value)
