"""The OpenAPI 3 document of the API, built from the declared operations (GET /api/v1/openapi.json)."""
from __future__ import annotations

import functools
import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import jsonify
from marshmallow import Schema

from engine.db import MAX_INTEGER
from web.api.base import OPERATIONS, PREFIX, ErrorSchema, Operation, endpoint, instance_of
from web.api.tasks import CompleteMultipartSchema

OPENAPI_RESPONSE = {"description": "Dokumen OpenAPI 3", "content": {"application/json": {"schema": {"type": "object"}}}}


@endpoint("GET", "/openapi.json", "Dokumen OpenAPI 3 API ini", public=True, response_doc=OPENAPI_RESPONSE)
def openapi():
    return jsonify(openapi_document())


ERROR_DESCRIPTIONS = {
    400: "Badan permintaan tidak dapat dibaca (bad_request)",
    401: "Tanpa token, token tidak valid, atau token dicabut (unauthorized)",
    403: "Tidak berwenang (forbidden) atau token CSRF salah pada sesi peramban (csrf_failed)",
    404: "Tidak ditemukan (not_found)",
    409: ("Konflik: sudah diklaim, sudah selesai, versi atau revisi draf usang, "
          "atau kegiatan tidak dapat dipindah versi (conflict)"),
    413: "Berkas atau permintaan terlalu besar (too_large)",
    422: ("Data tidak valid; error.fields memuat pesan per isian (invalid_data), gerbang sesudah "
          "langkah tidak dapat dilalui dengan data itu (step_blocked), atau Idempotency-Key sudah dipakai "
          "untuk permintaan lain (idempotency_key_reused)"),
}


@functools.cache
def openapi_document() -> dict[str, Any]:
    """Built once per process from OPERATIONS and the schemas they name."""
    import web.api
    spec = APISpec(title="Alur API", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
                   info={"description": (web.api.__doc__ or "").strip()}, servers=[{"url": PREFIX}])
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                   "description": "Token API dari halaman /token"})
    spec.components.security_scheme("sessionCookie", {
        "type": "apiKey", "in": "cookie", "name": "session",
        "description": "Sesi peramban; POST, PUT dan DELETE wajib header X-CSRFToken"})
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.schema("CompleteMultipart", schema=CompleteMultipartSchema)
    for status, description in ERROR_DESCRIPTIONS.items():
        spec.components.response(f"E{status}", {"description": description,
                                                "content": {"application/json": {"schema": "Error"}}})
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        path, parameters = openapi_path(op.rule)
        operation: dict[str, Any] = {"operationId": op.endpoint, "summary": op.summary}
        if op.description:
            operation["description"] = op.description
        operation["security"] = [] if op.public else [{"bearerAuth": []}, {"sessionCookie": []}]
        params = [*parameters, *op.headers]
        if op.query is not None and instance_of(op.query).fields:  # not the empty Query of a GET without
            params.append({"in": "query", "schema": op.query})
        if params:
            operation["parameters"] = params
        request_body = _request_body(op)
        if request_body is not None:
            operation["requestBody"] = request_body
        if op.response_doc is not None:
            ok = op.response_doc
        else:
            ok = {"description": "Berhasil", "content": {"application/json": {"schema": op.response}}}
        operation["responses"] = {**{str(s): ok for s in sorted({op.status, *op.also})},
                                  **{str(s): f"E{s}" for s in sorted(set(op.errors))}}
        paths.setdefault(path, {})[op.method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _request_body(op: Operation) -> dict[str, Any] | None:
    if op.request_doc is not None:
        return op.request_doc
    for schema, media_type in ((op.body, "application/json"), (op.form, "multipart/form-data")):
        if schema is not None:
            # An optional body (every field optional) may be left out altogether.
            return {"required": _any_required(schema), "content": {media_type: {"schema": schema}}}
    return None


def _any_required(schema: type[Schema]) -> bool:
    return any(field.required for field in schema().fields.values())


# What web.app.IdConverter accepts; anything else is a 404.
INTEGER_PATH = {"type": "integer", "minimum": 0, "maximum": MAX_INTEGER}
_VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """A Flask rule as an OpenAPI path ("/tasks/<task_id>" -> "/tasks/{task_id}") with its path parameters."""
    parameters = [{"in": "path", "name": m["name"], "required": True,
                   "schema": INTEGER_PATH if m["converter"] == "int" else {"type": "string"}}
                  for m in _VARIABLE.finditer(rule)]
    return _VARIABLE.sub(lambda m: "{" + m["name"] + "}", rule), parameters
