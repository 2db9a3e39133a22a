"""The public verification page of result documents passes axe-core, found and not found."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from playwright.sync_api import Page
from sqlalchemy.orm import Session

from servicepoint.casework import documents, documents_store
from servicepoint.casework.formspec import forms_of
from servicepoint.casework.models import Application
from servicepoint.config import DATA_ROOT
from servicepoint.core.clock import utcnow
from servicepoint.core.db import make_engine
from tests.casework.case_support import ERIKA
from tests.e2e.support import MODULE_MARKS, AxeResult, LiveServer, format_violations

pytestmark = MODULE_MARKS


def approved_case(database_url: str) -> str:
    """An approved Meldebescheinigung in the live server's database; its verification code."""
    code = documents.new_verification_code()
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            case = Application(
                code="A" + secrets.token_hex(6).upper(),
                service_id="meldebescheinigung",
                status="approved",
                applicant=dict(ERIKA),
                data={"kind": "simple"},
                decided_at=utcnow(),
                verification_code=code,
            )
            form = forms_of(DATA_ROOT / "hannover")["meldebescheinigung"]
            case.statement = documents_store.statement(session, case=case, form=form)
            session.add(case)
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
