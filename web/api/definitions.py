"""API resource: the process owner's actions on SOP definitions (engine.editor).

Drafts (read, save, discard), uploads of BPMN files from other tools,
deploying a draft as a new version, reading deployed versions, and moving
running instances to a newer version. Every view is one call to
`engine.editor`, which checks that the caller is a process owner or an
administrator (403 otherwise); the views add no permission checks of their own
and skip none.
"""
from __future__ import annotations

from flask import current_app, url_for
from marshmallow import Schema, ValidationError, validate, validates_schema

from engine import editor
from process.messages import Text
from web.i18n import problem_message, say
from web.api.base import (
    NOT_YOURS, Bool, Dict, In, Int, List, Moment, Nested, Query, Range, Str, Upload, _runtime, endpoint, login,
)

# -- request schemas -------------------------------------------------------------------

REVISION_HELP = ("Revisi draf yang dibuka klien (0 bila yang dibuka adalah versi); 409 bila draf sudah disimpan "
                 "orang lain, dibuang atau di-deploy sejak itu. Tanpa revision (atau dengan null), tanpa pemeriksaan.")
TARGET_HELP = "Nomor versi tujuan; bawaan: versi terbaru"


def editors_only(principal) -> None:
    """Only process owners and administrators call these endpoints: refused before the body is read."""
    editor.require_editor(principal.login, principal.roles)


class DraftBodySchema(In):
    bpmn_xml = Str(required=True, metadata={"description": "Diagram BPMN 2.0 lengkap (XML)"})
    yaml_text = Str(allow_none=True, load_default=None,
                    metadata={"description": "Teks YAML definisi lengkap. Tanpa yaml_text dan steps, "
                                             "YAML draf (atau versi terbaru) tetap dipakai."})
    steps = Dict(keys=Str(), allow_none=True, load_default=None,
                 metadata={"description": "Pengganti bagian steps YAML (nomor langkah -> isinya, seperti "
                                          "`steps` pada GET draft); bagian YAML lainnya tetap"})
    revision = Int(allow_none=True, load_default=None,
                   validate=Range(min=0, error=Text("harus 0 atau lebih")),
                   metadata={"description": REVISION_HELP})

    @validates_schema
    def _yaml_or_steps(self, data, **kwargs):
        if data.get("yaml_text") is not None and data.get("steps") is not None:
            raise ValidationError({"steps": [Text("kirim yaml_text atau steps, tidak keduanya")]})


class UploadFormSchema(In):
    bpmn = Upload(required=True, metadata={"description": "Berkas .bpmn (mis. dari Camunda Modeler); "
                                                          "id prosesnya menjadi kunci definisi"})
    yaml = Upload(metadata={"description": "Berkas .yaml definisi (opsional)"})
    revision = Int(allow_none=True, load_default=None, validate=Range(min=0, error=Text("harus 0 atau lebih")),
                   metadata={"description": "Revisi draf yang akan diganti. Tanpa revision, draf yang terakhir "
                                            "disimpan orang lain tidak diganti (409); draf sendiri diganti."})


class ImportFormSchema(In):
    source = Upload(required=True, metadata={"description": "Tabel SOP format nasional: .xlsx, .csv, .txt (teks "
                                                            "PDF SOP) atau .yaml (format SOP Alur)"})
    key = Str(validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_.-]{0,119}$",
                                       error=Text("huruf, angka, _ . -; diawali huruf")),
              metadata={"description": "Kunci definisi baru; bawaan: dari nama berkas"})


class AnswersBodySchema(In):
    answers = Dict(keys=Str(), values=Dict(keys=Str()), required=True,
                   metadata={"description": "Jawaban per elemen: id elemen -> {pelaksana|waktu|ya|tidak|peran: "
                                            "nilai}, mis. {\"Step_04\": {\"pelaksana\": \"Tim Teknis\"}}"})
    revision = Int(allow_none=True, load_default=None,
                   validate=Range(min=0, error=Text("harus 0 atau lebih")),
                   metadata={"description": REVISION_HELP})


class RevisionQuerySchema(Query):
    revision = Int(validate=Range(min=0, error=Text("harus 0 atau lebih")),
                   metadata={"description": REVISION_HELP})


class RevisionBodySchema(In):
    revision = Int(allow_none=True, load_default=None,
                   validate=Range(min=0, error=Text("harus 0 atau lebih")),
                   metadata={"description": REVISION_HELP})


