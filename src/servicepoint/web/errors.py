"""One place turns errors into JSON for /api and friendly pages for people."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from servicepoint.account.errors import LoginRequired
from servicepoint.core import i18n
from servicepoint.core.i18n import N_
from servicepoint.core.templating import render
from servicepoint.errors import FieldMessage, ServicePointError
from servicepoint.web import form_errors
from servicepoint.web.routing import every_route

log = logging.getLogger("servicepoint")

_HTTP_TEXT = {
    404: N_("Diese Seite gibt es nicht."),
    405: N_("Diese Aktion ist hier nicht erlaubt."),
    413: N_("Die Anfrage ist zu groß."),
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or (
        "application/json" in request.headers.get("accept", "")
        and "text/html" not in request.headers.get("accept", "")
    )


def _lang(request: Request) -> str:
    return getattr(request.state, "lang", "de")


def error_response(
    request: Request,
    status: int,
    code: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    fields: Mapping[str, str] | None = None,
) -> Response:
    """The one error answer: `{"error", "detail"}` (plus `"fields"`, field → what is wrong,
    when the error names fields) for programs, the error page for people."""
    if _wants_json(request):
        body: dict[str, object] = {"error": code, "detail": detail}
        if fields:
            body["fields"] = dict(fields)
            body["detail"] = f"{detail} – " + "; ".join(f"{k}: {v}" for k, v in fields.items())
        return JSONResponse(body, status_code=status, headers=headers)
    page = render(
        request,
        "error.html",
        {"status": status, "code": code, "detail": detail},
        status_code=status,
    )
    page.headers.update(headers or {})
    return page


def _field_name(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form")]
    return ".".join(parts) or "body"


# Pydantic speaks English; these German msgids (translated by the catalogs) cover common cases.
_PYDANTIC_TEXT = {
    "missing": N_("Angabe fehlt"),
    "string_too_short": N_("zu kurz"),
    "string_too_long": N_("zu lang"),
    "too_short": N_("zu wenige Einträge"),
    "too_long": N_("zu viele Einträge"),
    "string_type": N_("Text erwartet"),
    "int_parsing": N_("keine ganze Zahl"),
    "int_type": N_("keine ganze Zahl"),
    "float_parsing": N_("keine Zahl"),
    "bool_parsing": N_("kein Wahrheitswert"),
    "literal_error": N_("nicht erlaubter Wert"),
    "enum": N_("nicht erlaubter Wert"),
    "json_invalid": N_("kein gültiges JSON"),
    "model_attributes_type": N_("Objekt erwartet"),
    "dict_type": N_("Objekt erwartet"),
    "list_type": N_("Liste erwartet"),
    "date_parsing": N_("kein gültiges Datum"),
    "date_from_datetime_parsing": N_("kein gültiges Datum"),
    "datetime_parsing": N_("keine gültige Zeitangabe"),
    "datetime_from_date_parsing": N_("keine gültige Zeitangabe"),
    "string_pattern_mismatch": N_("ungültiges Format"),
    "greater_than_equal": N_("Wert zu klein"),
    "less_than_equal": N_("Wert zu groß"),
    "greater_than": N_("Wert zu klein"),
    "less_than": N_("Wert zu groß"),
    "extra_forbidden": N_("unbekanntes Feld"),
    # Raised by the shared input types (core.inputs).
    "invalid_characters": N_("enthält unerlaubte Steuer- oder Sonderzeichen"),
    "formula_prefix": N_("darf nicht mit =, +, - oder @ beginnen"),
    "date_window": N_("Datum außerhalb des erlaubten Zeitraums"),
    "answer_type": N_("Text, ganze Zahl, ja/nein oder eine Liste kurzer Texte erwartet"),
}


def _message(lang: str, err: dict[str, object]) -> str:
    msgid = _PYDANTIC_TEXT.get(str(err.get("type", "")))
    if msgid:
        return i18n.translate(lang, msgid)
    return form_errors.explain(lang, err)  # never pydantic's English text


def validation_fields(request: Request, exc: RequestValidationError) -> dict[str, str]:
    """Each refused field (at most ten) by its name in the request, and what is wrong with it."""
    lang = _lang(request)
    fields: dict[str, str] = {}
    for err in exc.errors()[:10]:
        name = _field_name(tuple(err.get("loc", ())))
        fields[name] = "; ".join(filter(None, [fields.get(name), _message(lang, err)]))
    return fields


def validation_detail(request: Request, exc: RequestValidationError) -> str:
    lang = _lang(request)
    items = []
    for err in exc.errors()[:10]:
        name = _field_name(tuple(err.get("loc", ())))
        if not _wants_json(request):  # people read the form's label; programs the field name
            name = form_errors.label(lang, form_errors.field_of(err)) or name
        items.append(f"{name}: {_message(lang, err)}")
    prefix = i18n.translate(lang, N_("Ungültige Eingabe"))
    return f"{prefix} – " + "; ".join(items)


def _field_text(lang: str, message: FieldMessage) -> str:
    if isinstance(message, str):
        return i18n.translate(lang, message)
    msgid, params = message
    return i18n.translate(lang, msgid) % params if params else i18n.translate(lang, msgid)


def _allowed_methods(request: Request) -> str:
    """RFC 9110 `Allow` for a 405: the methods of every route on this path. Starlette names only
    the first matching route's, though GET and DELETE of one path are two routes here."""
    methods: set[str] = set()
    for route in every_route(request.app.router.routes):
        if route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    @app.exception_handler(ServicePointError)
    async def _domain(request: Request, exc: ServicePointError) -> Response:
        if isinstance(exc, LoginRequired) and not _wants_json(request):
            query = f"?{request.url.query}" if request.url.query else ""
            target = quote(request.url.path + query)
            return RedirectResponse(f"/mitarbeiter/login?next={target}", status_code=303)
        lang = _lang(request)
        detail = i18n.error_text(exc, lang)
        fields = {name: _field_text(lang, message) for name, message in exc.fields.items()}
        return error_response(
            request, exc.status_code, exc.code, detail, headers=exc.headers, fields=fields
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        if not _wants_json(request):
            return error_response(request, 422, "invalid_input", validation_detail(request, exc))
        # Programs get the fields by name, as every other 422 names them.
        lang = _lang(request)
        prefix = i18n.translate(lang, N_("Ungültige Eingabe"))
        fields = validation_fields(request, exc)
        return error_response(request, 422, "invalid_input", prefix, fields=fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        text = _HTTP_TEXT.get(exc.status_code, N_("Die Anfrage konnte nicht bearbeitet werden."))
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        detail = i18n.translate(_lang(request), text)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        return error_response(request, exc.status_code, code, detail, headers=headers)

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        # A safety net only: bounded input types stop such values first, so one that reaches
        # the database is logged as an error (a boundary to tighten). Any other overflow or
        # data error is a bug of ours and answers 500.
        if not _value_out_of_range(exc):
            return _internal_error(request, exc)
        log.error("value out of range on %s: %s", request.url.path, exc)
        text = i18n.translate(
            _lang(request), N_("Ein Wert liegt außerhalb des erlaubten Bereichs.")
        )
        return error_response(request, 400, "invalid_input", text)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return _internal_error(request, exc)


def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s", request.url.path, exc_info=exc)
    text = i18n.translate(_lang(request), N_("Ein unerwarteter Fehler ist aufgetreten."))
    return error_response(request, 500, "internal_error", text)


# PostgreSQL's SQLSTATEs for a value its column cannot hold: numeric_value_out_of_range,
# string_data_right_truncation, character_not_in_repertoire.
_RANGE_STATES = {"22003", "22001", "22021"}


def _value_out_of_range(exc: Exception) -> bool:
    """A value the database cannot hold (the client's input), not a fault in our code."""
    if isinstance(exc, DataError):
        state = getattr(exc.orig, "sqlstate", None)
        # psycopg refuses a NUL byte in text before sending it, with no SQLSTATE.
        return state in _RANGE_STATES or (state is None and "NUL (0x00)" in str(exc.orig))
    # The SQLite driver raises a bare OverflowError when it binds an integer over 64 bits.
    return isinstance(exc, OverflowError) and _raised_in_sqlalchemy(exc)


def _raised_in_sqlalchemy(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = str(tb.tb_frame.f_globals.get("__name__", "")) if tb is not None else ""
    return module.startswith("sqlalchemy.")
