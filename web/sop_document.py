"""The official SOP document of a deployed version: an HTML page, a PDF, and the header editor.

The document's body is one template (`sop_sheet.html`) shared by the page and
the PDF. The page follows the reader's language for the document's labels; the
PDF is the official paper and is always in Bahasa Indonesia. The PDF is drawn
by WeasyPrint from HTML that never refers to anything outside itself.
"""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from engine import definitions
from engine.editor import EDITOR_ROLES, may_edit
from engine.errors import Conflict, InvalidData
from process import sop_document
from web import downloads
from web.app import runtime
from web.auth import require_roles

bp = Blueprint("sop_document", __name__, url_prefix="/sop")


@bp.get("/<key>")
@login_required
def latest(key):
    found = definitions.get_version(runtime(), key)
    return redirect(url_for(".show", key=key, version=found.version))


@bp.get("/<key>/v<int:version>")
@login_required
def show(key, version):
    found = definitions.get_version(runtime(), key, version)
    return render_template("sop_document.html", found=found, may_edit=may_edit(current_user.roles),
                           revision_behind=definitions.revision_behind(runtime(), found), **_context(found))


@bp.get("/<key>/v<int:version>.pdf")
@login_required
def pdf(key, version):
    found = definitions.get_version(runtime(), key, version)
    with force_locale("id"):
        html = render_template("sop_print.html", found=found, **_context(found))
    response = Response(render_pdf(html), mimetype="application/pdf")
    response.headers["Content-Disposition"] = downloads.attachment(f"SOP-{key}-v{version}.pdf")
    return response


@bp.route("/<key>/kop", methods=["GET", "POST"])
@require_roles(*EDITOR_ROLES)
def edit_header(key):
    found = definitions.get_version(runtime(), key)
    errors: dict[str, str] = {}
    conflict = False
    values = header_form_values(found.definition.header)
    if request.method == "POST":
        values = request.form.to_dict()
        base = request.form.get("base_version", "")
        try:
            deployed = definitions.update_header(runtime(), key, header_from_form(request.form), current_user.login,
                                                 expected_version=int(base) if base.isascii() and base.isdigit() else None)
        except InvalidData as err:
            errors = err.errors or {"": err.message}
        except Conflict:
            # A version deployed meanwhile (a colleague's header, a new diagram): the form again with what
            # was typed, standing on that version, so nothing typed is lost and one more press saves it.
            found = definitions.get_version(runtime(), key)
            conflict = True
        else:
            if deployed.created:
                flash(_("Kop SOP disimpan sebagai versi %(version)s.", version=deployed.version), "success")
            else:
                flash(_("Tidak ada perubahan pada kop SOP."), "success")
            return redirect(url_for(".show", key=key, version=deployed.version))
    return render_template("sop_kop.html", found=found, values=values, errors=errors, conflict=conflict), \
        409 if conflict else 422 if errors else 200


# -- helpers -------------------------------------------------------------------------

def _context(found: definitions.Version) -> dict:
    doc = sop_document.build(found.definition, runtime().calendar.rule())
    return {"doc": doc,
            "cell_svg": lambda row, column: Markup(sop_document.cell_svg(doc, row, column))}


def render_pdf(html: str) -> bytes:
    """The PDF of a self-contained HTML page; WeasyPrint may not fetch anything (no files, no network).

    Only PNG and JPEG data: URLs are read, which hold their bytes in the page
    itself (the logo, web/letterhead.py).
    """
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    class RefuseFetch(URLFetcher):
        def fetch(self, url, headers=None):
            if not url.startswith(("data:image/png;", "data:image/jpeg;")):
                raise ValueError(f"the SOP document loads nothing from outside ({url[:80]})")
            return super().fetch(url, headers)

    return HTML(string=html, base_url=None, url_fetcher=RefuseFetch()).write_pdf()


TEXT_FIELDS = definitions.HEADER_TEXTS
LIST_FIELDS = definitions.HEADER_LISTS
DATE_FIELDS = definitions.HEADER_DATES


def header_form_values(header: dict) -> dict[str, str]:
    """The header as the form shows it: one text per field, lists one item per line."""
    values = {key: str(header.get(key) or "") for key in TEXT_FIELDS + DATE_FIELDS}
    signer = header.get("disahkan_oleh")
    signer = signer if isinstance(signer, dict) else {"jabatan": signer or ""}
    for part in definitions.SIGNER_KEYS:
        values[f"disahkan_oleh.{part}"] = str(signer.get(part) or "")
    for key in LIST_FIELDS:
        items = header.get(key) or []
        values[key] = "\n".join(str(i) for i in items) if isinstance(items, list) else str(items)
    return values


def header_from_form(form) -> dict:
    header = {key: form.get(key, "") for key in TEXT_FIELDS + DATE_FIELDS}
    header["disahkan_oleh"] = {part: form.get(f"disahkan_oleh.{part}", "") for part in definitions.SIGNER_KEYS}
    for key in LIST_FIELDS:
        header[key] = form.get(key, "")  # one item per line, cut by the engine
    return header
