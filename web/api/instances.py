"""API resource: instances (kegiatan), what the caller may start, and document downloads."""
from __future__ import annotations

from flask import request, send_file, url_for
from marshmallow import Schema

from engine import queries, services
from process.messages import Text
from web.api.base import (
    IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_PARAMETER, NOT_EMPTY, NOT_YOURS, Bool, Dict, In, Int, List, Moment, Nested,
    Query, Range, Str, _runtime, endpoint, login, one_of, replayed,
)
from web.api.tasks import DocumentSchema, TaskSchema

# -- request schemas -------------------------------------------------------------------

class StartBodySchema(In):
    definition = Str(required=True, validate=NOT_EMPTY,
                     metadata={"description": "Kunci definisi SOP, mis. monev_kegiatan_bidang"})
    bidang = Str(required=True, validate=NOT_EMPTY, metadata={"description": "Kode Bidang"})
    title = Str(required=True, metadata={"description": "Judul kegiatan"})
    period = Str(load_default="", metadata={"description": "Periode, mis. 2026-Q1"})


class InstanceQuerySchema(Query):
    state = Str(validate=one_of(queries.INSTANCE_STATES), metadata={"description": "Status kegiatan"})
    limit = Int(load_default=200, validate=Range(min=1, max=500, error=Text("antara %(min)s dan %(max)s")))
    before = Int(validate=Range(min=1, error=Text("harus 1 atau lebih")),
                 metadata={"description": "Hanya kegiatan dengan id lebih kecil: untuk halaman berikutnya, kirim id "
                                          "terakhir yang diterima"})


# -- response schemas ------------------------------------------------------------------

class InstanceSummarySchema(Schema):
    id = Int()
    title = Str()
    bidang = Str()
    period = Str()
    state = Str()
    created_at = Moment()
    completed_at = Moment()


class InstanceListSchema(Schema):
    instances = List(Nested(InstanceSummarySchema))


STEP_VERSION = ("Versi SOP tempat langkah ini dikerjakan: kegiatan yang dipindahkan ke versi baru menyimpan nomor "
                "dan nama langkah versi lamanya")
RENUMBERED = ("true bila versi SOP kegiatan sekarang memberi langkah ini nomor lain (atau tidak memilikinya lagi): "
              "nomornya saja terbaca sebagai langkah lain")


class StepRunSchema(TaskSchema):
    mutu_baku = Str()
    working_minutes = Int(metadata={"description": "Waktu kerja yang terpakai (menit)"})
    on_time = Bool(allow_none=True)
    step_version = Int(metadata={"description": STEP_VERSION})
    renumbered = Bool(metadata={"description": RENUMBERED})


class HistoryEventSchema(Schema):
    at = Moment()
    actor = Str(allow_none=True)
    kind = Str()
    step = Int(allow_none=True, metadata={"description": "Nomor langkah menurut versi SOP `step_version`"})
    step_name = Str(allow_none=True, metadata={"description": "Nama langkah menurut versi SOP `step_version`"})
    step_version = Int(allow_none=True, metadata={"description": STEP_VERSION})
    renumbered = Bool(metadata={"description": RENUMBERED})
    task_id = Str(allow_none=True)
    data = Dict()


class MarkersSchema(Schema):
    completed = List(Str())
    current = List(Str())
    overdue = List(Str())


class InstanceDetailSchema(InstanceSummarySchema):
    definition = Str()
    definition_name = Str()
    definition_version = Int()
    version = Int()
    current_steps = List(Nested(TaskSchema))
    steps = List(Nested(StepRunSchema))
    history = List(Nested(HistoryEventSchema))
    documents = List(Nested(DocumentSchema))
    markers = Nested(MarkersSchema)


class BidangSchema(Schema):
    code = Str()
    name = Str()


class DefinitionSchema(Schema):
    key = Str()
    name = Str()
    version = Int()


class StartChoicesSchema(Schema):
    bidang = List(Nested(BidangSchema))
    definitions = List(Nested(DefinitionSchema))


# -- endpoints: instances --------------------------------------------------------------------

@endpoint("GET", "/instances", "Kegiatan yang boleh saya lihat", query=InstanceQuerySchema,
          response=InstanceListSchema, errors=(422,))
def list_instances(query):
    return {"instances": queries.instances(_runtime(), login(), query.get("state"), query["limit"],
                                           query.get("before"))}


@endpoint("POST", "/instances", "Mulai kegiatan baru", body=StartBodySchema, response=InstanceDetailSchema,
          status=201, errors=NOT_YOURS + (400, 422), headers=(IDEMPOTENCY_KEY_PARAMETER,))
def start_instance(body):
    """Starts an activity. With an `Idempotency-Key` header, the same key sent again by the same user
    within 24 hours answers 201 with the activity its first request started (as it is now), with
    `Idempotent-Replayed: true`, and starts or logs nothing; the key with another body is 422
    `idempotency_key_reused`."""
    rt = _runtime()
    started = services.start_once(rt, body["definition"], body["bidang"], body["title"], login(), body["period"],
                                  retry_key=request.headers.get(IDEMPOTENCY_KEY))
    headers = {"Location": url_for(".show_instance", instance_id=started.instance_id), **replayed(started.again)}
    return queries.instance_view(rt, started.instance_id, login()), headers


@endpoint("GET", "/instances/<int:instance_id>", "Satu kegiatan: langkah, riwayat, dokumen",
          response=InstanceDetailSchema, errors=NOT_YOURS)
def show_instance(instance_id):
    return queries.instance_view(_runtime(), instance_id, login())


@endpoint("GET", "/start-choices", "Bidang dan definisi SOP yang dapat saya mulai", response=StartChoicesSchema)
def start_choices():
    return queries.start_choices(_runtime(), login())


DOCUMENT_RESPONSE = {"description": "Isi berkas",
                     "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}


@endpoint("GET", "/documents/<int:document_id>", "Unduh dokumen", response_doc=DOCUMENT_RESPONSE,
          errors=NOT_YOURS)
def download_document(document_id):
    path, filename, content_type = queries.document_file(_runtime(), document_id, login())
    response = send_file(path, mimetype=content_type, as_attachment=True, download_name=filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

