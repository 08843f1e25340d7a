"""The SOP editor: process owners edit a definition in the browser, deploy versions, migrate work.

Pages for the roles pemilik_proses and admin only (403 for everyone else,
and the engine checks again). The diagram is a bpmn-js Modeler; the side
panel edits what the engine needs (lane roles, SOP numbers, standard times,
Kelengkapan/Output/forms, gateway conditions). Saving posts the XML and the
steps' JSON model; the server writes the YAML and runs the validator.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from engine import editor
from engine.db import MAX_INTEGER
from engine.errors import AlurError, Conflict, InvalidData
from process.sop_import.model import END
from web import downloads, sent
from web.app import runtime
from web.admin import role_label
from web.auth import require_roles
from web.back import errors_lead_back
from web.i18n import problem_message, say

bp = Blueprint("editor", __name__, url_prefix="/editor")
EDITOR_ROLES = editor.EDITOR_ROLES
errors_lead_back(bp, "editor.index", lambda: _("Kembali ke Editor SOP"), lambda: current_user.has(*EDITOR_ROLES))


@bp.get("/")
@require_roles(*EDITOR_ROLES)
def index():
    return render_template("editor_index.html", rows=editor.definitions(runtime(), current_user.login))


@bp.post("/unggah")
@require_roles(*EDITOR_ROLES)
def upload():
    bpmn_file, yaml_file = request.files.get("bpmn"), request.files.get("yaml")
    if bpmn_file is None or not bpmn_file.filename:
        flash(_("Pilih berkas .bpmn untuk diunggah."), "error")
        return render_template("editor_index.html", rows=editor.definitions(runtime(), current_user.login)), 422
    limit = editor.MAX_BPMN_BYTES
    bpmn_data = bpmn_file.stream.read(limit + 1)
    yaml_data = yaml_file.stream.read(limit + 1) if yaml_file is not None and yaml_file.filename else None
    try:
        draft = editor.upload(runtime(), current_user.login, bpmn_data, yaml_data, filename=bpmn_file.filename)
    except AlurError as err:
        flash(_("Unggahan ditolak: %(reason)s", reason=say(err.message)), "error")
        return render_template("editor_index.html",
                               rows=editor.definitions(runtime(), current_user.login)), err.status
    if editor.errors(draft["problems"]):
        flash(ngettext("Berkas diunggah sebagai draf %(key)s dengan %(num)d masalah yang harus diperbaiki "
                       "sebelum deploy.",
                       "Berkas diunggah sebagai draf %(key)s dengan %(num)d masalah yang harus diperbaiki "
                       "sebelum deploy.", len(editor.errors(draft["problems"])), key=draft["key"]), "error")
    elif draft["problems"]:  # warnings only: listed in the editor, and they do not stop a deploy
        flash(ngettext("Berkas diunggah sebagai draf %(key)s dengan %(num)d peringatan; draf tetap dapat di-deploy.",
                       "Berkas diunggah sebagai draf %(key)s dengan %(num)d peringatan; draf tetap dapat di-deploy.",
                       len(draft["problems"]), key=draft["key"]), "success")
    else:
        flash(_("Berkas diunggah sebagai draf %(key)s tanpa masalah.", key=draft["key"]), "success")
    return redirect(url_for(".edit", key=draft["key"]))


@bp.post("/impor")
@require_roles(*EDITOR_ROLES)
def import_table():
    """An SOP table (CSV, XLSX, the text of its PDF, our YAML) becomes a draft with its open questions."""
    source = request.files.get("source")
    if source is None or not source.filename:
        flash(_("Pilih berkas tabel SOP untuk diimpor."), "error")
        return render_template("editor_index.html", rows=editor.definitions(runtime(), current_user.login)), 422
    data = source.stream.read(editor.MAX_SOURCE_BYTES + 1)
    key = (request.form.get("key") or "").strip() or None
    try:
        draft = editor.import_source(runtime(), current_user.login, source.filename, data, key=key)
    except AlurError as err:
        flash(_("Impor ditolak: %(reason)s", reason=say(err.message)), "error")
        return render_template("editor_index.html",
                               rows=editor.definitions(runtime(), current_user.login)), err.status
    asked = len(editor.source(runtime(), draft["key"], current_user.login)["questions"])
    if asked:
        flash(ngettext("Tabel SOP diimpor sebagai draf %(key)s. Jawab %(num)d pertanyaan yang ditandai pada "
                       "diagram sebelum deploy.",
                       "Tabel SOP diimpor sebagai draf %(key)s. Jawab %(num)d pertanyaan yang ditandai pada "
                       "diagram sebelum deploy.", asked, key=draft["key"]), "success")
    else:
        flash(_("Tabel SOP diimpor sebagai draf %(key)s tanpa pertanyaan terbuka.", key=draft["key"]), "success")
    return redirect(url_for(".edit", key=draft["key"]))


@bp.post("/<key>/pertanyaan")
@require_roles(*EDITOR_ROLES)
def answer(key):
    """The question form: `jawaban-<question id>` fields; empty ones stay open. The diagram is redrawn."""
    revision = sent.seen("revision")
    answers: dict[str, dict[str, str]] = {}
    for name, value in request.form.items():
        if name.startswith("jawaban-") and value.strip():
            element, _dot, field = name[len("jawaban-"):].rpartition(".")
            answers.setdefault(element, {})[field] = value.strip()
    if not answers:
        flash(_("Isi sedikitnya satu jawaban."), "error")
        return redirect(url_for(".edit", key=key))
    return _question_change(key, lambda: editor.answer_questions(
        runtime(), key, current_user.login, answers, revision=revision))


@bp.post("/<key>/pertanyaan/selesai")
@require_roles(*EDITOR_ROLES)
def resolve(key):
    """The owner answered a question in the diagram itself: it leaves the list."""
    revision = sent.seen("revision")
    question = request.form.get("question") or ""
    return _question_change(key, lambda: editor.resolve_question(
        runtime(), key, current_user.login, question, revision=revision))


def _question_change(key: str, change):
    try:
        draft = change()
    except AlurError as err:
        flash(_("Jawaban ditolak: %(reason)s", reason=say(err.message)), "error")
        return _editor_page(key, err.status)
    flash(_("Jawaban disimpan di draf (revisi %(revision)d).", revision=draft["revision"]), "success")
    return redirect(url_for(".edit", key=key))


@bp.get("/<key>")
@require_roles(*EDITOR_ROLES)
def edit(key):
    return _editor_page(key)


@bp.get("/<key>/sumber.json")
@require_roles(*EDITOR_ROLES)
def source(key):
    return jsonify(spoken(editor.source(runtime(), key, current_user.login)))


@bp.post("/<key>/draf")
@require_roles(*EDITOR_ROLES)
def save(key):
    """JSON in: {bpmn_xml, steps (JSON model or null), revision}; JSON out: the draft with its problems."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON parser goes
        body = None
    if not isinstance(body, dict):
        return jsonify({"error": _("Isi permintaan harus JSON.")}), 400
    revision = body.get("revision")
    if revision is not None and not isinstance(revision, int):
        return jsonify({"error": _("Revisi tidak sah.")}), 400
    try:
        draft = editor.save_draft(runtime(), key, current_user.login, body.get("bpmn_xml"),
                                  steps=body.get("steps"), revision=revision)
    except AlurError as err:
        return jsonify({"error": say(err.message),
                        "fields": {k: say(v) for k, v in getattr(err, "errors", {}).items()}}), err.status
    return jsonify(spoken(draft))


