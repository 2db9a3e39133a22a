"""Generated inputs for the browser/server rule parity test (test_casework_parity.py).

Every JSONLogic expression of every form file, with deterministic pseudo-random data of the
shape CASEWORK.md defines: the flat answers (conditions, uploads, fees) and the rule context
(applicant, data, records, today, uploads). Edge values on purpose: empty strings, null, 0 and
"0", empty and full lists, unicode, dates at the boundaries, and keys left out altogether.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from servicepoint.casework.formspec import APPLICANT_FIELDS, FormField, FormSpec

TODAY = dt.date(2026, 12, 1)
MISSING = object()  # a key left out of the data altogether

TEXTS = [
    "",
    " ",
    "0",
    "1",
    "a",
    "Erika",
    "Mustermann",
    "Lister Meile",
    "Straße",
    "ÄÖÜ ß",
    "😀",
    "null",
    "false",
    "true",
    "extended",
    "simple",
    "1964-08-12",
    "30161",
    " x ",
]
INTEGERS = [0, 1, -1, 2, 3, 5, 20, 21, 100, 10**9]
GENERIC: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2,
    16,
    17,
    18,
    1.5,
    "",
    "0",
    "1",
    "a",
    "Straße",
    "2024-02-29",
    [],
    ["a"],
    ["a", "b"],
    [0],
    {},
]


def dates(today: dt.date = TODAY) -> list[str]:
    days = [
        dt.date(1900, 1, 1),
        dt.date(2100, 12, 31),
        dt.date(2024, 2, 29),
        dt.date(1964, 8, 12),
        today,
        today - dt.timedelta(days=1),
        today + dt.timedelta(days=1),
        today.replace(year=today.year - 18),
        today.replace(year=today.year - 16),
    ]
    return [d.isoformat() for d in days]


@dataclass(frozen=True)
class Expression:
    form: str
    where: str  # e.g. "show_if of kind", "check of resident_found"
    kind: str  # "flat" (conditions, uploads, fees) or "rules" (the rule context)
    rule: Any


def expressions(form: FormSpec) -> Iterator[Expression]:
    """Every JSONLogic expression a form file holds, and which data it is evaluated on."""
    sid = form.service_id
    for spec in form.fields.values():
        for attr in ("show_if", "required_if"):
            if getattr(spec, attr) is not None:
                yield Expression(sid, f"{attr} of {spec.name}", "flat", getattr(spec, attr))
    for upload in form.uploads:
        if upload.required_if is not None:
            yield Expression(
                sid, f"required_if of upload {upload.name}", "flat", upload.required_if
            )
    for number, fee in enumerate(form.fee):
        for attr in ("when", "times"):
            if getattr(fee, attr) is not None:
                yield Expression(sid, f"fee {number} {attr}", "flat", getattr(fee, attr))
    for rule in form.rules:
        yield Expression(sid, f"check of rule {rule.name}", "rules", rule.check)


def var_paths(rule: Any) -> Iterator[str]:
    if isinstance(rule, dict):
        for op, args in rule.items():
            if op == "var":
                first = args[0] if isinstance(args, list) and args else args
                if isinstance(first, str):
                    yield first
            yield from var_paths(args)
    elif isinstance(rule, list):
        for item in rule:
            yield from var_paths(item)


def lookup(data: Any, path: str) -> Any:
    """What {"var": path} reads, for the report of a difference (missing: "<missing>")."""
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return "<missing>"
        data = data[part]
    return data


def field_value(spec: FormField, rng: random.Random) -> Any:
    """A value of the field's type as the server stores it, or an edge value of another type."""
    if rng.random() < 0.12:
        return rng.choice(GENERIC)
    choices = [c.value for c in spec.choices]
    if spec.type == "boolean":
        return rng.choice([True, False, None])
    if spec.type == "integer":
        return rng.choice([*INTEGERS, spec.min or 0, spec.max or 0, None])
    if spec.type == "date":
        return rng.choice([*dates(), None])
    if spec.type == "choice":
        return rng.choice([*choices, None, ""])
    if spec.type == "multichoice":
        return rng.sample(choices, rng.randint(0, len(choices)))
    return rng.choice([*TEXTS, None])


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        nxt = target.get(part)
        if not isinstance(nxt, dict):
            nxt = target[part] = {}
        target = nxt
    if value is not MISSING:
        target[parts[-1]] = value


def flat_data(form: FormSpec, rng: random.Random) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, spec in form.fields.items():
        value = MISSING if rng.random() < 0.08 else field_value(spec, rng)
        if value is not MISSING:
            data[name] = value
    return data


