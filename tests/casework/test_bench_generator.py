"""The bench's application generator (bench/application_mix.py): seeded, and its answers are
what each form file asks for, so the bench measures the rules and not broken input."""

from __future__ import annotations

import collections
import datetime as dt

import pytest
from bench.application_mix import Application, generate

from servicepoint.casework import logic, registers
from servicepoint.casework.formspec import load_forms
from servicepoint.config import DATA_ROOT

CITY = DATA_ROOT / "hannover"
TODAY = dt.date(2026, 12, 7)


@pytest.fixture(scope="module")
def batch() -> list[Application]:
    return generate(CITY, today=TODAY)


def test_the_same_seed_gives_the_same_batch_and_another_seed_another(
    batch: list[Application],
) -> None:
    assert generate(CITY, today=TODAY) == batch
    assert generate(CITY, today=TODAY, seed=16) != batch
    assert len(batch) == 1000


def test_every_form_is_in_the_mix_with_clear_cases_and_faults(batch: list[Application]) -> None:
    by_service = collections.Counter(a.service_id for a in batch)
    assert set(by_service) == set(load_forms(CITY))
    clear = sum(a.clear for a in batch)
    assert 0.6 * len(batch) < clear < 0.95 * len(batch)
    assert {a.fault for a in batch} >= {"address_typo", "unknown_person", "minor", "incomplete"}


def test_answers_pass_each_forms_field_checks_except_the_planted_incomplete_ones(
    batch: list[Application],
) -> None:
    forms = load_forms(CITY)
    for app in batch:
        _, errors = logic.check_all(
            forms[app.service_id], {**app.applicant, **app.data}, today=TODAY
        )
        if app.fault == "incomplete":
            assert errors, app
            assert app.expected == "invalid"
        else:
            assert errors == [], (app, errors)


def test_a_clear_applicant_is_in_the_register_at_the_address_given(
    batch: list[Application],
) -> None:
    regs = registers.load_registers(CITY)
    for app in batch:
        person, address_matches = registers.find_resident(regs, app.applicant)
        if app.clear:
            assert person is not None and address_matches, app
            assert app.expected == "approved"
        elif app.fault == "unknown_person":
            assert person is None, app
        elif app.fault == "address_typo":
            assert person is not None and not address_matches, app
