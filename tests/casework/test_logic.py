"""The form's logic as pure code: reading answers, conditions, fees, rules and the decision."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from servicepoint.casework import logic
from servicepoint.casework.formspec import APPLICANT_FIELDS, FormSpec
from tests.casework.case_support import ERIKA

TODAY = dt.date(2026, 12, 7)
T = {"de": "x", "en": "x"}


def form(**changes: Any) -> FormSpec:
    raw: dict[str, Any] = {
        "service_id": "test-service",
        "version": "1",
        "time_limit_days": 5,
        "automatic": {"approve": True, "basis": T},
        "steps": [
            {
                "id": "details",
                "title": T,
                "fields": [
                    {
                        "name": "kind",
                        "type": "choice",
                        "label": T,
                        "required": True,
                        "choices": [
                            {"value": "simple", "label": T},
                            {"value": "extended", "label": T},
                        ],
                    },
                    {
                        "name": "purpose",
                        "type": "text",
                        "label": T,
                        "show_if": {"==": [{"var": "kind"}, "extended"]},
                        "required_if": {"==": [{"var": "kind"}, "extended"]},
                    },
                    {"name": "copies", "type": "integer", "label": T, "min": 1, "max": 5},
                ],
            }
        ],
        "uploads": [
            {"name": "proof", "label": T, "required_if": {"==": [{"var": "kind"}, "extended"]}}
        ],
        "fee": [{"catalog_fee": 0, "times": {"var": "copies"}}],
        "rules": [
            {
                "name": "found",
                "check": {"var": "records.resident.found"},
                "outcome": "review",
                "reason": T,
            },
            {
                "name": "adult",
                "check": {">=": [{"var": "records.resident.age"}, 16]},
                "outcome": "reject",
                "reason": T,
            },
        ],
        "document": {"title": T, "lines": [{"label": T, "value": "{applicant.family_name}"}]},
    }
    raw.update(changes)
    return FormSpec.model_validate(raw)


def test_the_applicant_step_comes_first_and_names_the_api_fields() -> None:
    spec = form()
    assert spec.all_steps[0].id == "applicant"
    assert set(APPLICANT_FIELDS) >= {"given_name", "family_name", "birth_date", "email"}


def test_a_hidden_field_is_neither_required_nor_kept() -> None:
    spec = form()
    answers, errors = logic.check_step(
        spec, spec.step(1), {"kind": "simple", "purpose": "visa"}, earlier={}, today=TODAY
    )
    assert errors == []
    assert "purpose" not in answers


def test_a_shown_field_is_required_when_its_condition_says_so() -> None:
    spec = form()
    _, errors = logic.check_step(spec, spec.step(1), {"kind": "extended"}, earlier={}, today=TODAY)
    assert [e.field for e in errors] == ["purpose"]
    assert errors[0].message == "Bitte füllen Sie dieses Feld aus."


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"birth_date": "2030-01-01"}, "birth_date", "Das Datum muss in der Vergangenheit liegen."),
        (
            {"birth_date": "31.02.1964"},
            "birth_date",
            "Bitte ein Datum angeben, zum Beispiel 12.08.1964.",
        ),
        (
            {"email": "erika@"},
            "email",
            "Bitte geben Sie eine gültige E-Mail-Adresse an, zum Beispiel name@example.de.",
        ),
        ({"postcode": "3016A"}, "postcode", "Bitte nur Ziffern eingeben."),
        ({"postcode": "3016"}, "postcode", "Bitte mindestens %(min)s Zeichen eingeben."),
        (
            {"given_name": "a\u202eb"},
            "given_name",
            "Der Text enthält Steuer- oder unsichtbare Zeichen.",
        ),
        ({"given_name": "x" * 101}, "given_name", "Bitte höchstens %(max)s Zeichen eingeben."),
        ({"given_name": ["list"]}, "given_name", "Bitte geben Sie hier einen Text ein."),
    ],
)
def test_every_field_error_says_what_is_wrong(
    raw: dict[str, object], field: str, message: str
) -> None:
    spec = form()
    _, errors = logic.check_step(spec, spec.step(0), {**ERIKA, **raw}, earlier={}, today=TODAY)
    assert [(e.field, e.message) for e in errors] == [(field, message)]


def test_german_dates_are_read_as_iso() -> None:
    spec = form()
    answers, errors = logic.check_step(
        spec, spec.step(0), {**ERIKA, "birth_date": "12.08.1964"}, earlier={}, today=TODAY
    )
    assert errors == [] and answers["birth_date"] == "1964-08-12"


@pytest.mark.parametrize("raw", ["0", "6", "1e3", "10000000000000000000000", True, 2.5])
def test_integers_are_bounded_and_whole(raw: object) -> None:
    spec = form()
    _, errors = logic.check_step(
        spec, spec.step(1), {"kind": "simple", "copies": raw}, earlier={}, today=TODAY
    )
    assert [e.field for e in errors] == ["copies"]


def test_a_whole_application_names_unknown_and_wrong_fields() -> None:
    spec = form()
    _, errors = logic.check_all(spec, {**ERIKA, "kind": "gold", "colour": "red"}, today=TODAY)
    assert {e.field for e in errors} == {"kind", "colour"}


def test_uploads_and_fees_follow_the_answers() -> None:
    spec = form()
    assert logic.required_uploads(spec, {"kind": "extended"}) == ["proof"]
    assert logic.required_uploads(spec, {"kind": "simple"}) == []
    assert logic.fee_items(spec, {"copies": 3}) == [(0, 3)]
    assert logic.fee_items(spec, {"copies": None}) == []


def context(**resident: Any) -> dict[str, Any]:
    return logic.rule_context(
        applicant=ERIKA, data={}, records={"resident": resident}, uploads=[], today=TODAY
    )


def test_all_rules_passing_with_a_statute_is_approved_at_once() -> None:
    decision = logic.decide(form(), context(found=True, age=62))
    assert (decision.status, decision.proposal) == ("approved", "approved")
    assert [f["outcome"] for f in decision.findings] == ["pass", "pass"]
    assert decision.trace[1] == {
        "rule": "adult",
        "values": {"records.resident.age": 62},
        "result": True,
    }


def test_without_a_statute_a_clear_case_is_only_prepared() -> None:
    decision = logic.decide(form(automatic={"approve": False}), context(found=True, age=62))
    assert (decision.status, decision.proposal) == ("in_review", "approved")


def test_a_doubt_goes_to_a_human() -> None:
    decision = logic.decide(form(), context(found=False, age=62))
    assert (decision.status, decision.proposal) == ("in_review", "approved")
    assert decision.findings[0]["outcome"] == "review"
    assert decision.trace[0]["values"] == {"records.resident.found": False}


def test_a_rejection_is_never_automatic() -> None:
    decision = logic.decide(form(), context(found=True, age=12))
    assert (decision.status, decision.proposal) == ("in_review", "rejected")


def test_automatic_approval_needs_its_statute() -> None:
    with pytest.raises(ValueError, match="statute"):
        form(automatic={"approve": True})


def test_field_names_may_not_shadow_the_applicant() -> None:
    step = {"id": "x", "title": T, "fields": [{"name": "email", "type": "text", "label": T}]}
    with pytest.raises(ValueError, match="repeat"):
        form(steps=[step])


def test_javascript_truthiness() -> None:
    assert logic.truthy(logic.apply({"var": "a"}, {"a": []})) is False
    assert logic.truthy(logic.apply({"var": "a"}, {"a": "0"})) is True
    assert logic.apply({"==": [1, "1"]}, {}) is True


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"==": [None, False]}, False),
        ({"==": ["", 0]}, True),
        ({"===": [True, 1]}, False),
        ({"<": [None, "2024-01-01"]}, False),
        ({"<": ["1964-08-12", "2008-12-07"]}, True),
        ({"cat": [None, True, [1, None]]}, "true1,"),
        ({"+": ["12abc", True]}, None),  # parseFloat(true) is NaN
        ({"-": ["0x10", 1]}, 15),
        ({"substr": ["😀x", 1]}, "\ude00x"),
        ({"var": ["a", "default"]}, None),
        ({"in": ["", ""]}, False),
    ],
)
def test_rules_follow_javascript_not_python(rule: dict[str, Any], expected: object) -> None:
    data = {"a": None}
    result = logic.apply(rule, data)
    if expected is None and rule.get("+"):
        assert result != result  # NaN
    else:
        assert result == expected


def test_an_unknown_operator_fails_the_form_file_not_the_citizen() -> None:
    step = {
        "id": "x",
        "title": T,
        "fields": [{"name": "a", "type": "text", "label": T, "show_if": {"equals": [1, 1]}}],
    }
    with pytest.raises(ValueError, match="unknown JSONLogic operations"):
        form(steps=[step])


def test_the_applicant_sees_one_neutral_line_for_all_register_checks() -> None:
    def rule(name: str, check: dict[str, Any], outcome: str) -> dict[str, Any]:
        return {"name": name, "check": check, "outcome": outcome, "reason": T}

    spec = form(
        rules=[
            rule("found", {"var": "records.resident.found"}, "review"),
            rule("adult", {">=": [{"var": "records.resident.age"}, 16]}, "reject"),
            rule("simple", {"==": [{"var": "data.kind"}, "simple"]}, "review"),
        ]
    )
    decision = logic.decide(spec, context(found=True, age=12))
    shown = logic.citizen_findings(decision.findings, decision.trace)
    assert [(f["rule"], f["outcome"]) for f in shown] == [
        ("simple", "review"),
        ("register_check", "review"),  # not "reject": whether they may vote, own a dog … stays
    ]
    assert shown[1]["detail"] == "Eine Mitarbeiterin oder ein Mitarbeiter prüft Ihre Angaben."
    clear = logic.decide(spec, {**context(found=True, age=40), "data": {"kind": "simple"}})
    assert logic.citizen_findings(clear.findings, clear.trace)[-1]["outcome"] == "pass"