def rule_data(form: FormSpec, rng: random.Random, paths: list[str]) -> dict[str, Any]:
    """The rule context: the answers split into applicant and data, and made-up records for
    every records.* path the rules read (booleans, ages, dates, texts, nulls, lists)."""
    answers = flat_data(form, rng)
    context: dict[str, Any] = {
        "applicant": {k: v for k, v in answers.items() if k in APPLICANT_FIELDS},
        "data": {k: v for k, v in answers.items() if k not in APPLICANT_FIELDS},
        "records": {},
        "today": rng.choice([TODAY.isoformat(), *dates()]),
        "uploads": rng.sample([u.name for u in form.uploads], rng.randint(0, len(form.uploads))),
    }
    for path in paths:
        if path.startswith("records.") and rng.random() < 0.9:
            _put(context, path, rng.choice([*GENERIC, *dates(), MISSING]))
    if rng.random() < 0.05:
        context["records"] = {}  # a lookup that found nothing at all
    return context


def inputs(form: FormSpec, count: int, seed: int) -> tuple[list[dict[str, Any]], list[Any]]:
    """`count` flat answer sets and `count` rule contexts for one form, always the same ones."""
    rng = random.Random(f"{form.service_id}:{seed}")
    paths = sorted({p for e in expressions(form) for p in var_paths(e.rule)})
    flats = [flat_data(form, rng) for _ in range(count)]
    rules = [rule_data(form, rng, paths) for _ in range(count)]
    return flats, rules


def normalised(value: Any) -> Any:
    """A result as JSON can carry it from the browser: NaN and infinities as markers."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return {"$": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items()}
    return value


def same(a: Any, b: Any) -> bool:
    """Equal as JavaScript values: 1 and 1.0 are one number, but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


# JSONLogic evaluated in the browser: every expression on every data set of its kind, in one
# call; results normalised as above, with `undefined` and exceptions as markers.
BROWSER_BATCH = """({rules, datas}) => {
  const norm = (v) => {
    if (v === undefined) return {"$": "undefined"};
    if (typeof v === "number" && !Number.isFinite(v))
      return {"$": Number.isNaN(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity")};
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === "object") {
      const out = {};
      for (const k of Object.keys(v)) out[k] = norm(v[k]);
      return out;
    }
    return v;
  };
  return rules.map(([rule, kind]) => datas[kind].map((data) => {
    try {
      const result = jsonLogic.apply(rule, data);
      return [norm(result), jsonLogic.truthy(result)];
    } catch (e) {
      return [{"$": "error"}, false];
    }
  }));
}"""


# --- every operator on edge values: what a form file could ever ask ---------------------------

EDGE: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2,
    1.5,
    -0.5,
    "",
    " ",
    "0",
    "1",
    " 1 ",
    "1e3",
    "1_000",
    "0x10",
    "12abc",
    "a",
    "ä",
    "😀",
    "2024-01-01",
    [],
    [1],
    ["a"],
    ["a", "b"],
    {},
]
BINARY = [
    "==",
    "!=",
    "===",
    "!==",
    "<",
    ">",
    "<=",
    ">=",
    "in",
    "cat",
    "+",
    "-",
    "*",
    "/",
    "%",
    "min",
    "max",
    "merge",
    "substr",
]
A, B = {"var": "a"}, {"var": "b"}
OTHER_RULES: list[Any] = [
    A,
    {"var": ["a", "default"]},
    {"var": "a.0"},
    {"var": "a.length"},
    {"!": A},
    {"!!": A},
    {"-": A},
    {"+": A},
    {"*": [A]},
    {"cat": A},
    {"substr": [A, 1]},
    {"substr": [A, -1]},
    {"substr": [A, 0, B]},
    {"<": [A, B, 10]},
    {"<=": [0, A, B]},
    {"if": [A, "yes", "no"]},
    {"?:": [A, B, "neither"]},
    {"and": [A, B]},
    {"or": [A, B]},
    {"missing": ["a", "b"]},
    {"missing_some": [1, ["a", "b"]]},
    {"in": ["a", A]},
    {"in": [A, ["a", 1, True, None, ""]]},
    {"some": [A, {"var": ""}]},
    {"all": [A, {"var": ""}]},
    {"none": [A, {"var": ""}]},
    {"map": [A, {"cat": [{"var": ""}, "!"]}]},
    {"filter": [A, {"!!": {"var": ""}}]},
    {"reduce": [A, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]},
    {"max": [A, B, 1]},
    {"min": []},
]


def operator_rules() -> list[tuple[str, Any]]:
    """(label, rule): each binary operator on the data's a and b, then the other forms."""
    rules = [(op, {op: [A, B]}) for op in BINARY]
    return rules + [(json.dumps(rule), rule) for rule in OTHER_RULES]


def edge_data() -> list[dict[str, Any]]:
    """Every pair of edge values as a and b, a key left out too: 784 data sets."""
    values = [*EDGE, MISSING]
    grid = []
    for a in values:
        for b in values:
            data = {}
            if a is not MISSING:
                data["a"] = a
            if b is not MISSING:
                data["b"] = b
            grid.append(data)
    return grid
