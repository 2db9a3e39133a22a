"""One place turns errors into JSON for /api and friendly pages for people."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from servicepoint.account.errors import LoginRequired
from servicepoint.core import i18n
from servicepoint.core.templating import render
from servicepoint.errors import ServicePointError

log = logging.getLogger("servicepoint")

_HTTP_TEXT = {
    404: "Diese Seite gibt es nicht.",
    405: "Diese Aktion ist hier nicht erlaubt.",
    413: "Die Anfrage ist zu groß.",
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or (
        "application/json" in request.headers.get("accept", "")
        and "text/html" not in request.headers.get("accept", "")
    )


def _lang(request: Request) -> str:
    return getattr(request.state, "lang", "de")


def error_response(request: Request, status: int, code: str, detail: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": code, "detail": detail}, status_code=status)
    return render(
        request,
        "error.html",
        {"status": status, "code": code, "detail": detail},
        status_code=status,
    )


def _field_name(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form")]
    return ".".join(parts) or "body"


# Pydantic speaks English; these German msgids (translated by the catalogs) cover common cases.
_PYDANTIC_TEXT = {
    "missing": "Angabe fehlt",
    "string_too_short": "zu kurz",
    "string_too_long": "zu lang",
    "too_short": "zu wenige Einträge",
    "too_long": "zu viele Einträge",
    "string_type": "Text erwartet",
    "int_parsing": "keine ganze Zahl",
    "int_type": "keine ganze Zahl",
    "float_parsing": "keine Zahl",
    "bool_parsing": "kein Wahrheitswert",
    "literal_error": "nicht erlaubter Wert",
    "enum": "nicht erlaubter Wert",
    "json_invalid": "kein gültiges JSON",
    "model_attributes_type": "Objekt erwartet",
    "dict_type": "Objekt erwartet",
    "list_type": "Liste erwartet",
    "date_parsing": "kein gültiges Datum",
    "date_from_datetime_parsing": "kein gültiges Datum",
    "datetime_parsing": "keine gültige Zeitangabe",
    "datetime_from_date_parsing": "keine gültige Zeitangabe",
    "string_pattern_mismatch": "ungültiges Format",
    "greater_than_equal": "Wert zu klein",
    "less_than_equal": "Wert zu groß",
    "greater_than": "Wert zu klein",
    "less_than": "Wert zu groß",
    "extra_forbidden": "unbekanntes Feld",
}


def _message(lang: str, err: dict[str, object]) -> str:
    msgid = _PYDANTIC_TEXT.get(str(err.get("type", "")))
    if msgid:
        return i18n.translate(lang, msgid)
    return str(err.get("msg", "")).removeprefix("Value error, ")


def validation_detail(request: Request, exc: RequestValidationError) -> str:
    lang = _lang(request)
    items = []
    for err in exc.errors()[:10]:
        items.append(f"{_field_name(tuple(err.get('loc', ())))}: {_message(lang, err)}")
    prefix = i18n.translate(lang, "Ungültige Eingabe")
    return f"{prefix} – " + "; ".join(items)


def install(app: FastAPI) -> None:
    @app.exception_handler(ServicePointError)
    async def _domain(request: Request, exc: ServicePointError) -> Response:
        if isinstance(exc, LoginRequired) and not _wants_json(request):
            target = quote(request.url.path)
            return RedirectResponse(f"/mitarbeiter/login?next={target}", status_code=303)
        text = i18n.translate(_lang(request), exc.message)
        detail = text % exc.params if exc.params else text
        return error_response(request, exc.status_code, exc.code, detail)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 422, "invalid_input", validation_detail(request, exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        text = _HTTP_TEXT.get(exc.status_code, "Die Anfrage konnte nicht bearbeitet werden.")
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(request, exc.status_code, code, i18n.translate(_lang(request), text))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        text = i18n.translate(_lang(request), "Ein unerwarteter Fehler ist aufgetreten.")
        return error_response(request, 500, "internal_error", text)
