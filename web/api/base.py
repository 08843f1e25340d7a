"""The machinery every resource module of the API uses.

The blueprint, the JSON error shape, marshmallow fields with Indonesian
messages, the `endpoint` decorator (route + parsing + dumping + OpenAPI entry
from one declaration) and authentication. Resource modules (tasks,
instances, alerts, definitions) only declare schemas and endpoints.
"""
from __future__ import annotations

import functools
import inspect
import re
from dataclasses import dataclass
from typing import Any, Callable

from flask import Blueprint, Request, current_app, g, jsonify, request
from flask_babel import refresh
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.formparser import FormDataParser
from wtforms.validators import ValidationError as CsrfValidationError

from engine import accounts, services
from engine.db import MAX_INTEGER
from engine.documents import size_text
from engine.errors import AlurError, InvalidData
from process.messages import Text
from web.i18n import say

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PREFIX = "/api/v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRFToken"

IDEMPOTENCY_KEY = services.RETRY_KEY_FIELD
IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header", "name": IDEMPOTENCY_KEY, "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": services.RETRY_KEY_LENGTH, "pattern": "^[!-~]+$"},
    "description": "Kunci pilihan klien (mis. UUID) agar permintaan ini aman diulang; lihat deskripsi operasi",
}


def replayed(again: bool) -> dict[str, str]:
    """The response header that says an Idempotency-Key's first outcome was answered again."""
    return {"Idempotent-Replayed": "true"} if again else {}


CODES = {400: "invalid_data", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 422: "invalid_data", 429: "too_many_requests", 500: "internal_error"}
HTTP_CODES = {**CODES, 400: "bad_request"}
HTTP_MESSAGES = {
    400: Text("permintaan tidak dapat diproses"),
    401: Text("autentikasi diperlukan"),
    403: Text("akses ditolak"),
    404: Text("alamat tidak ditemukan"),
    405: Text("metode HTTP ini tidak diizinkan untuk alamat ini"),
    413: Text("permintaan terlalu besar"),
    429: Text("terlalu banyak permintaan; coba lagi nanti"),
    500: Text("terjadi kesalahan pada server"),
}


# -- errors of the web layer ------------------------------------------------------

class Unauthorized(AlurError):
    status = 401
    code = "unauthorized"


class CsrfFailed(AlurError):
    status = 403
    code = "csrf_failed"


class BadBody(InvalidData):
    """The request body is not JSON (or not parseable at all)."""
    status = 400
    code = "bad_request"


def error_response(err: AlurError):
    status = err.status
    if status != 401:  # refused before the view read the token (web.input_guard): still in its owner's language
        _read_the_token_for_its_language()
    body: dict[str, Any] = {"code": getattr(err, "code", None) or CODES.get(status, "error"),
                            "message": say(err.message)}
    if getattr(err, "errors", None):
        body["fields"] = {field: say(message) for field, message in err.errors.items()}
    response = jsonify({"error": body})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="alur"'
    return response


def http_error_response(err):
    status = err.code or 500
    if status in (404, 405):
        _read_the_token_for_its_language()
    message = HTTP_MESSAGES.get(status, Text("permintaan gagal"))
    if status == 413:
        message = Text("permintaan terlalu besar; batas unggahan %(limit)s per berkas",
                       limit=size_text(_runtime().settings.max_upload_bytes))
    response = jsonify({"error": {"code": HTTP_CODES.get(status, "error"), "message": say(message)}})
    response.status_code = status
    if getattr(err, "valid_methods", None):  # 405
        response.headers["Allow"] = ", ".join(err.valid_methods)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="alur"'
    return response


def _read_the_token_for_its_language() -> None:
    """An address that is no endpoint, or not for this method, or text no field can hold, is refused
    before any token is read; the token still tells whose language the refusal speaks. One that names
    nobody changes nothing."""
    if g.get("api_principal") is not None or not request.headers.get("Authorization"):
        return
    try:
        g.api_principal = authenticate()
    except AlurError:
        return
    refresh()  # a language already chosen for this request is chosen again