class MigrationQuerySchema(Query):
    target = Int(validate=Range(min=1, error=Text("harus nomor versi (1 atau lebih)")),
                 metadata={"description": TARGET_HELP})


class MigrateBodySchema(In):
    target = Int(allow_none=True, load_default=None,
                 validate=Range(min=1, error=Text("harus nomor versi (1 atau lebih)")),
                 metadata={"description": TARGET_HELP})


# -- response schemas ------------------------------------------------------------------

class ProblemMessage(Str):
    """A draft's problem in the token owner's language, as the editor's pages say it."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(problem_message(obj), attr, obj, **kwargs)


class Spoken(Str):
    """An engine message (an import's question, a migration's reason) in the token owner's language."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(say(value), attr, obj, **kwargs)


class ProblemSchema(Schema):
    file = Str()
    element = Str(metadata={"description": "Elemen BPMN atau jalur YAML (mis. steps.7.form.x); '-' bila umum"})
    message = ProblemMessage()
    element_id = Str(allow_none=True, metadata={"description": "Elemen diagram tempat masalah ditandai, bila ada"})
    severity = Str(metadata={"enum": ["error", "warning"],
                             "description": "error menghalangi deploy; warning hanya peringatan"})


class DraftStateSchema(Schema):
    revision = Int(metadata={"description": "Revisi draf (0: belum ada draf); kirim kembali sebagai revision"})
    problems = List(Nested(ProblemSchema))
    saved_by = Str(allow_none=True)
    saved_at = Moment()
    base_version = Int(allow_none=True, metadata={"description": "Versi tempat draf ini dimulai"})
    deployable = Bool(metadata={"description": "Draf tanpa masalah yang dapat di-deploy"})


class DraftSchema(DraftStateSchema):
    key = Str()
    origin = Str(metadata={"enum": ["draft", "version"], "description": "Draf, atau versi terbaru bila tanpa draf"})


class QuestionSchema(Schema):
    id = Str(metadata={"description": "ELEMEN.ISIAN, mis. Gateway_12.tidak"})
    element = Str(metadata={"description": "Elemen diagram tempat pertanyaan ditandai"})
    field = Str(metadata={"enum": ["pelaksana", "waktu", "ya", "tidak", "peran"]})
    text = Spoken()
    options = List(Str(), metadata={"description": "Jawaban yang mungkin, bila terbatas"})


class ImportedDraftSchema(DraftSchema):
    questions = List(Nested(QuestionSchema), metadata={"description": "Pertanyaan terbuka dari impor; draf tidak "
                                                                       "dapat di-deploy selama masih ada"})


class DefinitionSourceSchema(ImportedDraftSchema):
    bpmn_xml = Str()
    yaml_text = Str()
    steps = Dict(allow_none=True, metadata={"description": "Bagian steps YAML sebagai JSON; null bila YAML "
                                                           "tidak terbaca"})
    latest_version = Int(allow_none=True)
    roles = List(Str(), metadata={"description": "Peran lajur yang dikenal"})
    scopes = List(Str())
    field_types = List(Str())


class DefinitionEntrySchema(Schema):
    key = Str()
    name = Str()
    version = Int(allow_none=True, metadata={"description": "Versi terbaru; null bila belum pernah di-deploy"})
    deployed_at = Moment()
    deployed_by = Str(allow_none=True)
    draft = Nested(DraftStateSchema, allow_none=True)
    running = Int(metadata={"description": "Kegiatan yang sedang berjalan (semua versi)"})


class DefinitionEntryListSchema(Schema):
    definitions = List(Nested(DefinitionEntrySchema))


class DeployResultSchema(Schema):
    key = Str()
    version = Int()
    created = Bool(metadata={"description": "false bila draf sama dengan versi terbaru (tidak ada versi baru)"})
    summary = Str(allow_none=True, metadata={"description": "Ringkasan perubahan terhadap versi sebelumnya"})
    deployed_by = Str(allow_none=True)
    deployed_at = Moment()


class DefinitionVersionSchema(Schema):
    key = Str()
    version = Int()
    name = Str()
    deployed_by = Str(allow_none=True)
    deployed_at = Moment()
    summary = Str(allow_none=True)
    content_hash = Str()
    running = Int(metadata={"description": "Kegiatan yang sedang berjalan pada versi ini"})


class DefinitionVersionListSchema(Schema):
    key = Str()
    versions = List(Nested(DefinitionVersionSchema), metadata={"description": "Terbaru lebih dulu"})