@bp.post("/<key>/deploy")
@require_roles(*EDITOR_ROLES)
def deploy(key):
    try:
        result = editor.deploy_draft(runtime(), key, current_user.login,
                                     revision=sent.seen("revision"))
    except (InvalidData, Conflict) as err:
        flash(_("Deploy ditolak: %(reason)s", reason=say(err.message)), "error")
        return _editor_page(key, err.status)
    if result["created"]:
        flash(_("Versi %(version)d di-deploy.", version=result["version"]), "success")
    else:
        flash(_("Draf sama dengan versi %(version)d; tidak ada versi baru.", version=result["version"]), "success")
    return redirect(url_for(".versions", key=key))


@bp.post("/<key>/buang")
@require_roles(*EDITOR_ROLES)
def discard(key):
    try:
        editor.discard_draft(runtime(), key, current_user.login, revision=sent.seen("revision"))
    except Conflict as err:  # a colleague saved it meanwhile: the page shows what is there now
        flash(_("Draf tidak dibuang: %(reason)s", reason=say(err.message)), "error")
        return _editor_page(key, err.status)
    flash(_("Draf dibuang."), "success")
    return redirect(url_for(".edit", key=key))


def _editor_page(key: str, status: int = 200):
    info = spoken(editor.source(runtime(), key, current_user.login))
    return render_template("editor.html", info=info, labels=_labels(), end=END,
                           roles=[(r, role_label(r)) for r in info["roles"]]), status


@bp.get("/<key>/versi")
@require_roles(*EDITOR_ROLES)
def versions(key):
    return _versions_page(key)


@bp.post("/<key>/migrasi")
@require_roles(*EDITOR_ROLES)
def migrate(key):
    rt, login = runtime(), current_user.login
    target = _form_int("target")
    if request.form.get("instance"):
        instance_id = _form_int("instance")
        if instance_id is None:
            abort(400)
        results = [editor.migration_result(rt, instance_id, login, target)]
    else:
        results = editor.migrate_all(rt, key, login, target)
    return _versions_page(key, results)


def _form_int(name: str) -> int | None:
    """A whole number from the form (None if missing or not one); 404 past the database's integers,
    where no instance or version can be, and the database would refuse to look."""
    value = request.form.get(name, type=int)
    if value is not None and abs(value) > MAX_INTEGER:
        abort(404)
    return value


def _versions_page(key: str, results: list | None = None):
    rt, login = runtime(), current_user.login
    rows = editor.versions(rt, key, login)
    candidates = editor.migration_candidates(rt, key, login)
    return render_template("editor_versions.html", key=key, rows=rows, candidates=candidates, results=results)


