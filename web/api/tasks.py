"""API resource: tasks (the worklist, one task with its form, claim, complete, reassign)."""
from __future__ import annotations

import json
from typing import Any

from flask import request
from marshmallow import INCLUDE, Schema, fields

from engine import queries, services, worklist
from engine.documents import Upload
from engine.errors import InvalidData
from process.messages import Text
from web.api.base import (
    IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_PARAMETER, NOT_EMPTY, NOT_YOURS, Bool, Dict, In, Int, List, Moment, Nested,
    Query, Range, Str, _runtime, endpoint, json_body, load, login, multipart_parts, one_of, replayed,
)

# -- request schemas -------------------------------------------------------------------

class TaskQuerySchema(Query):
    bidang = Str(metadata={"description": "Kode Bidang kegiatan"})
    step = Int(validate=Range(min=1, error=Text("harus nomor langkah (1 atau lebih)")),
               metadata={"description": "Nomor langkah SOP"})
    overdue = Bool(metadata={"description": "Hanya yang melewati (true) / belum melewati (false) mutu baku waktu"})
    sort = Str(validate=one_of(worklist.SORTS), metadata={"description": "Urutan"})
    instance = Int(metadata={"description": "Hanya tugas dari kegiatan ini"})


class VersionBodySchema(In):
    version = Int(allow_none=True, load_default=None,
                  metadata={"description": "Versi tugas yang dilihat klien; 409 bila sudah berubah"})


class CompleteBodySchema(In):
    data = Dict(keys=Str(), load_default=dict, metadata={"description": "Isian formulir langkah (lihat step.form)"})
    version = Int(allow_none=True, load_default=None,
                  metadata={"description": "Versi tugas yang dilihat klien; 409 bila sudah berubah"})


class CompleteMultipartSchema(Schema):
    """Documentation only: the multipart form of POST /tasks/{id}/complete."""
    data = fields.String(metadata={"description": "Isian formulir sebagai teks JSON (objek)"})
    version = fields.Integer(metadata={"description": "Versi tugas"})

    class Meta:
        # Besides these, each file field of the step's form is a part of its own.
        unknown = INCLUDE


class ReassignBodySchema(In):
    assignee = Str(required=True, validate=NOT_EMPTY,
                   metadata={"description": "Login pengguna yang menerima tugas"})
    version = Int(allow_none=True, load_default=None,
                  metadata={"description": "Versi tugas yang dilihat klien; 409 bila sudah berubah"})


# -- response schemas ------------------------------------------------------------------

class TaskSchema(Schema):
    id = Str()
    instance_id = Int()
    step = Int()
    element_id = Str()
    name = Str()
    lane = Str(metadata={"description": "Peran pelaksana lajur"})
    bidang = Str()
    assignee = Str(allow_none=True)
    state = Str(metadata={"enum": ["open", "completed", "cancelled"]})
    created_at = Moment()
    due_at = Moment()
    completed_at = Moment()
    completed_by = Str(allow_none=True)
    overdue = Bool()
    version = Int(metadata={"description": "Versi untuk pemeriksaan konflik (kirim kembali sebagai version)"})


class WorklistTaskSchema(TaskSchema):
    instance_title = Str()
    sent_back = Bool(metadata={"description": "true bila sebuah keputusan mengembalikan langkah ini "
                                              "(rinciannya di GET /tasks/{id})"})


class ReassignedTaskSchema(TaskSchema):
    moved = Bool(metadata={"description": "false bila tugas sudah dipegang orang yang dituju: tidak ada yang berubah"})


class UnclaimedTaskSchema(TaskSchema):
    released = Bool(metadata={"description": "false bila tugas tidak sedang diklaim siapa pun: tidak ada yang berubah"})


class TaskListSchema(Schema):
    tasks = List(Nested(WorklistTaskSchema))


class CompletedTaskSchema(TaskSchema):
    instance_state = Str()


class FormFieldSchema(Schema):
    name = Str()
    label = Str()
    type = Str(metadata={"enum": ["text", "number", "date", "boolean", "choice", "file"]})
    required = Bool()
    choices = List(Str())
    help = Str()
    # As the YAML wrote it (0 stays 0, not 0.0); the form's JSON Schema says it as `minimum` too.
    min = fields.Raw(allow_none=True, metadata={"type": "number", "description": "Angka terkecil isian number; "
                                                                               "null bila tanpa batas"})
    whole = Bool(metadata={"description": "Isian number yang hanya menerima bilangan bulat"})


class StepSchema(Schema):
    number = Int()
    name = Str()
    lane = Str()
    role = Str()
    mutu_baku = Str(metadata={"description": "Mutu baku waktu"})
    kelengkapan = Str(allow_none=True)
    output = Str(allow_none=True)
    decision = Bool()
    fields = List(Nested(FormFieldSchema))
    form = Dict(metadata={"description": "Formulir langkah sebagai JSON Schema"})


class InstanceRefSchema(Schema):
    id = Int()
    title = Str()
    bidang = Str()
    period = Str()


class DocumentSchema(Schema):
    id = Int()
    filename = Str()
    size = Int()
    content_type = Str()
    field = Str()
    task_id = Str(allow_none=True)
    uploaded_by = Str(allow_none=True)
    uploaded_at = Moment()
    sha256 = Str()