# -- marshmallow fields with Indonesian messages -------------------------------------
# Each message is marked Text, so that `pybabel extract -k Text` collects it: marshmallow hands it
# back as plain text (str.format), and `flatten` makes it a Text again for the reader's catalogue.

class _Indonesian:
    default_error_messages = {"required": Text("wajib diisi"), "null": Text("tidak boleh kosong"),
                              "validator_failed": Text("nilai tidak valid")}


class Str(_Indonesian, fields.String):
    default_error_messages = {"invalid": Text("harus berupa teks"),
                              "invalid_utf8": Text("bukan teks UTF-8 yang valid")}


class Int(_Indonesian, fields.Integer):
    """An integer that fits the database's Integer columns (a bigger one is invalid data, not a crash)."""
    default_error_messages = {"invalid": Text("harus berupa bilangan bulat"), "too_large": Text("angka terlalu besar")}

    def __init__(self, **kwargs):
        validators = kwargs.pop("validate", None)
        validators = [] if validators is None else list(validators) if isinstance(validators, (list, tuple)) \
            else [validators]
        super().__init__(validate=[*validators, INTEGER_RANGE], **kwargs)

    def _validated(self, value):
        # Not cut down to an integer: a version of 1.7 read as 1 could pass a stale-version check.
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)
        # Text in digits 0-9 only: int() also reads other scripts' digits ("１") and underscores ("1_0").
        if isinstance(value, str) and not _WHOLE_TEXT.fullmatch(value):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class Bool(_Indonesian, fields.Boolean):
    default_error_messages = {"invalid": Text("harus true atau false")}
    truthy = fields.Boolean.truthy | {"ya"}
    falsy = fields.Boolean.falsy | {"tidak"}


class Dict(_Indonesian, fields.Dict):
    default_error_messages = {"invalid": Text("harus berupa objek JSON")}


class List(_Indonesian, fields.List):
    default_error_messages = {"invalid": Text("harus berupa daftar")}


class Nested(_Indonesian, fields.Nested):
    default_error_messages = {"type": Text("harus berupa objek JSON")}


_WHOLE_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
INTEGER_RANGE = validate.Range(min=-MAX_INTEGER, max=MAX_INTEGER, error=Text("angka terlalu besar"))
# A text field that must be given may not be given empty either.
NOT_EMPTY = validate.Length(min=1, error=Text("wajib diisi"))


def Moment(**kwargs) -> Str:
    """A point in time as the engine gives it: an ISO 8601 string with offset, or null."""
    return Str(allow_none=True, metadata={"format": "date-time", **kwargs.pop("metadata", {})}, **kwargs)


class Range(validate.Range):
    """validate.Range whose message is a Text with %(min)s and %(max)s filled in: marshmallow's own
    str.format would leave plain text, which the reader's catalogue cannot look up."""

    def _format_error(self, value, message: str) -> str:
        return Text(self.error or message, min=self.min, max=self.max)


class _OneOf(validate.OneOf):
    def _format_error(self, value) -> str:  # a Text, as Range's
        return Text("harus salah satu dari: %(choices)s", choices=self.choices_text)


def one_of(choices) -> validate.OneOf:
    return _OneOf(list(choices))


class In(Schema):
    """A request body: unknown keys are refused, so a typo is not silently ignored."""
    error_messages = {"unknown": Text("isian tidak dikenal"), "type": Text("harus berupa objek JSON")}

    class Meta:
        unknown = RAISE


class NoBody(In):
    """The body of a POST or DELETE that takes none: nothing, or {}. A key sent ({"revision": 3} to a
    discard, which takes it in the query) is refused, not ignored while the request goes through."""


