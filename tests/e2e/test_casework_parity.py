"""Browser/server rule parity (issue 15): the same JSONLogic, the same answers, in both places.

The server evaluates conditions and rules with servicepoint.casework.logic.apply, the browser
with the vendored json-logic-js (web/static/vendor/json-logic/logic.js) that form.js uses. Every
expression of every form file runs on at least 500 generated inputs in Python and in Debian
chromium (one batched call), and the results must be identical: the same JSON value (1 and 1.0
are one number, true is not 1) and the same truthiness.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from servicepoint.casework import logic
from servicepoint.casework.formspec import FormSpec, load_forms
from servicepoint.casework.page_views import raw_answers
from servicepoint.config import DATA_ROOT
from tests.e2e.form_js_support import BROWSER_FILLS, contract_html, fills, sample_form
from tests.e2e.parity_support import (
    BROWSER_BATCH,
    Expression,
    edge_data,
    expressions,
    inputs,
    lookup,
    normalised,
    operator_rules,
    same,
    var_paths,
)
from tests.e2e.support import MODULE_MARKS, LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = MODULE_MARKS
INPUTS_PER_FORM = 600
JSON_LOGIC = "/static/vendor/json-logic/logic.js"
FORM_JS = "/static/casework/form.js"

Outcome = tuple[Any, bool]  # the normalised result and its JSONLogic truthiness


@pytest.fixture(scope="module")
def forms() -> dict[str, FormSpec]:
    found = load_forms(DATA_ROOT / "hannover")
    assert found, "no form files in the default city folder"
    return found


def server_outcome(rule: Any, data: Any) -> Outcome:
    try:
        result = logic.apply(rule, data)
    except Exception:  # the browser's side reports its exceptions the same way
        return {"$": "error"}, False
    return normalised(result), logic.truthy(result)


def browser_outcomes(
    page: Page, live_server: LiveServer, cases: list[tuple[Any, str]], datas: dict[str, list[Any]]
) -> list[list[Outcome]]:
    """Each (rule, data key) evaluated in chromium on every data set under that key."""
    page.goto(live_server.url + "/datenschutz")
    page.add_script_tag(url=JSON_LOGIC)  # same origin: allowed by the page's CSP
    results: list[list[list[Any]]] = page.evaluate(
        BROWSER_BATCH, {"rules": [list(c) for c in cases], "datas": datas}
    )
    return [[(value, bool(truth)) for value, truth in row] for row in results]


def differences(
    cases: list[tuple[Any, str]],
    labels: list[str],
    datas: dict[str, list[Any]],
    browser: list[list[Outcome]],
) -> Iterator[str]:
    for (rule, key), label, row in zip(cases, labels, browser, strict=True):
        for data, (js_value, js_truth) in zip(datas[key], row, strict=True):
            py_value, py_truth = server_outcome(rule, data)
            if not same(py_value, js_value) or py_truth != js_truth:
                read = {path: lookup(data, path) for path in dict.fromkeys(var_paths(rule))}
                yield (
                    f"{label} :: {json.dumps(rule)} on {json.dumps(read, ensure_ascii=False)}"
                    f" → server {json.dumps(py_value)} ({py_truth}),"
                    f" browser {json.dumps(js_value)} ({js_truth})"
                )


def _report(found: list[str], total: int) -> str:
    by_label: dict[str, list[str]] = defaultdict(list)
    for line in found:
        by_label[line.split(" :: ", 1)[0]].append(line)
    lines = [f"{len(found)} of {total} evaluations differ:"]
    for label, examples in by_label.items():
        lines.append(f"- {label} ({len(examples)}):")
        shown = list(dict.fromkeys(e.split(" :: ", 1)[1] for e in examples))
        lines.extend(f"    {e}" for e in shown[:4])
    return "\n".join(lines)


def test_every_form_expression_gives_the_same_result_in_browser_and_server(
    page: Page, live_server: LiveServer, forms: dict[str, FormSpec]
) -> None:
    found: list[Expression] = [e for form in forms.values() for e in expressions(form)]
    assert found, "the form files hold no expressions"
    datas: dict[str, list[Any]] = {}
    for sid, form in forms.items():
        flats, rules = inputs(form, INPUTS_PER_FORM, seed=15)
        datas[f"{sid}:flat"], datas[f"{sid}:rules"] = flats, rules
    cases = [(e.rule, f"{e.form}:{e.kind}") for e in found]
    labels = [f"{e.form} {e.where}" for e in found]
    browser = browser_outcomes(page, live_server, cases, datas)
    total = sum(len(datas[key]) for _, key in cases)
    assert min(len(rows) for rows in datas.values()) >= 500
    problems = list(differences(cases, labels, datas, browser))
    assert not problems, _report(problems, total)


def test_every_operator_gives_the_same_result_on_edge_values(
    page: Page, live_server: LiveServer
) -> None:
    """The whole operator set of json-logic-js, so a new form file cannot meet a difference
    that today's files happen not to use."""
    rules = operator_rules()
    datas = {"edge": edge_data()}
    assert len(datas["edge"]) >= 500
    cases = [(rule, "edge") for _, rule in rules]
    labels = [label for label, _ in rules]
    browser = browser_outcomes(page, live_server, cases, datas)
    problems = list(differences(cases, labels, datas, browser))
    assert not problems, _report(problems, len(cases) * len(datas["edge"]))


