"""Shared by the casework workflow tests: Erika's answers, a case in each state, a city folder
with a changed form file. Real service functions throughout, no stand-ins."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.appointment.models import OutboxMail
from servicepoint.casework import service
from servicepoint.casework.models import Application
from servicepoint.config import DATA_ROOT, Settings

# The synthetic resident register's Erika Mustermann (data/hannover/registers/residents.csv).
ERIKA: dict[str, Any] = {
    "given_name": "Erika",
    "family_name": "Mustermann",
    "birth_date": "1964-08-12",
    "email": "erika@example.org",
    "street": "Lister Meile",
    "house_number": "10",
    "postcode": "30161",
    "city": "Hannover",
}
ELSEWHERE = {**ERIKA, "street": "Am Nirgendwo", "house_number": "99"}
CERTIFICATE = {"kind": "simple", "own_data": True}
DOG = {
    "action": "register",
    "dog_name": "Rex",
    "breed": "Pudel",
    "dog_age_years": 3,
    "acquired_on": "2026-11-01",
    "chip_number": "276098106543210",
    "previous_owner": "Tierheim Hannover",
    "insurer": "Beispiel Versicherung",
    "other_dogs": False,
    "dangerous": False,
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def local_settings(settings: Settings, state_dir: Path) -> Settings:
    """The test database's settings with the instance folder (uploads, signing key) in tmp."""
    return settings.model_copy(update={"state_dir": state_dir})


def apply(
    session: Session,
    settings: Settings,
    *,
    service_id: str = "meldebescheinigung",
    applicant: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    lang: str = "de",
) -> Application:
    return service.apply_via_api(
        session,
        settings=settings,
        service_id=service_id,
        applicant=ERIKA if applicant is None else applicant,
        data=CERTIFICATE if data is None else data,
        lang=lang,
    )


def in_review(session: Session, settings: Settings) -> Application:
    """Erika at an address the register does not know: prepared for staff (approve)."""
    return apply(session, settings, applicant=ELSEWHERE)


def reject(
    session: Session, settings: Settings, case: Application, reason: str | None
) -> Application:
    """A clerk rejects the case with this reason (the real staff decision)."""
    return service.decide_by_staff(
        session, settings=settings, case=case, username="clerk", outcome="rejected", reason=reason
    )


def mails_to(session: Session, recipient: str) -> list[OutboxMail]:
    stmt = select(OutboxMail).where(OutboxMail.recipient == recipient).order_by(OutboxMail.id)
    return list(session.scalars(stmt))


def city_with_form(tmp: Path, service_id: str, **changes: Any) -> Path:
    """A copy of Hannover's folder parts the casework reads (forms, registers), with one form
    file changed: how a city edits its rules between two applications."""
    city = tmp / "city"
    (city / "forms").mkdir(parents=True, exist_ok=True)
    if not (city / "registers").exists():
        shutil.copytree(DATA_ROOT / "hannover" / "registers", city / "registers")
    source = DATA_ROOT / "hannover" / "forms" / f"{service_id}.yaml"
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    raw.update(changes)
    (city / "forms" / f"{service_id}.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    return city
