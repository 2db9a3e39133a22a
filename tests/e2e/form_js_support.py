"""A sample step page for the form.js test in test_casework_parity.py: a form of every field
type with chained conditions, the page written to form.js's contract, and what a citizen types.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import random
from typing import Any

from servicepoint.casework.formspec import FormField, FormSpec
from tests.e2e.parity_support import dates

T = {"de": "x", "en": "x"}
WHEN_EXTENDED = {"==": [{"var": "kind"}, "extended"]}
SAMPLE_FIELDS: list[dict[str, Any]] = [
    {
        "name": "kind",
        "type": "choice",
        "required": True,
        "choices": [{"value": "simple", "label": T}, {"value": "extended", "label": T}],
    },
    {
        "name": "purpose",
        "type": "text",
        "max_length": 12,
        "show_if": WHEN_EXTENDED,
        "required_if": WHEN_EXTENDED,
    },
    {"name": "copies", "type": "integer", "min": 1, "max": 20},
    {"name": "copies_note", "type": "textarea", "show_if": {">": [{"var": "copies"}, 2]}},
    {"name": "own", "type": "boolean"},
    {
        "name": "helper_name",
        "type": "text",
        "show_if": {"!": {"var": "own"}},
        "required_if": {"!": {"var": "own"}},
    },
    {
        "name": "topics",
        "type": "multichoice",
        "choices": [{"value": v, "label": T} for v in ("a", "b", "c")],
    },
    {"name": "topic_detail", "type": "text", "show_if": {"in": ["b", {"var": "topics"}]}},
    # a chain: shown only while an answer of a field that may itself be hidden is there
    {"name": "detail_more", "type": "text", "show_if": {"!!": {"var": "topic_detail"}}},
    {"name": "moved", "type": "date", "past": True, "show_if": {"var": "own"}},
    {"name": "zip", "type": "text", "digits": True, "max_length": 5},
    {"name": "contact", "type": "email", "required_if": {"!!": {"var": "own"}}},
    {
        "name": "since_birth",
        "type": "boolean",
        "show_if": {"==": [{"var": "moved"}, {"var": "birth_date"}]},
    },
]


def sample_form() -> FormSpec:
    return FormSpec.model_validate(
        {
            "service_id": "parity-sample",
            "version": "1",
            "time_limit_days": 5,
            "steps": [
                {"id": "details", "title": T, "fields": [{"label": T, **f} for f in SAMPLE_FIELDS]},
            ],
            "rules": [{"name": "always", "check": True, "outcome": "review", "reason": T}],
            "document": {"title": T, "lines": [{"label": T, "value": "x"}]},
        }
    )


def _attr(name: str, value: Any) -> str:
    return f" {name}='{html.escape(json.dumps(value), quote=True)}'" if value is not None else ""


def _inputs(spec: FormField, today: dt.date) -> str:
    name = spec.name
    if spec.type in ("choice", "multichoice"):
        kind = "radio" if spec.type == "choice" else "checkbox"
        return "".join(
            f'<label><input type="{kind}" name="{name}" value="{c.value}"> {c.value}</label>'
            for c in spec.choices
        )
    if spec.type == "boolean":
        return f'<label><input type="checkbox" name="{name}" value="true"> {name}</label>'
    if spec.type == "textarea":
        return f'<textarea name="{name}" maxlength="{spec.text_limit}"></textarea>'
    extra = ""
    if spec.type == "integer":
        kind = "number"
        extra = "".join(
            f' {a}="{v}"' for a, v in (("min", spec.min), ("max", spec.max)) if v is not None
        )
    elif spec.type == "date":
        kind = "date"
        high = today - dt.timedelta(days=1) if spec.past else dt.date(2100, 12, 31)
        extra = f' min="1900-01-01" max="{high.isoformat()}"'
    else:
        kind = "email" if spec.type == "email" else "text"
        extra = f' maxlength="{spec.text_limit}"' + (' pattern="[0-9]+"' if spec.digits else "")
    return f'<input type="{kind}" name="{name}"{extra}>'


def contract_html(form: FormSpec, step: int, earlier: dict[str, Any], today: dt.date) -> str:
    """A step page's form as the contract in form.js describes it (what the templates write)."""
    wrappers = [
        f'<div data-field="{spec.name}" data-type="{spec.type}"'
        f"{_attr('data-show-if', spec.show_if)}{_attr('data-required-if', spec.required_if)}>"
        f"<span>{spec.name}</span>{_inputs(spec, today)}</div>"
        for spec in form.step(step).fields
    ]
    values = html.escape(json.dumps(earlier), quote=False)
    return (
        f'<script type="application/json" id="casework-values">{values}</script>'
        f'<form data-casework-form method="post">{"".join(wrappers)}'
        '<button type="submit">Weiter</button></form>'
    )


FILL_TEXTS = ["", " ", "x", " Straße ", "0", "12", "30161", "abcdefghijklmnop", "ä😀"]
FILL_EMAILS = ["", "erika@example.org", " Erika@Example.DE ", "kein-at", "x@y"]
FILL_INTEGERS = ["", "0", "1", "2", "3", "20", "21", "-1", "007"]


def fills(form: FormSpec, step: int, count: int, today: dt.date) -> list[dict[str, Any]]:
    """What a citizen might type or tick into each field, `count` times (always the same)."""
    rng = random.Random(f"form.js:{count}")
    day_choices = ["", *dates(today), "1899-12-31"]
    result = []
    for _ in range(count):
        fill: dict[str, Any] = {}
        for spec in form.step(step).fields:
            choices = [c.value for c in spec.choices]
            if spec.type == "choice":
                fill[spec.name] = rng.choice([*choices, None])
            elif spec.type == "multichoice":
                fill[spec.name] = rng.sample(choices, rng.randint(0, len(choices)))
            elif spec.type == "boolean":
                fill[spec.name] = rng.random() < 0.5
            elif spec.type == "integer":
                fill[spec.name] = rng.choice(FILL_INTEGERS)
            elif spec.type == "date":
                fill[spec.name] = rng.choice(day_choices)
            elif spec.type == "email":
                fill[spec.name] = rng.choice(FILL_EMAILS)
            else:
                fill[spec.name] = rng.choice(FILL_TEXTS)
        result.append(fill)
    return result


# Type each fill into the page's form, let form.js settle, and report what it shows and what
# the browser would post.
BROWSER_FILLS = """(fills) => {
  const form = document.querySelector("form[data-casework-form]");
  return fills.map((fill) => {
    for (const [name, value] of Object.entries(fill)) {
      for (const el of form.querySelectorAll(`[name="${name}"]`)) {
        if (el.type === "radio" || el.type === "checkbox") {
          el.checked = Array.isArray(value) ? value.includes(el.value)
            : (typeof value === "boolean" ? value : el.value === value);
        } else {
          el.value = value;
        }
      }
    }
    form.dispatchEvent(new Event("input", {bubbles: true}));
    const hidden = [], required = {};
    for (const wrapper of form.querySelectorAll("[data-field]")) {
      const name = wrapper.getAttribute("data-field");
      if (wrapper.hidden) hidden.push(name);
      if (wrapper.hasAttribute("data-required-if")) {
        const el = wrapper.querySelector("input, textarea, select");
        required[name] = el.required;
      }
    }
    const posted = Array.from(new FormData(form).entries());
    return {values: window.servicepointCasework.values(form), hidden, required, posted};
  });
}"""