class AnswerSchema(Schema):
    name = Str()
    label = Str()
    type = Str()
    value = fields.Raw(metadata={"description": "Isian seperti yang dikirim"})


class SentBackSchema(Schema):
    by = Str(metadata={"description": "Yang mengembalikan langkah"})
    at = Moment()
    step = Int(metadata={"description": "Langkah keputusan yang mengembalikannya"})
    name = Str()
    answers = List(Nested(AnswerSchema), metadata={"description": "Jawaban langkah itu (catatan verifikasi)"})


class TaskDetailSchema(Schema):
    task = Nested(TaskSchema)
    step = Nested(StepSchema)
    instance = Nested(InstanceRefSchema)
    draft = Dict()
    draft_saved_at = Moment()
    sent_back = Nested(SentBackSchema, allow_none=True,
                       metadata={"description": "Bila sebuah keputusan mengembalikan langkah ini: siapa, kapan, "
                                                "mengapa; null bila tidak"})
    previous = Dict(metadata={"description": "Isian (tanpa berkas) yang terakhir dikirim untuk langkah yang "
                                             "dikembalikan; {} bila tidak dikembalikan"})
    documents = List(Nested(DocumentSchema))
    may_claim = Bool()
    may_complete = Bool()



def completion_request() -> tuple[dict[str, Any], dict[str, Upload]]:
    """The body of POST /tasks/{id}/complete: JSON, or multipart with a `data` part and file parts."""
    if request.mimetype != "multipart/form-data":
        return load(CompleteBodySchema, json_body()), {}
    raw, uploads = multipart_parts()
    if raw.get("data", "").strip():
        try:
            raw["data"] = json.loads(raw["data"])
        except (ValueError, RecursionError):
            raise InvalidData(Text("data permintaan tidak valid"), {"data": Text("bukan teks JSON yang valid")}) from None
    else:
        raw.pop("data", None)
    body = load(CompleteBodySchema, raw)
    files = {name: Upload(upload.filename, upload.read()) for name, upload in uploads.items() if upload.filename}
    return body, files


# -- endpoints: tasks -----------------------------------------------------------------------

@endpoint("GET", "/tasks", "Tugas saya dan tugas tim yang dapat saya klaim", query=TaskQuerySchema,
          response=TaskListSchema, errors=(422,))
def list_tasks(query):
    """Open tasks the caller holds or may claim, filtered and sorted."""
    instance_id = query.pop("instance", None)
    return {"tasks": worklist.tasks(_runtime(), login(), instance_id, query)}


@endpoint("GET", "/tasks/<task_id>", "Satu tugas dengan formulir langkahnya (JSON Schema)",
          response=TaskDetailSchema, errors=NOT_YOURS)
def show_task(task_id):
    """The task, its SOP step (form as JSON Schema, kelengkapan, output), draft, documents."""
    return queries.task_view(_runtime(), task_id, login())


@endpoint("POST", "/tasks/<task_id>/claim", "Klaim tugas", body=VersionBodySchema, response=TaskSchema,
          errors=NOT_YOURS + (409, 422))
def claim_task(task_id, body):
    return services.claim(_runtime(), task_id, login(), body["version"])


@endpoint("POST", "/tasks/<task_id>/unclaim", "Lepas klaim tugas (kembali ke tim)", body=VersionBodySchema,
          response=UnclaimedTaskSchema, errors=NOT_YOURS + (409, 422))
def unclaim_task(task_id, body):
    return services.unclaim(_runtime(), task_id, login(), body["version"])


COMPLETE_REQUEST = {
    "required": True,
    "content": {
        "application/json": {"schema": CompleteBodySchema},
        "multipart/form-data": {
            "schema": {"allOf": [{"$ref": "#/components/schemas/CompleteMultipart"},
                                 {"type": "object", "additionalProperties": {"type": "string", "format": "binary"}}]},
        },
    },
}


@endpoint("POST", "/tasks/<task_id>/complete", "Selesaikan langkah dengan isian dan berkas",
          response=CompletedTaskSchema, request_doc=COMPLETE_REQUEST, errors=NOT_YOURS + (400, 409, 413, 422),
          headers=(IDEMPOTENCY_KEY_PARAMETER,))
def complete_task(task_id):
    """JSON {"data": {...}, "version": n}, or multipart/form-data with a `data` part (JSON text),
    an optional `version` part, and one part per file field of the step's form. With an
    `Idempotency-Key` header, the same key sent again by the same user with the same request (data,
    version, files' names and bytes) within 24 hours answers 200 with the task as it is now, with
    `Idempotent-Replayed: true`, and writes nothing; the key with another request is 422
    `idempotency_key_reused`. Without the header a completion sent again is 409 (already done)."""
    body, files = completion_request()
    done = services.complete(_runtime(), task_id, login(), body["data"], files=files,
                             expected_version=body["version"], retry_key=request.headers.get(IDEMPOTENCY_KEY))
    return done, replayed(done.pop("replayed", False))


@endpoint("POST", "/tasks/<task_id>/reassign", "Alihkan tugas (kepala bidang / kepala dinas)",
          body=ReassignBodySchema, response=ReassignedTaskSchema, errors=NOT_YOURS + (409, 422))
def reassign_task(task_id, body):
    return worklist.reassign(_runtime(), task_id, login(), body["assignee"], body["version"])