class Query(Schema):
    """Query-string parameters: an unknown one is refused (`?stepp=3`, a typo, gave the whole list as if
    nothing had been asked), except the cache buster `_` (see load_query)."""
    error_messages = {"unknown": Text("parameter tidak dikenal"), "type": Text("parameter tidak valid")}

    class Meta:
        unknown = RAISE


class Upload(_Indonesian, fields.Field):
    """A file part of a multipart/form-data request (a werkzeug FileStorage)."""
    default_error_messages = {"invalid": Text("harus berupa berkas")}

    def __init__(self, **kwargs):
        metadata = {"type": "string", "format": "binary", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise self.make_error("invalid")
        return value


class ErrorBodySchema(Schema):
    code = Str()
    message = Str()
    fields = Dict(keys=Str(), values=Str())


class ErrorSchema(Schema):
    error = Nested(ErrorBodySchema)


# -- the endpoint declaration -------------------------------------------------------------

@dataclass
class Operation:
    method: str
    rule: str
    endpoint: str
    summary: str
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    public: bool = False
    request_doc: dict | None = None
    response_doc: dict | None = None
    description: str = ""
    form: type[Schema] | None = None
    also: tuple[int, ...] = ()
    headers: tuple[dict, ...] = ()  # request headers the operation reads, as OpenAPI parameters


OPERATIONS: list[Operation] = []
AUTH_ERRORS = (401,)
NOT_YOURS = (403, 404)
BODY_ERRORS = (400, 413)


def endpoint(method: str, rule: str, summary: str, *, query: type[Schema] | None = None,
             body: type[Schema] | None = None, form: type[Schema] | None = None,
             response: type[Schema] | None = None, status: int = 200, also: tuple[int, ...] = (),
             errors: tuple[int, ...] = (), public: bool = False, request_doc: dict | None = None,
             response_doc: dict | None = None, description: str = "",
             guard: Callable[[Any], None] | None = None, headers: tuple[dict, ...] = ()) -> Callable:
    """Register a view on the blueprint and its operation in the OpenAPI document.

    The wrapper authenticates (unless public), loads `query` from the query
    string, `body` from the JSON body and `form` from a multipart/form-data
    body (passed to the view as `query`, `body` and `form`; a GET without
    `query` takes no parameter, a POST, PUT or DELETE with none of them takes
    no body: `NoBody`), and dumps the
    view's return value with `response`. A view may return (value, headers),
    or (value, headers, status) for one of the other success statuses listed
    in `also`. Without `response` the view returns a Response. `guard` checks
    the caller (raising Forbidden) before any input is read, so someone who
    may not call the endpoint at all gets 403 whatever they send. `headers`
    documents the request headers the view reads (OpenAPI parameters).
    """
    def decorator(view: Callable) -> Callable:
        no_body = body is None and form is None and request_doc is None and method not in SAFE_METHODS
        read = NoBody if no_body else body
        # A GET takes no parameter its query schema does not name: one without takes none but `_`.
        ask = Query if query is None and method in SAFE_METHODS else query
        # Any request body may be unreadable (400) or over the size limit (413).
        body_errors = BODY_ERRORS if read is not None or form is not None or request_doc is not None else ()
        # Whatever a schema loads (query, body or form) may fail its validation (422).
        invalid = (422,) if ask is not None or read is not None or form is not None else ()
        op = Operation(method, rule, view.__name__, summary, ask, read, response, status,
                       tuple(sorted({*(() if public else AUTH_ERRORS), *errors, *body_errors, *invalid})), public,
                       request_doc, response_doc,
                       description or inspect.cleandoc(view.__doc__ or ""), form, tuple(also), tuple(headers))
        OPERATIONS.append(op)

        @functools.wraps(view)
        def wrapper(**kwargs):
            if not public:
                g.api_principal = authenticate()
            if guard is not None:
                guard(g.api_principal)
            if ask is not None:
                asked = load_query(ask)
                if query is not None:
                    kwargs["query"] = asked
            else:
                refuse_query_args()
            if read is not None:
                loaded = load(read, json_body())
                if not no_body:
                    kwargs["body"] = loaded
            if form is not None:
                kwargs["form"] = load(form, form_body())
            result = view(**kwargs)
            if response is None:
                return result
            headers: dict[str, str] = {}
            code = status
            if isinstance(result, tuple):
                result, headers, *rest = result
                code = rest[0] if rest else status
            return jsonify(instance_of(response).dump(result)), code, headers

        bp.add_url_rule(rule, view.__name__, wrapper, methods=[method])
        return wrapper
    return decorator


def authenticate():
    """The caller as a Principal: by bearer token, or by browser session (with CSRF for unsafe methods)."""
    from web.auth import Principal
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(Text("gunakan header Authorization: Bearer <token>"))
        account = accounts.user_for_token(_runtime(), token.strip())
        if account is None:
            raise Unauthorized(Text("token API tidak valid atau sudah dicabut"))
        return Principal(account)
    if current_user.is_authenticated:
        if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
            try:
                validate_csrf(request.headers.get(CSRF_HEADER))
            except CsrfValidationError:
                raise CsrfFailed(Text("token CSRF tidak ada atau tidak valid; kirim header %(header)s",
                                     header=CSRF_HEADER)) from None
        return current_user._get_current_object()
    raise Unauthorized(Text("masuk terlebih dahulu atau kirim token API (Authorization: Bearer <token>)"))


def login() -> str:
    return g.api_principal.login


def _runtime():
    from web.app import runtime
    return runtime()


@functools.cache
def instance_of(schema: type[Schema]) -> Schema:
    """One instance per schema class: making one copies every declared field, on every request.

    Our schemas keep no state between calls (no context, no partial or only
    options), so one instance serves every thread.
    """
    return schema()


def load(schema: type[Schema], data: Any) -> dict[str, Any]:
    try:
        return instance_of(schema).load(data)
    except ValidationError as err:
        raise InvalidData(Text("data permintaan tidak valid"), flatten(err.messages)) from None


def flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested messages as field -> message, nested names joined with dots."""
    if not isinstance(messages, dict):
        return {prefix.rstrip(".") or "_": _join(messages)}
    result: dict[str, str] = {}
    for key, value in messages.items():
        name = (prefix.rstrip(".") or "_") if key == "_schema" else f"{prefix}{key}"
        if isinstance(value, dict):
            result.update(flatten(value, f"{name}."))
        else:
            result[name] = _join(value)
    return result


def _join(value: Any) -> str:
    """One field's messages as one Text (each looked up in the reader's catalogue when spoken)."""
    if not isinstance(value, list):
        return _text(value)
    if len(value) == 1:
        return _text(value[0])
    joined = "; ".join(f"%(m{i})s" for i in range(len(value)))  # no words of its own to translate
    return Text(joined, **{f"m{i}": _text(v) for i, v in enumerate(value)})


def _text(message: Any) -> str:
    """A message marshmallow gave back as plain text (one of ours, marked Text above), as a Text again."""
    message = message if isinstance(message, str) else str(message)
    return message if isinstance(message, Text) or not message else Text(message)


def json_body() -> Any:
    """The JSON body; an empty body counts as {} so optional bodies may be left out."""
    # A form body (urlencoded or multipart) has already been read into request.form by then (see
    # web.input_guard), and get_data() is empty: it is not an empty body, and not JSON. Nor is a
    # multipart body whose parts could not be read (FormParser).
    if not request.get_data(cache=True) and not request.form and not request.files \
            and not g.get("unreadable_form"):
        return {}
    if not request.is_json:
        raise BadBody(Text("kirim badan permintaan sebagai JSON (Content-Type: application/json)"),
                      {"_": Text("bukan JSON")})
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON parser goes
        data = None
    if data is None and request.get_data(cache=True).strip() != b"null":  # `null` is JSON, only not an object
        raise BadBody(Text("badan permintaan bukan JSON yang valid"), {"_": Text("bukan JSON yang valid")})
    return data


def form_body() -> dict[str, Any]:
    """A multipart/form-data body as one dict: text parts as strings, file parts (with a name) as files."""
    if request.mimetype != "multipart/form-data":
        raise BadBody(Text("kirim badan permintaan sebagai multipart/form-data"),
                      {"_": Text("bukan multipart/form-data")})
    texts, files = multipart_parts()
    return {**texts, **{name: upload for name, upload in files.items() if upload.filename}}


def multipart_parts() -> tuple[dict[str, Any], dict[str, Any]]:
    """A multipart/form-data body's text and file parts, each name once; one that could not be read
    (FormParser) is refused, not taken as an empty form."""
    if g.get("unreadable_form"):
        raise BadBody(Text("badan multipart/form-data tidak dapat dibaca (periksa boundary-nya)"),
                      {"_": Text("bukan multipart/form-data yang dapat dibaca")})
    return one_each(request.form), one_each(request.files)


class FormParser(FormDataParser):
    """werkzeug's form parser, which drops every part of a multipart body it cannot read (no boundary
    or a wrong one, cut short) as if nothing had been sent. This one notes it too (g.unreadable_form):
    a completion whose fields are all optional went through empty, its document lost without a word,
    and a claim's stale version went unchecked."""

    def parse(self, stream, mimetype, content_length, options=None):
        silent, self.silent = self.silent, False
        try:
            return super().parse(stream, mimetype, content_length, options)
        except ValueError:
            if not silent:
                raise
            g.unreadable_form = True
            return stream, self.cls(), self.cls()
        finally:
            self.silent = silent


