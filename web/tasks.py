"""The task page: the step's form with its guidance, drafts, documents, completion."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required

from engine import queries, services
from engine.documents import Upload
from engine.errors import Conflict, Forbidden, InvalidData, NotFound, StepBlocked, TooLarge
from web import sent
from web.app import runtime

bp = Blueprint("tasks", __name__)


def form_data(step: dict) -> dict:
    """The submitted fields of a step's form, typed as the form says (files go separately)."""
    data = {}
    for field in step["fields"]:
        if field["type"] == "file":
            continue
        if field["type"] == "boolean":
            value = request.form.get(field["name"])
            data[field["name"]] = None if value in (None, "") else value == "true"
        else:
            data[field["name"]] = request.form.get(field["name"], "")
    return data


def uploaded_files(step: dict) -> dict[str, Upload]:
    """The files chosen, each hashed once for both the form's retry key and the completion."""
    files = {}
    for field in (f for f in step["fields"] if f["type"] == "file"):
        upload = request.files.get(field["name"])
        if upload and upload.filename:
            files[field["name"]] = Upload(upload.filename, upload.read())
    return files


@bp.route("/tugas/<task_id>", methods=["GET", "POST"])
@login_required
def show(task_id):
    view = queries.task_view(runtime(), task_id, current_user.login)
    if request.method != "POST":  # GET, and HEAD: never a sending of the form
        return render_template("task.html", view=view, errors={})
    data = form_data(view["step"])
    if request.form.get("action") == "draft":
        try:
            queries.save_draft(runtime(), task_id, current_user.login, data, language=str(get_locale()))
        except InvalidData as err:  # a text too long to keep: the form again, nothing else changed
            view["draft"] = data
            return render_template("task.html", view=view, errors=err.errors), err.status
        flash(_("Draf disimpan."), "success")
        chosen = uploaded_files(view["step"])
        if chosen:  # a draft keeps text only: say so, or an optional document is lost without a word
            flash(_("Berkas tidak disimpan bersama draf (%(files)s); pilih lagi saat menyelesaikan langkah.",
                    files=_labels(view["step"], chosen)), "error")
        return redirect(url_for(".show", task_id=task_id))
    chosen = uploaded_files(view["step"])
    seen, language = sent.seen(), str(get_locale())  # how a number typed on this page reads
    asked = services.completion_request_hash(task_id, data, chosen, seen, language)
    try:
        result = services.complete(runtime(), task_id, current_user.login, data, files=chosen,
                                   expected_version=seen, language=language, retry_key=sent.retry_key(asked))
    except StepBlocked as err:
        view["draft"] = data
        return render_template("task.html", view=view, errors={}, blocked=err.message,
                               files_dropped=_labels(view["step"], chosen)), 422
    except (InvalidData, TooLarge) as err:  # the form again, with what was typed and where it went wrong
        view["draft"] = data
        # A page cannot put a file back in its field: the files chosen are named, to be chosen again.
        return render_template("task.html", view=view, errors=err.errors,
                               files_dropped=_labels(view["step"], set(chosen) - set(err.errors))), err.status
    except Conflict as err:
        return changed_meanwhile(task_id, data, err)
    if result.get("replayed"):  # the form sent again after it went through (a reload, a double click)
        flash(_("Langkah %(n)d sudah Anda selesaikan dengan formulir ini; tidak dikirim lagi.", n=result["step"]),
              "success")
        return redirect(url_for("instances.show", instance_id=result["instance_id"]))
    flash(_("Langkah %(n)d selesai.", n=result["step"]), "success")
    return redirect(url_for("worklist.index"))


def _labels(step: dict, names) -> str:
    """The labels of a step's fields named in `names`, in the form's order: files not kept, to choose again."""
    return ", ".join(f["label"] for f in step["fields"] if f["name"] in names)


def changed_meanwhile(task_id: str, data: dict, conflict: Conflict):
    """The task moved while its form was open (claimed again, or the instance moved on a step).

    If it is still this user's to complete, the form comes back with what they
    typed and the task as it is now, so nothing typed is lost and one more
    press sends it; otherwise the error page says who has it or what became
    of it.
    """
    try:
        view = queries.task_view(runtime(), task_id, current_user.login)
    except (Forbidden, NotFound):
        raise conflict from None  # moved out of reach meanwhile: the conflict is still the answer
    if not view["may_complete"]:
        raise conflict
    view["draft"] = data
    return render_template("task.html", view=view, errors={}, changed_meanwhile=True), 409


@bp.get("/dokumen/<int:document_id>")
@login_required
def document(document_id):
    path, filename, content_type = queries.document_file(runtime(), document_id, current_user.login)
    return send_file(path, mimetype=content_type, as_attachment=True, download_name=filename)