class VersionSourceSchema(Schema):
    key = Str()
    version = Int()
    name = Str()
    bpmn_xml = Str()
    yaml_text = Str()
    deployed_by = Str(allow_none=True)
    deployed_at = Moment()
    summary = Str(allow_none=True)


class MigrationCandidateSchema(Schema):
    id = Int()
    title = Str()
    bidang = Str()
    version = Int(metadata={"description": "Versi yang dipakai kegiatan sekarang"})
    current_steps = List(Int())
    eligible = Bool(metadata={"description": "Dapat dipindah ke versi tujuan"})
    reason = Spoken(allow_none=True, metadata={"description": "Alasan tidak dapat dipindah"})


class MigrationCandidatesSchema(Schema):
    key = Str()
    target = Int()
    instances = List(Nested(MigrationCandidateSchema))


class MovedStepSchema(Schema):
    step = Int()
    task_id = Str()
    lane = List(Str(), metadata={"description": "Peran lajur lama dan baru, bila berubah"})
    unclaimed = Str(metadata={"description": "Pemegang tugas yang klaimnya dilepas karena lajur berubah"})


class MigrationSchema(Schema):
    id = Int()
    from_ = Int(attribute="from", data_key="from")
    to = Int()
    steps = List(Nested(MovedStepSchema))
    migrated = Bool(metadata={"description": "false bila kegiatan sudah memakai versi tujuan: tidak ada yang berubah"})


class MigrationOutcomeSchema(Schema):
    id = Int()
    title = Str()
    migrated = Bool()
    reason = Spoken(allow_none=True, metadata={"description": "Alasan penolakan"})
    from_ = Int(attribute="from", data_key="from")
    to = Int()


class MigrationOutcomeListSchema(Schema):
    key = Str()
    results = List(Nested(MigrationOutcomeSchema))


# -- endpoints: definitions and drafts --------------------------------------------------

@endpoint("GET", "/definitions", "Definisi SOP dengan versi terbaru dan drafnya (pemilik proses)",
          response=DefinitionEntryListSchema, errors=(403,), guard=editors_only)
def list_definitions():
    return {"definitions": editor.definitions(_runtime(), login())}


@endpoint("GET", "/definitions/<key>/draft", "Draf definisi, atau versi terbarunya bila tidak ada draf",
          response=DefinitionSourceSchema, errors=NOT_YOURS, guard=editors_only)
def show_draft(key):
    return editor.source(_runtime(), key, login())


@endpoint("PUT", "/definitions/<key>/draft", "Simpan draf; jawaban memuat masalah yang ditemukan",
          body=DraftBodySchema, response=DraftSchema, errors=(400, 403, 409, 413, 422), guard=editors_only)
def save_draft(key, body):
    """Saving never changes deployed versions or running work. A draft with problems is stored
    (200, with `problems`); it cannot be deployed until they are fixed."""
    return editor.save_draft(_runtime(), key, login(), body["bpmn_xml"], yaml_text=body["yaml_text"],
                             steps=body["steps"], revision=body["revision"])


@endpoint("DELETE", "/definitions/<key>/draft", "Buang draf", status=204, query=RevisionQuerySchema,
          response_doc={"description": "Draf dibuang"}, errors=NOT_YOURS + (409,), guard=editors_only)
def discard_draft(key, query):
    editor.discard_draft(_runtime(), key, login(), revision=query.get("revision"))
    return current_app.response_class(status=204)


@endpoint("POST", "/definitions/uploads", "Unggah berkas BPMN (dan YAML) sebagai draf", form=UploadFormSchema,
          response=DraftSchema, status=201, errors=(400, 403, 409, 413, 422), guard=editors_only)
def upload_definition(form):
    """The draft's key is the process id in the file. A file that is not BPMN at all (malformed XML,
    a DTD or entities) is refused with 422 and nothing is stored; anything else becomes a draft whose
    `problems` say what Alur still needs. A draft under that key that someone else saved last is
    replaced only when `revision` names it (409 otherwise)."""
    bpmn_file, yaml_file = form["bpmn"], form.get("yaml")
    # One byte over the limit is enough for the engine to refuse it as too large.
    bpmn_data = bpmn_file.stream.read(editor.MAX_BPMN_BYTES + 1)
    yaml_data = yaml_file.stream.read(editor.MAX_YAML_BYTES + 1) if yaml_file is not None else None
    draft = editor.upload(_runtime(), login(), bpmn_data, yaml_data, filename=bpmn_file.filename,
                          revision=form["revision"])
    return draft, {"Location": url_for(".show_draft", key=draft["key"])}


