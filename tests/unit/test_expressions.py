"""The restricted evaluator for gateway conditions: what it accepts and what it refuses."""
from __future__ import annotations

import time

import pytest

from process.expressions import FUNCTIONS, MAX_LENGTH, ExpressionError, check, evaluate, names_used

DATA = {
    "terverifikasi": True, "ada_kendala": False, "jumlah": 120, "capaian": "Sebagian",
    "catatan": "  Server Penuh ", "nilai": [70, 85, 90], "kosong": "",
}


@pytest.mark.parametrize("expression,expected", [
    # reading task data
    ("terverifikasi", True),
    ("capaian", "Sebagian"),
    ("nilai[1]", 85),
    # comparisons
    ("terverifikasi == True", True),
    ("ada_kendala == False", True),
    ("terverifikasi is True", True),
    ("ada_kendala is not None", True),
    ("jumlah >= 100", True),
    ("0 < jumlah <= 100", False),
    ("capaian != 'Sesuai rencana'", True),
    ("capaian in ['Sesuai rencana', 'Sebagian']", True),   # list literals evaluate, not only validate
    ("capaian not in ('Tidak tercapai',)", True),
    ("85 in nilai", True),
    # boolean logic
    ("terverifikasi and not ada_kendala", True),
    ("ada_kendala or jumlah > 200", False),
    ("not (terverifikasi and ada_kendala)", True),
    # arithmetic and the conditional expression
    ("jumlah * 2 - 40 / 4 + 7 // 2 + 7 % 4 == 236", True),
    ("-jumlah < 0", True),
    ("'ya' if terverifikasi else 'tidak'", "ya"),
    # whitelisted functions
    ("len(nilai) == 3", True),
    ("max(nilai) - min(nilai)", 20),
    ("abs(-jumlah)", 120),
    ("round(jumlah / 7)", 17),
    ("lower(catatan) == '  server penuh '", True),
    ("upper(capaian)", "SEBAGIAN"),
    ("bool(kosong)", False),
    ("int('12') + 1", 13),
    ("str(jumlah) + ' orang'", "120 orang"),
])
def test_accepted_and_evaluated(expression, expected):
    check(expression)
    result = evaluate(expression, DATA)
    assert result == expected
    assert type(result) is type(expected)


def test_only_the_documented_functions_are_whitelisted():
    assert sorted(FUNCTIONS) == ["abs", "bool", "int", "len", "lower", "max", "min", "round", "str", "upper"]


@pytest.mark.parametrize("expression,expected", [
    ("terverifikasi == True", {"terverifikasi"}),
    ("len(nilai) > 2 and capaian in ['a']", {"nilai", "capaian"}),
    ("x if y else None", {"x", "y"}),
    ("True", set()),
])
def test_names_used(expression, expected):
    assert names_used(expression) == expected


ONLY_FUNCTIONS = "hanya fungsi berikut yang boleh dipanggil: abs, bool, int, len, lower, max, min, round, str, upper"

REFUSED = {
    # imports and builtins
    "import os": "bukan ekspresi yang sah: invalid syntax",
    "__import__('os')": ONLY_FUNCTIONS,
    "__import__('os').system('id')": ONLY_FUNCTIONS,
    "__builtins__": "nama '__builtins__' tidak diizinkan",
    "_private": "nama '_private' tidak diizinkan",
    "open('/etc/passwd')": ONLY_FUNCTIONS,
    "open('/tmp/x', 'w').write('x')": ONLY_FUNCTIONS,
    "exec('import os')": ONLY_FUNCTIONS,
    "eval('1')": ONLY_FUNCTIONS,
    "compile('1', 'x', 'eval')": ONLY_FUNCTIONS,
    "getattr(capaian, 'upper')": ONLY_FUNCTIONS,
    "globals()": ONLY_FUNCTIONS,
    "type(capaian)": ONLY_FUNCTIONS,
    # the classic sandbox escape and attribute access in general
    "().__class__.__base__.__subclasses__()": ONLY_FUNCTIONS,
    "().__class__": "Attribute tidak diizinkan dalam ekspresi",
    "capaian.upper": "Attribute tidak diizinkan dalam ekspresi",
    "capaian.__class__.__mro__": "Attribute tidak diizinkan dalam ekspresi",
    "len.__self__": "Attribute tidak diizinkan dalam ekspresi",
    "capaian.upper()": ONLY_FUNCTIONS,
    # lambdas and comprehensions
    "lambda: 1": "Lambda tidak diizinkan dalam ekspresi",
    "(lambda x: x)(1)": ONLY_FUNCTIONS,
    "[x for x in nilai]": "ListComp tidak diizinkan dalam ekspresi",
    "{x for x in nilai}": "SetComp tidak diizinkan dalam ekspresi",
    "{x: 1 for x in nilai}": "DictComp tidak diizinkan dalam ekspresi",
    "max(x for x in nilai)": "GeneratorExp tidak diizinkan dalam ekspresi",
    # huge powers and other resource traps
    "2 ** 100000": "Pow tidak diizinkan dalam ekspresi",
    "9 ** 9 ** 9": "Pow tidak diizinkan dalam ekspresi",
    "x" * (MAX_LENGTH + 1): f"ekspresi lebih dari {MAX_LENGTH} karakter",
    # other syntax outside the subset
    "{'a': 1}": "Dict tidak diizinkan dalam ekspresi",
    "{1, 2}": "Set tidak diizinkan dalam ekspresi",
    "f'{capaian}'": "JoinedStr tidak diizinkan dalam ekspresi",
    "nilai[0:2]": "Slice tidak diizinkan dalam ekspresi",
    "nilai[0][0]": "hanya data tugas yang boleh diindeks",
    "'abc'[0]": "hanya data tugas yang boleh diindeks",
    "len(nilai, key=1)": "argumen bernama (keyword argument) tidak diizinkan",
    "len(*nilai)": "Starred tidak diizinkan dalam ekspresi",
    "b'x'": "literal b'x' tidak diizinkan",
    "1j": "literal 1j tidak diizinkan",
    "...": "literal Ellipsis tidak diizinkan",
    "jumlah @ jumlah": "MatMult tidak diizinkan dalam ekspresi",
    "jumlah << 100000": "LShift tidak diizinkan dalam ekspresi",
    "~jumlah": "Invert tidak diizinkan dalam ekspresi",
    "await x": "Await tidak diizinkan dalam ekspresi",
    "(y := 1)": "NamedExpr tidak diizinkan dalam ekspresi",
    "a = 1": "bukan ekspresi yang sah: invalid syntax",
    "x; y": "bukan ekspresi yang sah: invalid syntax",
    "": "ekspresi kosong",
    "   ": "ekspresi kosong",
}