@bp.get("/<key>/versi/<int:version>")
@require_roles(*EDITOR_ROLES)
def version(key, version):
    info = editor.version_source(runtime(), key, version, current_user.login)
    info.pop("bpmn_xml")
    return render_template("editor_version.html", info=info)


@bp.get("/<key>/versi/<int:version>/diagram.bpmn")
@require_roles(*EDITOR_ROLES)
def version_diagram(key, version):
    info = editor.version_source(runtime(), key, version, current_user.login)
    return Response(info["bpmn_xml"], mimetype="application/xml")


@bp.get("/<key>/draf.bpmn")
@require_roles(*EDITOR_ROLES)
def download(key):
    info = editor.source(runtime(), key, current_user.login)
    return Response(info["bpmn_xml"], mimetype="application/xml",
                    headers={"Content-Disposition": downloads.attachment(f"{key}.bpmn")})


def spoken(info: dict) -> dict:
    """The draft's problems and the import's questions in the user's language, where they are translatable
    (an answer that carries no questions is not given an empty list of them)."""
    said = {**info, "problems": [_spoken_problem(p) for p in info.get("problems", [])]}
    if "questions" in info:
        said["questions"] = [_spoken_question(q) for q in info["questions"]]
    return said


def _spoken_problem(problem: dict) -> dict:
    return {**problem, "message": problem_message(problem)}


def _spoken_question(question: dict) -> dict:
    return {**question, "text": say(question["text"])} if "text" in question else question


def _labels() -> dict[str, str]:
    """The editor script's words, translated on the server."""
    return {
        "nothing": _("Pilih lane, langkah atau alur pada diagram untuk mengubah isinya."),
        "name": _("Nama"), "lane": _("Lane"), "role": _("Peran"), "scope": _("Cakupan"),
        "scope_bidang": _("Per bidang"), "scope_office": _("Seluruh kantor"),
        "parent_lane": _("Lane ini dibagi: namanya hanya judul. Pelaksananya lane di dalamnya; pilih peran "
                         "masing-masing di sana."),
        "step": _("Langkah SOP"), "number": _("Nomor SOP (alur:step)"),
        "mutu_baku": _("Mutu baku waktu"), "mutu_hint": _("mis. 30 Menit, 2 Jam, 7 Hari, 7 Hari Kerja"),
        "mutu_invalid": _("Tidak terbaca: tulis angka lalu Menit, Jam atau Hari."),
        "kelengkapan": _("Kelengkapan"), "output": _("Output"), "form": _("Isian formulir"),
        "field_name": _("Nama isian"), "field_label": _("Label"), "field_type": _("Jenis"),
        "field_required": _("Wajib"), "field_choices": _("Pilihan (pisahkan dengan koma)"),
        "field_help": _("Bantuan"), "field_not_before": _("Tidak sebelum"), "field_min": _("Paling kecil"),
        "field_whole": _("Bilangan bulat"),
        "add_field": _("Tambah isian"), "remove": _("Hapus"),
        "up": _("Naik"), "down": _("Turun"),
        "flow": _("Alur"), "condition": _("Kondisi"), "condition_hint": _("mis. terverifikasi == True"),
        "default_flow": _("Alur bawaan (jika tidak ada kondisi yang terpenuhi)"),
        "no_yaml": _("YAML definisi tidak terbaca; Kelengkapan, Output dan formulir tidak dapat diubah di sini."),
        "number_taken": _("Nomor ini sudah dipakai langkah lain."),
        "number_invalid": _("Nomor SOP harus bilangan bulat positif."),
        "saving": _("Menyimpan…"), "saved": _("Draf disimpan."), "save_failed": _("Gagal menyimpan:"),
        "session_ended": _("Sesi Anda telah berakhir: draf belum tersimpan. Masuk lagi di tab lain, lalu simpan "
                           "lagi; diagram tetap di halaman ini."),
        "problems_none": _("Tidak ada masalah. Draf siap di-deploy."),
        # A count's forms for one and for more ("{n}": the count), which the script picks from.
        "problems_some": [ngettext("%(n)s masalah harus diperbaiki sebelum deploy.",
                                   "%(n)s masalah harus diperbaiki sebelum deploy.", count, n="{n}") for count in (1, 2)],
        "warning": _("peringatan"),
        "warnings_only": [ngettext("%(n)s peringatan; draf tetap dapat di-deploy.",
                                   "%(n)s peringatan; draf tetap dapat di-deploy.", count, n="{n}") for count in (1, 2)],
        "unsaved": _("Ada perubahan yang belum disimpan."),
        "leave": _("Perubahan belum disimpan. Tinggalkan halaman?"),
        "load_failed": _("Diagram tidak dapat dibuka:"),
        "timer_created": _("Timer mutu baku dibuat pada langkah ini."),
        "origin_draft": _("Draf revisi %(revision)s disimpan; belum di-deploy.", revision="{revision}"),
        "question": _("Pertanyaan dari impor"),
    }