@endpoint("POST", "/definitions/imports", "Impor tabel SOP sebagai draf definisi baru", form=ImportFormSchema,
          response=ImportedDraftSchema, status=201, errors=(400, 403, 409, 413, 422), guard=editors_only)
def import_definition(form):
    """The table becomes a BPMN diagram and its YAML; what the table leaves open is listed in
    `questions` (and among `problems`). A table that cannot be read is refused with 422 naming the row;
    a key already used by a definition or a draft with 409. Nothing is stored then."""
    source = form["source"]
    draft = editor.import_source(_runtime(), login(), source.filename or "sop", source.stream.read(
        editor.MAX_SOURCE_BYTES + 1), key=form.get("key"))
    return draft, {"Location": url_for(".show_draft", key=draft["key"])}


@endpoint("POST", "/definitions/<key>/draft/answers", "Jawab pertanyaan impor; diagram draf digambar ulang",
          body=AnswersBodySchema, response=ImportedDraftSchema, errors=NOT_YOURS + (409, 422), guard=editors_only)
def answer_questions(key, body):
    return editor.answer_questions(_runtime(), key, login(), body["answers"], revision=body["revision"])


@endpoint("POST", "/definitions/<key>/draft/questions/<question>/resolved",
          "Tandai pertanyaan impor sudah dijawab (di diagram)", body=RevisionBodySchema, response=ImportedDraftSchema,
          errors=NOT_YOURS + (409,), guard=editors_only)
def resolve_question(key, question, body):
    return editor.resolve_question(_runtime(), key, login(), question, revision=body["revision"])


@endpoint("POST", "/definitions/<key>/draft/deploy", "Deploy draf sebagai versi baru", response=DeployResultSchema,
          body=RevisionBodySchema, status=201, also=(200,), errors=NOT_YOURS + (409, 422), guard=editors_only)
def deploy_draft(key, body):
    """201 with the new version and its change summary; 200 (`created` false) when the draft equals
    the newest version. 422 while the draft has problems (listed in error.fields, element -> message);
    409 when another change was deployed after the draft was started, or when `revision` is given and
    the draft was saved again since."""
    result = editor.deploy_draft(_runtime(), key, login(), revision=body["revision"])
    headers = {"Location": url_for(".show_version", key=key, version=result["version"])}
    return result, headers, 201 if result["created"] else 200


# -- endpoints: versions ------------------------------------------------------------------

@endpoint("GET", "/definitions/<key>/versions", "Versi yang pernah di-deploy, terbaru lebih dulu",
          response=DefinitionVersionListSchema, errors=NOT_YOURS, guard=editors_only)
def list_versions(key):
    return {"key": key, "versions": editor.versions(_runtime(), key, login())}


@endpoint("GET", "/definitions/<key>/versions/<int:version>", "Berkas BPMN dan YAML satu versi",
          response=VersionSourceSchema, errors=NOT_YOURS, guard=editors_only)
def show_version(key, version):
    return editor.version_source(_runtime(), key, version, login())


# -- endpoints: migrating running instances ------------------------------------------------

@endpoint("GET", "/definitions/<key>/migrations", "Kegiatan berjalan pada versi lama dan apakah dapat dipindah",
          query=MigrationQuerySchema, response=MigrationCandidatesSchema, errors=NOT_YOURS + (422,), guard=editors_only)
def list_migrations(key, query):
    return editor.migration_candidates(_runtime(), key, login(), query.get("target"))


@endpoint("POST", "/definitions/<key>/migrations", "Pindahkan semua kegiatan berjalan ke versi tujuan",
          body=MigrateBodySchema, response=MigrationOutcomeListSchema, errors=NOT_YOURS + (400, 422),
          guard=editors_only)
def migrate_definition(key, body):
    """One result per instance on an older version, refusals included (`migrated` false, `reason`)."""
    return {"key": key, "results": editor.migrate_all(_runtime(), key, login(), body["target"])}


@endpoint("POST", "/instances/<int:instance_id>/migrate", "Pindahkan satu kegiatan ke versi SOP yang lebih baru",
          body=MigrateBodySchema, response=MigrationSchema, errors=NOT_YOURS + (400, 409, 422), guard=editors_only)
def migrate_instance(instance_id, body):
    """Allowed when every step the instance is waiting on exists in the target version under the same
    element id; otherwise 409 with the reason (and the refusal is logged in the instance's history).
    An instance on the target version already (a retry) is left as it is: `migrated` false."""
    return editor.migrate(_runtime(), instance_id, login(), body["target"])
