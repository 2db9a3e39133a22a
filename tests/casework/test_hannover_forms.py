"""The five Hannover form files against the catalog, the registers and the rule engine, pure:
each file loads, refers only to what exists, and decides realistic cases as intended."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from servicepoint.casework import logic
from servicepoint.casework.formspec import APPLICANT_FIELDS, FormSpec, load_forms
from servicepoint.casework.registers import LOOKUPS, lookup_facts, registers_of
from servicepoint.catalog.datafile import load_services
from tests.casework.case_support import ERIKA
from tests.conftest import DATA_DIR

TODAY = dt.date(2026, 12, 7)
FORMS = load_forms(DATA_DIR)
CATALOG = {svc.id: svc for svc in load_services(DATA_DIR / "services")}
REGISTERS = registers_of(DATA_DIR)
FIVE = {"meldebescheinigung", "bewohnerparkausweis", "briefwahl", "hundesteuer",
        "uebermittlungssperren"}  # fmt: skip


def test_the_five_services_have_forms_for_catalog_services() -> None:
    assert set(FORMS) >= FIVE
    assert set(FORMS) <= set(CATALOG)


def test_only_statutory_bound_decisions_are_automatic() -> None:
    automatic = {sid for sid, form in FORMS.items() if form.automatic.approve}
    assert automatic == {"meldebescheinigung", "briefwahl", "uebermittlungssperren"}
    for sid in automatic:
        assert FORMS[sid].automatic.basis is not None
    assert "§ 18" in str(FORMS["meldebescheinigung"].automatic.basis)


@pytest.mark.parametrize("service_id", sorted(FIVE))
def test_fees_point_at_catalog_fees_and_none_is_invented(service_id: str) -> None:
    fees = CATALOG[service_id].fees
    for rule in FORMS[service_id].fee:
        assert rule.catalog_fee < len(fees), (service_id, rule.catalog_fee)
    if not fees:
        assert FORMS[service_id].fee == []


def _paths(expression: Any) -> Iterator[str]:
    if isinstance(expression, dict):
        for op, args in expression.items():
            if op == "var":
                yield args[0] if isinstance(args, list) else args
            else:
                yield from _paths(args)
    elif isinstance(expression, list):
        for item in expression:
            yield from _paths(item)


@pytest.mark.parametrize("service_id", sorted(FIVE))
def test_rules_read_only_facts_and_fields_that_exist(service_id: str) -> None:
    form = FORMS[service_id]
    assert set(form.lookups) <= set(LOOKUPS)
    records = lookup_facts(REGISTERS, form.lookups, {}, {}, TODAY)
    fields = set(form.fields)
    for rule in form.rules:
        for path in _paths(rule.check):
            root, _, rest = path.partition(".")
            if root == "records":
                lookup, _, fact = rest.partition(".")
                assert lookup in form.lookups and fact in records[lookup], (rule.name, path)
            elif root == "data":
                assert rest in fields and rest not in APPLICANT_FIELDS, (rule.name, path)
            else:
                assert root == "applicant" and rest in APPLICANT_FIELDS, (rule.name, path)
    for field in form.fields.values():
        for expression in (field.show_if, field.required_if):
            assert set(_paths(expression)) <= fields, (field.name, expression)


def test_choices_offer_exactly_the_registers_zones_and_election() -> None:
    zone = FORMS["bewohnerparkausweis"].fields["zone"]
    assert {c.value for c in zone.choices} == {z.id for z in REGISTERS.zones}
    for choice in zone.choices:
        registered = next(z for z in REGISTERS.zones if z.id == choice.value)
        assert choice.label == registered.name
    election = FORMS["briefwahl"].fields["election"]
    assert REGISTERS.election is not None
    assert [c.value for c in election.choices] == [REGISTERS.election.id]


# --- deciding realistic cases ---------------------------------------------------------------------


def decide(
    service_id: str,
    answers: dict[str, Any],
    *,
    uploads: list[str] | None = None,
    today: dt.date = TODAY,
) -> tuple[logic.Decision, dict[str, str]]:
    """Check the answers as the form does, look up the registers and decide."""
    form: FormSpec = FORMS[service_id]
    checked, errors = logic.check_all(form, answers, today=today)
    assert not errors, errors
    applicant = {k: v for k, v in checked.items() if k in APPLICANT_FIELDS}
    data = {k: v for k, v in checked.items() if k not in APPLICANT_FIELDS}
    values = logic.flat_values(form, checked)
    needed = logic.required_uploads(form, values) if uploads is None else uploads
    records = lookup_facts(REGISTERS, form.lookups, applicant, data, today)
    context = logic.rule_context(
        applicant=applicant, data=data, records=records, uploads=needed, today=today
    )
    decision = logic.decide(form, context)
    return decision, {f["rule"]: f["outcome"] for f in decision.findings}


def failed(outcomes: dict[str, str]) -> dict[str, str]:
    return {rule: outcome for rule, outcome in outcomes.items() if outcome != "pass"}


MELDE = {"kind": "simple", "own_data": True}


def test_erika_gets_her_certificate_of_registration_at_once() -> None:
    decision, outcomes = decide("meldebescheinigung", {**ERIKA, **MELDE})
    assert decision.status == "approved" and failed(outcomes) == {}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"kind": "extended"}, {"simple_certificate": "review"}),
        ({"house_number": "12"}, {"address_matches": "review"}),
        ({"street": "Lister Meile", "house_number": "10 ", "postcode": "30161"}, {}),
        (
            {"family_name": "Musterfrau"},
            {
                "resident_found": "review",
                "name_as_registered": "review",
                "address_matches": "review",
            },
        ),
        ({"given_name": "Leon", "birth_date": "2012-05-20"}, {"adult": "review"}),
    ],
)
def test_certificate_cases_a_clerk_must_see(
    changes: dict[str, str], expected: dict[str, str]
) -> None:
    decision, outcomes = decide("meldebescheinigung", {**ERIKA, **MELDE, **changes})
    assert failed(outcomes) == expected
    assert decision.status == ("approved" if not expected else "in_review")
    assert decision.proposal == "approved"


BRIEFWAHL = {"election": "testwahl-2027", "delivery": "home", "own_application": True}
LENA = {**ERIKA, "given_name": "Lena", "family_name": "Wagner", "birth_date": "1990-04-30",
        "street": "Podbielskistraße", "house_number": "150", "postcode": "30163"}  # fmt: skip
AYSE = {**ERIKA, "given_name": "Ayşe", "family_name": "Yılmaz", "birth_date": "1988-11-02",
        "street": "Limmerstraße", "house_number": "45", "postcode": "30451"}  # fmt: skip
KATARZYNA = {**ERIKA, "given_name": "Katarzyna", "family_name": "Wiśniewska",
             "birth_date": "1995-06-18", "street": "Engelbosteler Damm", "house_number": "33",
             "postcode": "30167"}  # fmt: skip


def test_erika_gets_her_postal_vote_at_once_but_another_address_is_checked() -> None:
    decision, _ = decide("briefwahl", {**ERIKA, **BRIEFWAHL})
    assert decision.status == "approved"
    away = {"delivery": "other", "delivery_street": "Strandweg 3", "delivery_postcode": "18119",
            "delivery_city": "Rostock"}  # fmt: skip
    decision, outcomes = decide("briefwahl", {**ERIKA, **BRIEFWAHL, **away})
    assert (decision.status, decision.proposal) == ("in_review", "approved")
    assert failed(outcomes) == {"sent_home": "review"}


def test_a_second_polling_card_and_a_non_voter_are_only_proposed_for_rejection() -> None:
    decision, outcomes = decide("briefwahl", {**LENA, **BRIEFWAHL})
    assert failed(outcomes) == {"not_issued_yet": "reject"}
    assert (decision.status, decision.proposal) == ("in_review", "rejected")
    decision, outcomes = decide("briefwahl", {**AYSE, **BRIEFWAHL})
    assert failed(outcomes) == {"on_roll": "review", "eligible": "reject"}
    assert (decision.status, decision.proposal) == ("in_review", "rejected")


def test_not_on_the_roll_or_too_late_goes_to_review() -> None:
    decision, outcomes = decide("briefwahl", {**KATARZYNA, **BRIEFWAHL})
    assert failed(outcomes) == {"on_roll": "review"}
    assert (decision.status, decision.proposal) == ("in_review", "approved")
    late = dt.date(2027, 9, 25)
    decision, outcomes = decide("briefwahl", {**ERIKA, **BRIEFWAHL}, today=late)
    assert failed(outcomes) == {"in_time": "review"}


PARKING = {"zone": "BPZ-L1", "plate": "H-EM 1964", "keeper": "self"}


def test_a_parking_permit_is_always_prepared_for_staff() -> None:
    decision, outcomes = decide("bewohnerparkausweis", {**ERIKA, **PARKING})
    assert failed(outcomes) == {}
    assert (decision.status, decision.proposal) == ("in_review", "approved")


def test_parking_permit_cases() -> None:
    kemal = {**ERIKA, "given_name": "Kemal", "family_name": "Demir", "birth_date": "1975-12-01",
             "street": "Davenstedter Str.", "house_number": "88", "postcode": "30453"}  # fmt: skip
    decision, outcomes = decide("bewohnerparkausweis", {**kemal, **PARKING})
    assert failed(outcomes) == {"address_in_zone": "reject", "zone_matches": "review"}
    assert decision.proposal == "rejected"
    jonas = {**ERIKA, "given_name": "Jonas", "family_name": "Schmidt", "birth_date": "2001-07-09",
             "street": "Bödekerstraße", "house_number": "20", "postcode": "30161"}  # fmt: skip
    _, outcomes = decide("bewohnerparkausweis", {**jonas, **PARKING})
    assert failed(outcomes) == {"main_residence": "review"}
    _, outcomes = decide("bewohnerparkausweis", {**ERIKA, **PARKING, "zone": "BPZ-S1"})
    assert failed(outcomes) == {"zone_matches": "review"}


def test_parking_uploads_follow_the_keeper() -> None:
    form = FORMS["bewohnerparkausweis"]
    own = logic.flat_values(form, {**PARKING})
    assert logic.required_uploads(form, own) == ["vehicle_registration"]
    company = logic.flat_values(
        form, {**PARKING, "keeper": "employer", "second_plate": "H-XY 2", "second_keeper": "self"}
    )
    assert logic.required_uploads(form, company) == [
        "vehicle_registration",
        "usage_confirmation",
        "vehicle_registration_2",
    ]


NEW_DOG = {
    "action": "register",
    "dog_name": "Frieda",
    "breed": "Mischling",
    "dog_age_years": "2",
    "acquired_on": "2026-11-20",
    "chip_number": "276098106543210",
    "previous_owner": "Tierheim Hannover",
    "insurer": "Beispiel Versicherung AG",
    "other_dogs": False,
}


def test_registering_a_dog_is_prepared_with_the_catalog_rate() -> None:
    decision, outcomes = decide("hundesteuer", {**ERIKA, **NEW_DOG})
    assert failed(outcomes) == {}
    assert (decision.status, decision.proposal) == ("in_review", "approved")
    form = FORMS["hundesteuer"]
    assert logic.fee_items(form, logic.flat_values(form, NEW_DOG)) == [(0, 1)]
    further = logic.flat_values(form, {**NEW_DOG, "other_dogs": True})
    assert logic.fee_items(form, further) == [(1, 1)]
    dangerous = logic.flat_values(form, {**NEW_DOG, "other_dogs": True, "dangerous": True})
    assert logic.fee_items(form, dangerous) == [(2, 1)]
    gone = logic.flat_values(form, {"action": "deregister", "dog_name": "Bello"})
    assert logic.fee_items(form, gone) == []


def test_dog_cases_a_clerk_must_see() -> None:
    max_ = {**ERIKA, "given_name": "Max", "birth_date": "1962-03-03"}
    _, outcomes = decide("hundesteuer", {**max_, **NEW_DOG})
    assert failed(outcomes) == {"further_dog_as_stated": "review"}  # Bello is on record
    _, outcomes = decide(
        "hundesteuer", {**max_, **NEW_DOG, "dog_name": "bello", "other_dogs": True}
    )
    assert failed(outcomes) == {"not_registered_twice": "review"}
    bye = {
        "action": "deregister",
        "dog_name": "Bello",
        "reason": "died",
        "kept_until": "2026-12-01",
    }
    decision, outcomes = decide("hundesteuer", {**max_, **bye})
    assert failed(outcomes) == {} and decision.status == "in_review"
    _, outcomes = decide("hundesteuer", {**ERIKA, **bye})
    assert failed(outcomes) == {"dog_known": "review"}
    _, outcomes = decide("hundesteuer", {**ERIKA, **NEW_DOG, "dangerous": True})
    assert failed(outcomes) == {"not_dangerous": "review"}


def test_a_given_away_dog_needs_the_new_owner() -> None:
    form = FORMS["hundesteuer"]
    bye = {**ERIKA, "action": "deregister", "dog_name": "Bello", "reason": "given_away",
           "kept_until": "2026-12-01"}  # fmt: skip
    _, errors = logic.check_all(form, bye, today=TODAY)
    assert [e.field for e in errors] == ["new_owner"]


SPERREN = {"objections": ["parties", "armed_forces"], "own_data": True}


def test_transfer_objections_take_effect_at_once() -> None:
    decision, outcomes = decide("uebermittlungssperren", {**ERIKA, **SPERREN})
    assert decision.status == "approved" and failed(outcomes) == {}
    decision, outcomes = decide("uebermittlungssperren", {**ERIKA, **SPERREN, "house_number": "11"})
    assert failed(outcomes) == {"address_matches": "review"} and decision.status == "in_review"
    _, errors = logic.check_all(
        FORMS["uebermittlungssperren"], {**ERIKA, "own_data": True}, today=TODAY
    )
    assert [e.field for e in errors] == ["objections"]


def test_no_rejection_is_ever_decided_without_a_human() -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        ("briefwahl", {**LENA, **BRIEFWAHL}),
        ("briefwahl", {**AYSE, **BRIEFWAHL}),
        ("bewohnerparkausweis", {**AYSE, **PARKING, "zone": "BPZ-LN", "street": "Wunstorfer Str."}),
    ]
    for service_id, answers in cases:
        decision, outcomes = decide(service_id, answers)
        assert "reject" in outcomes.values()
        assert decision.status == "in_review" and decision.proposal == "rejected"