@pytest.mark.parametrize("expression", REFUSED)
def test_refused_by_check(expression):
    with pytest.raises(ExpressionError) as caught:
        check(expression)
    assert REFUSED[expression] in str(caught.value)


@pytest.mark.parametrize("expression", REFUSED)
def test_refused_by_evaluate_too(expression):
    # evaluate() checks again: nothing reaches the evaluator that check() refuses
    with pytest.raises(ExpressionError) as caught:
        evaluate(expression, DATA)
    assert REFUSED[expression] in str(caught.value)


def test_check_refuses_non_strings():
    with pytest.raises(ExpressionError, match="ekspresi kosong"):
        check(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("expression,data,fragment", [
    ("belum_diisi == True", {}, "'belum_diisi == True' tidak dapat dihitung"),
    ("jumlah / 0", {"jumlah": 1}, "'jumlah / 0' tidak dapat dihitung"),
    ("nilai[10]", {"nilai": [1]}, "'nilai[10]' tidak dapat dihitung"),
    ("int(capaian)", {"capaian": "x"}, "'int(capaian)' tidak dapat dihitung"),
    ("'a' * 1000000000", {}, "tidak dapat dihitung"),       # simpleeval's length guard, not a 1 GB string
    ("[0] * 1000000000", {}, "tidak dapat dihitung"),
    ("capaian * 100000000", {"capaian": "xx"}, "tidak dapat dihitung"),
    # Every value stays small (small sizes here: without the bounds each would simply succeed,
    # and at full size they held a request for minutes, e.g. len(str([[1]*99999]*99999))).
    ("len(str([[1] * 100] * 100)) > 0", {}, "daftar tidak dapat diulang"),
    ("3 * nilai", {"nilai": [1]}, "daftar tidak dapat diulang"),
    ("'x' * 20000", {}, "teks lebih dari 10000 karakter"),
    ("capaian + capaian", {"capaian": "x" * 6000}, "nilai lebih panjang dari 10000"),
    ("round(1, -100)", {}, "round() menyimpan antara -15 dan 15 digit"),
    ("'%05d' % 1", {}, "teks tidak dapat diformat dengan %"),
    ("str(nilai)", {"nilai": [1, 2]}, "str() hanya menerima satu nilai, bukan list"),
    ("lower(nilai)", {"nilai": [1, 2]}, "lower() hanya menerima satu nilai"),
])
def test_evaluation_errors_are_expression_errors(expression, data, fragment):
    started = time.process_time()  # CPU time: a busy machine stretches wall time, not this
    with pytest.raises(ExpressionError) as caught:
        evaluate(expression, data)
    assert fragment in str(caught.value)
    assert time.process_time() - started < 1.0


def test_expression_error_is_a_value_error():
    assert issubclass(ExpressionError, ValueError)


def test_task_data_cannot_shadow_a_function_into_something_dangerous():
    # A form field named like a function is just data; calling it is still the whitelisted function.
    assert evaluate("len(nilai)", {"nilai": [1, 2], "len": "not a function"}) == 2
