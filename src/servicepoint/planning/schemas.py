"""A scenario's parameters, one model per kind, bounded before any solver sees them.

Pages, CLI and tests hand a plain mapping to `parse_params(kind, data)`; every number is bounded
here (a p of 10^9 or a radius of 10^6 km never reaches a solver) and an unknown field is refused.
Whether a named site exists is the service's business (scenarios.create_scenario), which knows
the sites.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from servicepoint.core.i18n import N_
from servicepoint.core.inputs import Key
from servicepoint.errors import FieldMessage, Unprocessable

KINDS = ("evaluate", "tradeoff", "close", "add", "cover", "balanced", "pmedian", "mclp")
MAX_P = 60  # far above the city's nine offices plus candidates; bounds the solvers' work
MAX_SITE_IDS = 200
MAX_ADJUST_DAYS = 730  # two years of bookings; older ones describe another network
MAX_MATRIX_CSV = 2_000_000  # characters; a city-wide long-format matrix fits easily

P = Annotated[int, Field(ge=1, le=MAX_P)]
RadiusKm = Annotated[float, Field(gt=0, le=50)]
SiteIds = Annotated[list[Key], Field(max_length=MAX_SITE_IDS)]


class InvalidScenario(Unprocessable):
    """Parameters that do not fit the kind; `fields` names each one and what is wrong."""

    code = "invalid_scenario"

    def __init__(self, message: str, *, fields: Mapping[str, FieldMessage], **params: str) -> None:
        super().__init__(message, **params)
        self.fields = fields


class CommonParams(BaseModel):
    """What every kind shares: the demand, the distances and the sites held open or closed."""

    model_config = ConfigDict(extra="forbid")

    basis: Literal["stadtteile", "grid"] = "stadtteile"
    year: Literal["current", "2034"] = "current"
    rate: Annotated[float, Field(gt=0, le=50)] | None = None  # visits/inhabitant/year; None: yaml
    detour: Annotated[float, Field(ge=1, le=3)] | None = None  # None: planning.yaml's factor
    method: Literal["great_circle", "osrm", "matrix"] = "great_circle"
    matrix_csv: Annotated[str, StringConstraints(max_length=MAX_MATRIX_CSV)] | None = None
    fixed_open: SiteIds = []
    forced_closed: SiteIds = []
    # Booking statistics of the last `adjust_days` days move weight between the offices'
    # catchments (planning.adjusters.BookingAdjuster); "none" keeps population × rate.
    adjust: Literal["none", "bookings"] = "none"
    adjust_days: Annotated[int, Field(ge=7, le=MAX_ADJUST_DAYS)] = 365

    @model_validator(mode="after")
    def _consistent(self) -> CommonParams:
        if self.method == "matrix" and not self.matrix_csv:
            raise ValueError("matrix_csv_missing")
        if set(self.fixed_open) & set(self.forced_closed):
            raise ValueError("open_and_closed")
        return self


class EvaluateParams(CommonParams):
    pass


class TradeoffParams(CommonParams):
    k_min: P = 5
    k_max: P = 12

    @model_validator(mode="after")
    def _range(self) -> TradeoffParams:
        if self.k_min > self.k_max:
            raise ValueError("k_range")
        if self.k_max - self.k_min > 20:
            raise ValueError("k_span")
        return self


class CloseParams(CommonParams):
    site_id: Key


class AddParams(CommonParams):
    site_id: Key


class CoverParams(CommonParams):
    radius_km: RadiusKm = 2.0
    share: Annotated[float, Field(gt=0, le=1)] = 0.95


class BalancedParams(CommonParams):
    p: P = 9


class PMedianParams(CommonParams):
    p: P = 9


class MclpParams(CommonParams):
    p: P = 9
    radius_km: RadiusKm = 2.0


MODELS: Mapping[str, type[CommonParams]] = {
    "evaluate": EvaluateParams,
    "tradeoff": TradeoffParams,
    "close": CloseParams,
    "add": AddParams,
    "cover": CoverParams,
    "balanced": BalancedParams,
    "pmedian": PMedianParams,
    "mclp": MclpParams,
}

# German msgids (the catalogs already translate most) for pydantic's error types.
_TEXT: Mapping[str, str] = {
    "missing": N_("Angabe fehlt"),
    "string_too_long": N_("zu lang"),
    "string_too_short": N_("zu kurz"),
    "too_long": N_("zu viele Einträge"),
    "int_parsing": N_("keine ganze Zahl"),
    "int_type": N_("keine ganze Zahl"),
    "int_from_float": N_("keine ganze Zahl"),
    "float_parsing": N_("keine Zahl"),
    "float_type": N_("keine Zahl"),
    "finite_number": N_("keine Zahl"),
    "literal_error": N_("nicht erlaubter Wert"),
    "greater_than_equal": N_("Wert zu klein"),
    "greater_than": N_("Wert zu klein"),
    "less_than_equal": N_("Wert zu groß"),
    "less_than": N_("Wert zu groß"),
    "extra_forbidden": N_("unbekanntes Feld"),
    "invalid_characters": N_("enthält unerlaubte Steuer- oder Sonderzeichen"),
}
# The model validators' reasons, by field.
_RULES: Mapping[str, tuple[str, str]] = {
    "matrix_csv_missing": ("matrix_csv", N_("Für die Methode „Matrix“ fehlt die CSV-Datei.")),
    "open_and_closed": (
        "forced_closed",
        N_("Ein Standort kann nicht zugleich fest offen und geschlossen sein."),
    ),
    "k_range": ("k_max", N_("Das größte k muss mindestens so groß wie das kleinste sein.")),
    "k_span": ("k_max", N_("Höchstens 21 Werte von k auf einmal.")),
}


def _fields(exc: ValidationError) -> dict[str, FieldMessage]:
    fields: dict[str, FieldMessage] = {}
    for err in exc.errors()[:10]:
        reason = str(err.get("msg", "")).removeprefix("Value error, ")
        if reason in _RULES:
            name, text = _RULES[reason]
        else:
            name = ".".join(str(part) for part in err.get("loc", ())) or "params"
            text = _TEXT.get(err["type"], N_("nicht erlaubter Wert"))
        fields.setdefault(name, text)
    return fields


def parse_params(kind: str, data: Mapping[str, object]) -> CommonParams:
    """The kind's parameters from a plain mapping; InvalidScenario (422) names what is wrong."""
    model = MODELS.get(kind)
    if model is None:
        raise InvalidScenario(
            N_("Unbekannte Art von Szenario: %(kind)s."),
            kind=kind[:40],
            fields={"kind": N_("nicht erlaubter Wert")},
        )
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidScenario(
            N_("Ungültige Angaben für das Szenario."), fields=_fields(exc)
        ) from exc
