"""Finding the steps the monitoring figures read by their forms, not their numbers (process.monev)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from process import monev
from process.forms import Form, FormField
from process.loader import load_file

SEED = load_file(Path(__file__).resolve().parents[2] / "definitions" / "monev_kegiatan_bidang.bpmn")


def renumbered(definition, first: int, by: int = 1):
    """Steps from `first` on moved up `by` numbers, as a version inserting steps before them."""
    return replace(definition, steps=tuple(replace(s, number=s.number + by) if s.number >= first else s
                                           for s in definition.steps))


def with_form(definition, number: int, *fields: FormField):
    return replace(definition, steps=tuple(replace(s, form=Form(fields)) if s.number == number else s
                                           for s in definition.steps))


def test_the_seed_sops_steps():
    roles = monev.roles(SEED)
    assert (roles.verify, roles.problem, roles.analysis, roles.report, roles.plan) == (5, 12, 13, 14, 1)
    assert roles.problem_steps == (12, 13, 14)
    assert roles.problem_documents == ("notulen_rapat", "laporan_solusi")


def test_a_version_that_renumbers_the_steps_has_them_at_their_new_numbers():
    roles = monev.roles(renumbered(SEED, 5))
    assert (roles.verify, roles.problem, roles.analysis, roles.report) == (6, 13, 14, 15)
    roles = monev.roles(renumbered(renumbered(SEED, 1, 2), 15, 3))   # two steps first, three before the analysis
    assert (roles.verify, roles.problem, roles.analysis, roles.report) == (7, 14, 18, 19)
    assert roles.plan == 3


def test_a_version_without_such_steps_has_none():
    lacking = with_form(with_form(SEED, 13), 14, FormField("laporan", "Laporan", "file"))
    roles = monev.roles(lacking)
    assert (roles.verify, roles.problem, roles.analysis, roles.report) == (5, 12, None, None)
    assert roles.problem_steps == (12,) and roles.problem_documents == ()
    empty = monev.roles(replace(SEED, steps=()))
    assert empty == monev.Roles()
    assert empty.problem_steps == ()


def test_the_step_whose_decision_tests_the_field_comes_first_and_only_a_yes_no_field_counts():
    # A later step also asks "terverifikasi" without a decision: step 5, whose gateway reads it, stays.
    twice = with_form(SEED, 8, FormField(monev.VERIFIED, "Terverifikasi?", "boolean"))
    assert monev.roles(twice).verify == 5
    # Without the decision at step 5, the lower number.
    undecided = replace(twice, steps=tuple(replace(s, decision=None) if s.number == 5 else s for s in twice.steps))
    assert monev.roles(undecided).verify == 5
    moved = replace(undecided, steps=tuple(replace(s, number=20) if s.number == 5 else s for s in undecided.steps))
    assert monev.roles(moved).verify == 8
    # A text field of the same name is not a yes/no verification.
    text = with_form(SEED, 5, FormField(monev.VERIFIED, "Terverifikasi", "text"))
    assert monev.roles(text).verify is None


def test_recorded_data_by_what_it_holds():
    assert monev.is_problem({"ada_kendala": True}) and not monev.is_problem({"ada_kendala": False})
    assert monev.is_analysis({"solusi": "x"}) and not monev.is_analysis({"laporan_solusi": "3"})
    assert monev.is_report({"laporan_solusi": "3"})


def test_step_numbers_as_a_heading_writes_them():
    assert monev.steps_text((12, 13, 14)) == "12–14"
    assert monev.steps_text([14, 13]) == "13, 14"
    assert monev.steps_text((12, 14)) == "12, 14"
    assert monev.steps_text((5,)) == "5"
    assert monev.steps_text(()) == ""
