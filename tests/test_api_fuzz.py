"""Schemathesis over the published OpenAPI, on SQLite and PostgreSQL.

Every generated request (valid or not) must get a documented status with the documented body,
and never a server error. The full CLI run (`--checks all`, two workers, PostgreSQL) is in
README ("Checking the API"); this in-suite run keeps the schema and the answers in step.
"""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import positive_data_acceptance


def _check(operation: APIOperation) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def run(case: Case) -> None:
        # Schema-valid is not always acceptable: an unknown service id, a start off the slot
        # grid or a missing proof of work are refused with a documented 4xx on purpose.
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    run()


def test_every_answer_is_documented_and_no_server_error(app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16
    for operation in operations:
        _check(operation)
