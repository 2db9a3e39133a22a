"""JSON routes for online applications (contract: ../shared/API.md "Online applications")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Request, Response
from sqlalchemy.orm import Session

from servicepoint.appointment import proof
from servicepoint.casework import service
from servicepoint.casework.context import (
    check_application_rate,
    request_lang,
)
from servicepoint.casework.schemas import ApplicationCreate, ApplicationRead
from servicepoint.core.db import SessionDep, request_transaction
from servicepoint.core.inputs import Code
from servicepoint.core.security import mark_private

router = APIRouter(prefix="/api", tags=["applications"])
# Name, address and findings: no browser or proxy keeps them (shared PCs at the counter).
PRIVATE = [Depends(mark_private)]

_PDF: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The signed result document (PDF/A).",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _view(request: Request, case: Any) -> dict[str, Any]:
    base = request.app.state.settings.base_url
    return service.public_status(case, lang=request_lang(request), base_url=base)


@router.post(
    "/applications",
    response_model=ApplicationRead,
    status_code=201,
    dependencies=PRIVATE,
    responses={422: {"description": "Invalid input; `fields` names each field and what is wrong."}},
)
def create_application(
    body: ApplicationCreate,
    request: Request,
    x_challenge: str | None = Header(default=None, max_length=200),
    x_challenge_nonce: str | None = Header(default=None, max_length=20),
) -> dict[str, Any]:
    """Apply online (with a solved /api/challenge): checked, decided or prepared at once."""
    check_application_rate(request, "apply")
    with request_transaction(request) as session:
        proof.require(request, session, x_challenge, x_challenge_nonce)
        case = service.apply_via_api(
            session,
            settings=request.app.state.settings,
            service_id=body.service_id,
            applicant=body.applicant.model_dump(exclude_none=True),
            data=body.data,
            lang=request_lang(request),
        )
        return _view(request, case)


@router.get("/applications/{code}", response_model=ApplicationRead, dependencies=PRIVATE)
def read_application(code: Code, request: Request, session: Session = SessionDep) -> dict[str, Any]:
    """The current status of an application, with its findings in plain words."""
    return _view(request, service.submitted_case(session, code=code))


@router.get(
    "/applications/{code}/document", response_class=Response, responses=_PDF, dependencies=PRIVATE
)
def application_document(code: Code, request: Request, session: Session = SessionDep) -> Response:
    """The signed result document of an approved application."""
    filename, pdf = service.document_of(session, settings=request.app.state.settings, code=code)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(pdf, media_type="application/pdf", headers=headers)