# --- form.js: what the page shows and sends is what the server reads -------------------------

ERIKA = {"given_name": "Erika", "family_name": "Mustermann", "birth_date": "1964-08-12"}


def open_step(page: Page, live_server: LiveServer, form: FormSpec, today: dt.date) -> None:
    """A live page with a step form written to the contract, then the two scripts, as the
    step templates load them (same origin, under the real CSP)."""
    page.goto(live_server.url + "/datenschutz")
    earlier = logic.flat_values(form, ERIKA)
    page.evaluate(
        "(html) => { document.querySelector('main').innerHTML = html; }",
        contract_html(form, 1, earlier, today),
    )
    page.add_script_tag(url=JSON_LOGIC)
    page.add_script_tag(url=FORM_JS)


def server_view(
    form: FormSpec, posted: list[tuple[str, str]], today: dt.date
) -> tuple[dict[str, Any], list[str], dict[str, bool]]:
    """The server's reading of the post: every value, the hidden fields, the required ones."""
    from starlette.datastructures import FormData

    step = form.step(1)
    raw = raw_answers(step, FormData(posted))
    answers: dict[str, Any] = {}
    for spec in step.fields:
        try:
            answers[spec.name] = logic.read_value(spec, raw.get(spec.name), today=today)
        except logic.Invalid:
            continue  # a field error: the value counts as missing, as in check_step
    values = logic.flat_values(form, {**ERIKA, **answers})
    hidden = [s.name for s in step.fields if not logic.visible(s, values)]
    required = {
        s.name: s.name not in hidden and logic.required(s, values)
        for s in step.fields
        if s.required_if is not None
    }
    return values, hidden, required


def test_form_js_shows_and_sends_what_the_server_reads(page: Page, live_server: LiveServer) -> None:
    form, today = sample_form(), dt.date.today()
    open_step(page, live_server, form, today)
    typed = fills(form, 1, 300, today)
    seen: list[dict[str, Any]] = page.evaluate(BROWSER_FILLS, typed)
    problems = []
    for fill, browser in zip(typed, seen, strict=True):
        posted = [(k, v) for k, v in browser["posted"]]
        values, hidden, required = server_view(form, posted, today)
        if not same(browser["values"], values) or browser["hidden"] != hidden:
            problems.append(f"{fill}: browser {browser}, server {values} hidden {hidden}")
        elif browser["required"] != required:
            problems.append(f"{fill}: required browser {browser['required']}, server {required}")
    assert not problems, "\n".join(problems[:5])


def test_form_js_hides_disables_and_requires_as_the_answers_change(
    page: Page, live_server: LiveServer
) -> None:
    open_step(page, live_server, sample_form(), dt.date.today())
    purpose = page.locator('[data-field="purpose"]')
    expect_hidden(purpose, True)
    assert page.locator('input[name="purpose"]').is_disabled()
    page.locator('input[name="kind"][value="extended"]').check()
    expect_hidden(purpose, False)
    field = page.locator('input[name="purpose"]')
    assert field.is_enabled()
    assert field.get_attribute("aria-required") == "true"
    assert field.evaluate("el => el.required") is True
    page.locator('input[name="kind"][value="simple"]').check()
    expect_hidden(purpose, True)
    assert field.get_attribute("aria-required") == "false"
    # a value typed into a field that is then hidden is not sent
    page.locator('input[name="own"]').check()
    page.locator('input[name="moved"]').fill("2020-05-01")
    page.locator('input[name="own"]').uncheck()
    posted = page.evaluate("() => Array.from(new FormData(document.querySelector('form')).keys())")
    assert "moved" not in posted and "helper_name" in posted
    values = page.evaluate(
        "() => window.servicepointCasework.values(document.querySelector('form'))"
    )
    assert values["moved"] is None and values["own"] is False
    assert values["given_name"] == "Erika"  # the earlier steps' answers, from the page
    assert page.evaluate(
        "() => window.servicepointCasework.evaluate({'in': ['b', {'var': 't'}]}, {t: ['b']})"
    )


def expect_hidden(locator: Any, hidden: bool) -> None:
    assert locator.evaluate("el => el.hidden") is hidden
