"""The public verification page of result documents passes axe-core, found and not found."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from playwright.sync_api import Page
from sqlalchemy.orm import Session

from servicepoint.casework import documents
from servicepoint.casework.models import Application
from servicepoint.core.clock import utcnow
from servicepoint.core.db import make_engine
from tests.e2e.support import MODULE_MARKS, AxeResult, LiveServer, format_violations

pytestmark = MODULE_MARKS


def approved_case(database_url: str) -> str:
    """An approved Meldebescheinigung in the live server's database; its verification code."""
    code = documents.new_verification_code()
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            session.add(
                Application(
                    code="A" + secrets.token_hex(6).upper(),
                    service_id="meldebescheinigung",
                    status="approved",
                    applicant={
                        "given_name": "Erika",
                        "family_name": "Mustermann",
                        "birth_date": "1964-08-12",
                        "street": "Lister Meile",
                        "house_number": "10",
                        "postcode": "30161",
                        "city": "Hannover",
                    },
                    data={"kind": "simple"},
                    decided_at=utcnow(),
                    verification_code=code,
                    document=b"%PDF-1.7 stand-in",
                )
            )
            session.commit()
    finally:
        engine.dispose()
    return code


@pytest.mark.parametrize("lang", ["de", "en"])
def test_axe_finds_no_violations_on_the_verification_page(
    axe_page: Page, axe: Callable[[Page], list[AxeResult]], live_server: LiveServer, lang: str
) -> None:
    code = approved_case(live_server.database_url)
    failures = []
    for path, status in ((f"/nachweis/{code}", 200), ("/nachweis/UNBEKANNT", 404)):
        response = axe_page.goto(f"{path}?lang={lang}")
        assert response is not None and response.status == status, path
        violations = axe(axe_page)
        if violations:
            failures.append(f"{path} ({lang}):\n{format_violations(violations)}")
    assert not failures, "axe-core violations:\n" + "\n".join(failures)
