"""The shared input types (core.inputs) and an audit of every route: no parameter a request can
carry is unbounded, so a route added later cannot bring back unbounded work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError

from servicepoint.app import create_app
from servicepoint.appointment.capacity import CapacityChange
from servicepoint.appointment.schemas import BookingCreate
from servicepoint.catalog.locations import LocationPatch
from servicepoint.catalog.service_form import ServiceForm
from servicepoint.config import Settings
from servicepoint.core import inputs
from servicepoint.core.inputs import (
    Counter,
    Day,
    Id,
    Key,
    LongText,
    Name,
    csv_cell,
    date_window,
    first_bad_char,
    json_too_deep,
)
from servicepoint.planning import schemas as planning_schemas
from servicepoint.planning.mobile_pages import PlanForm
from servicepoint.planning.mobile_service import StopData, VanParams
from servicepoint.web import routing


# -- characters ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "a\x00b",
        "a\x07b",
        "a\x7fb",
        "a\x9bb",
        "\u202eevil",
        "\u2066isolate\u2069",
        "zero\u200bwidth",
        "\u2060joiner",
        "\ufeffbom",
        "soft\u00adhyphen",
        "\U000e0041tag",
        "lone \ud800",
    ],
)
def test_forbidden_characters_are_found(text: str) -> None:
    assert first_bad_char(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "Straße 1\nHinterhaus\ttab\r\n",
        "Ärztehaus Ölstraße Übersee",
        "محمد العلي",
        "Юлия",
        "Şahin Ğ ı İ",
        "👩\u200d💻 und 🇩🇪",
        "می\u200cخواهم",
        "",
    ],
)
def test_legitimate_text_is_clean(text: str) -> None:
    assert first_bad_char(text) is None


def test_names_are_nfc_and_stripped() -> None:
    adapter = TypeAdapter(Name)
    assert adapter.validate_python("  Ju\u0308rgen  ") == "Jürgen"


@pytest.mark.parametrize("value", ["=1+1", "+49", "-x", "@SUM(A1)", "  =HYPERLINK(1)"])
def test_names_may_not_start_like_a_formula(value: str) -> None:
    with pytest.raises(ValidationError) as err:
        TypeAdapter(Name).validate_python(value)
    assert err.value.errors()[0]["type"] == "formula_prefix"


def test_long_text_keeps_line_breaks_and_rejects_controls() -> None:
    adapter = TypeAdapter(LongText)
    assert adapter.validate_python("Zeile 1\nZeile 2") == "Zeile 1\nZeile 2"
    with pytest.raises(ValidationError):
        adapter.validate_python("a\x00b")
    with pytest.raises(ValidationError):
        adapter.validate_python("x" * 2001)


# -- numbers and dates ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (Id, [1, inputs.MAX_ID], [0, -1, inputs.MAX_ID + 1, 2**63, 10**20]),
        (Counter, [1, 99], [0, 100, 10**20]),
        (Key, ["aegi", "x" * 64], ["", "x" * 65]),
    ],
)
def test_bounds(kind: Any, good: list[Any], bad: list[Any]) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(kind)
    for value in good:
        adapter.validate_python(value)
    for value in bad:
        with pytest.raises(ValidationError):
            adapter.validate_python(value)


def test_dates_stay_within_a_year_back_and_five_years_ahead() -> None:
    low, high = date_window()
    adapter: TypeAdapter[dt.date] = TypeAdapter(Day)
    assert adapter.validate_python(low) == low
    assert adapter.validate_python(high) == high
    for day in (dt.date(1, 1, 1), dt.date(9999, 12, 31), low - dt.timedelta(days=1)):
        with pytest.raises(ValidationError) as err:
            adapter.validate_python(day)
        assert err.value.errors()[0]["type"] == "date_window"
    with pytest.raises(ValidationError):
        adapter.validate_python(high + dt.timedelta(days=1))


def test_date_window_survives_a_leap_day() -> None:
    low, high = date_window(dt.date(2028, 2, 29))
    assert low < dt.date(2028, 2, 29) < high


# -- JSON depth and CSV cells --------------------------------------------------------------------
def test_json_depth_is_measured_without_parsing() -> None:
    assert not json_too_deep('{"a": [1, {"b": "[[[[[[[[[[[[[[[[[[[[[[[[[["}]}')
    assert not json_too_deep('{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')
    assert json_too_deep("[" * 21 + "]" * 21)
    assert not json_too_deep("[" * 20 + "]" * 20)
    assert json_too_deep(b"[" * 1_000_000)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+49 511", "'+49 511"),
        ("-5", "'-5"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("Bürgeramt", "Bürgeramt"),
        (None, ""),
        (12, "12"),
    ],
)
def test_csv_cells_never_start_a_formula(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


# -- the audit of every route --------------------------------------------------------------------
def _open_text(schema: dict[str, Any]) -> bool:
    # Dates have a fixed form; an uploaded file is limited by the body limit and its importer.
    fixed = schema.get("format") in ("date", "date-time") or "contentMediaType" in schema
    return not fixed and "maxLength" not in schema


def _unbounded(schema: Any, defs: dict[str, Any], where: str) -> Iterator[str]:
    """Every string without maxLength, number without maximum or list without maxItems."""
    if isinstance(schema, list):
        for item in schema:
            yield from _unbounded(item, defs, where)
        return
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        yield from _unbounded(defs[schema["$ref"].split("/")[-1]], defs, where)
        return
    kind = schema.get("type")
    bounded = "enum" in schema or "const" in schema
    if kind == "string" and not bounded and _open_text(schema):
        yield f"{where}: text without max_length"
    if kind in ("integer", "number") and "maximum" not in schema and not bounded:
        yield f"{where}: number without upper bound"
    if kind == "array" and "maxItems" not in schema:
        yield f"{where}: list without max_length"
    for key in ("items", "anyOf", "oneOf", "allOf"):
        yield from _unbounded(schema.get(key), defs, where)
    for name, prop in (schema.get("properties") or {}).items():
        yield from _unbounded(prop, defs, f"{where}.{name}")


def _schema(annotation: Any) -> dict[str, Any]:
    return TypeAdapter(annotation).json_schema()


def _route_params(route: APIRoute) -> Iterator[tuple[str, Any]]:
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        stack.extend(dependant.dependencies)
        for field in (
            dependant.path_params
            + dependant.query_params
            + dependant.body_params
            + dependant.header_params
            + dependant.cookie_params
        ):
            yield field.name, Annotated[field.field_info.annotation, field.field_info]


@pytest.fixture(scope="module")
def every_route() -> list[APIRoute]:
    app: FastAPI = create_app(Settings(database_url="sqlite://", secret_key="x"))
    return [r for r in routing.every_route(app.routes) if isinstance(r, APIRoute)]


def test_the_audit_sees_every_route(every_route: list[APIRoute]) -> None:
    paths = {r.path for r in every_route}
    for path in ("/mitarbeiter/schalter/{location_id}/{counter}", "/api/appointments/slots"):
        assert path in paths


def test_every_route_parameter_is_bounded(every_route: list[APIRoute]) -> None:
    problems = []
    for route in every_route:
        for name, annotation in _route_params(route):
            schema = _schema(annotation)
            problems += _unbounded(schema, schema.get("$defs", {}), f"{route.path} {name}")
    assert problems == []


PLANNING_FORMS = [
    StopData,
    VanParams,
    PlanForm,
    planning_schemas.TradeoffParams,
    planning_schemas.CloseParams,
    planning_schemas.AddParams,
    planning_schemas.CoverParams,
    planning_schemas.BalancedParams,
    planning_schemas.PMedianParams,
    planning_schemas.MclpParams,
]


@pytest.mark.parametrize(
    "model", [BookingCreate, LocationPatch, CapacityChange, ServiceForm, *PLANNING_FORMS]
)
def test_models_read_from_hand_parsed_forms_are_bounded(model: type[BaseModel]) -> None:
    schema = model.model_json_schema()
    assert list(_unbounded(schema, schema.get("$defs", {}), model.__name__)) == []


@pytest.mark.parametrize("route", ["/mitarbeiter/schalter/{location_id}/{counter}"])
def test_the_audit_catches_an_unbounded_parameter(route: str) -> None:
    schema = _schema(int)
    assert list(_unbounded(schema, {}, route)) == [f"{route}: number without upper bound"]


# The safety net for values the database cannot hold (a narrow 400) is tested with real
# database errors in tests/web/test_error_narrowing.py.
