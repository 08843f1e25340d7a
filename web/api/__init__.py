"""The REST API under /api/v1: JSON in and out, described by an OpenAPI 3 document.

Every endpoint is declared with `endpoint(...)`, which registers the Flask
route *and* its OpenAPI operation from the same marshmallow schemas that parse
the request and dump the response, so GET /api/v1/openapi.json cannot drift
from the code. Views stay thin: parse (marshmallow) -> one engine call -> dump
(marshmallow). Permissions are checked by the engine functions, which all take
the caller's login.

Authentication and CSRF
-----------------------
Two ways in, both resolving to a `web.auth.Principal`:

* ``Authorization: Bearer <token>`` with a token made on the /token page
  (checked by `engine.accounts.user_for_token`; tokens are stored hashed).
  For scripts and other systems. A request that carries an Authorization
  header is judged by that header alone: a missing, wrong or revoked token,
  or another scheme, is 401 even if the browser also has a session.
  Bearer requests carry no ambient (cookie) authority, so they need no CSRF
  token.
* The browser session (flask-login), for the app's own JavaScript. GET/HEAD/
  OPTIONS need nothing more. Unsafe methods (POST, PUT, DELETE) must also
  send the session's CSRF token in the ``X-CSRFToken`` header (the value of
  ``csrf_token()`` in a template); it is checked with
  `flask_wtf.csrf.validate_csrf`. Without a valid one: 403 ``csrf_failed``.

The blueprint is therefore exempt from CSRFProtect's form-field check
(`init_app` calls ``csrf.exempt(bp)``); the rule above replaces it.

Errors
------
Always ``{"error": {"code": ..., "message": ..., "fields": {...}}}`` with a
stable ``code`` (what a program should read) and a ``message`` in the token
owner's language (Indonesian or English, chosen on their account; Indonesian
when the request names nobody); ``fields`` (field -> message, in that language
too) only for data that could not be taken. 400 bad_request, 401 unauthorized,
403 forbidden/csrf_failed, 404 not_found, 405 method_not_allowed,
409 conflict, 413 too_large, 422 invalid_data/step_blocked/idempotency_key_reused.

Retrying
--------
``POST /instances`` and ``POST /tasks/{id}/complete`` take an
``Idempotency-Key`` header: the same user's same key with the same request
again within 24 hours answers as the first request did (201 with the
activity it started; 200 with the task it completed, as it is now) with
``Idempotent-Replayed: true``, and does nothing again; the key with another
request (another body, or other files) is 422 ``idempotency_key_reused``.
"""
from __future__ import annotations

# The package, one module per resource (the docstring above is the OpenAPI
# document's description, so it speaks to API users):
#   base         blueprint, JSON errors, marshmallow fields, `endpoint`, authentication
#   tasks        /tasks...                      the worklist and completing steps
#   instances    /instances, /start-choices, /documents/{id}
#   alerts       /alerts...
#   definitions  /definitions..., /instances/{id}/migrate   the process owner (engine.editor)
#   openapi      /openapi.json, built on first request from every `endpoint` declaration
# Importing a resource module registers its endpoints on `bp`.
from web.api import alerts, definitions, instances, tasks  # noqa: F401  (registers the endpoints)
from web.api.base import OPERATIONS, PREFIX, ApiRequest, bp, endpoint, error_response, http_error_response
from web.api.openapi import openapi_document

__all__ = ["OPERATIONS", "PREFIX", "bp", "endpoint", "error_response", "http_error_response", "init_app",
           "openapi_document"]


def init_app(app) -> None:
    from web.app import csrf
    csrf.exempt(bp)  # see the module docstring: the API enforces CSRF itself for session requests
    app.request_class = ApiRequest  # notes a multipart body it cannot read (base.FormParser)
    app.register_blueprint(bp)