class ApiRequest(Request):
    form_data_parser_class = FormParser


CACHE_BUSTER = "_"  # added by jQuery's `cache: false` and the like, to defeat caches: no question asked


def load_query(schema: type[Schema]) -> dict[str, Any]:
    """The query string's parameters, trimmed, loaded by `schema`, but the cache buster. Every problem
    is named at once: a known parameter sent twice beside an unknown one or a bad value (one answered
    alone hid the others). One the schema does not know is refused as unknown, not as sent twice."""
    known = {field.data_key or name for name, field in instance_of(schema).load_fields.items()}
    # Each value trimmed, as the worklist page reads its filters (engine.worklist): "?sort=%20due" is "due".
    args = MultiDict([(name, value.strip()) for name, value in request.args.items(multi=True)
                      if name != CACHE_BUSTER])
    try:
        one_each(MultiDict([(name, value) for name, value in args.items(multi=True) if name in known]))
    except InvalidData as sent_twice:
        problems = sent_twice
    else:
        return load(schema, args.to_dict())
    try:  # the first of each value, only for what else is wrong
        load(schema, args.to_dict())
    except InvalidData as invalid:
        problems = InvalidData(invalid.message, {**invalid.errors, **problems.errors})
    raise problems


def refuse_query_args() -> None:
    """A POST, PUT or DELETE that takes nothing in its address: a parameter there (?version=3 to a
    claim) was ignored while the request went through, its stale check skipped."""
    if request.args:
        raise InvalidData(Text("data permintaan tidak valid"),
                          {name: Text("parameter alamat tidak diterima di sini; kirim di badan permintaan")
                           for name in request.args})


def one_each(parts) -> dict[str, Any]:
    """A multipart body's text or file parts (or query parameters) by name. A name sent twice is
    refused: which one was meant is a guess, and a second document would be dropped without a word."""
    repeated = sorted(name for name, values in parts.lists() if len(values) > 1)
    if repeated:
        raise InvalidData(Text("bagian permintaan dikirim lebih dari sekali: %(names)s", names=", ".join(repeated)),
                          {name: Text("dikirim lebih dari sekali") for name in repeated})
    return parts.to_dict()
