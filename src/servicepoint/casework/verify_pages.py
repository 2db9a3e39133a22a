"""The public verification page of result documents: /nachweis/{code}, where the QR code leads.

It shows only what the document states, so whoever holds the paper can compare it line by
line; it never shows the case, its findings or anything the document does not print.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from servicepoint.casework import documents, documents_store
from servicepoint.core.db import SessionDep
from servicepoint.core.inputs import Code
from servicepoint.core.security import mark_private
from servicepoint.core.templating import render

router = APIRouter(include_in_schema=False)


# The page shows the holder's name and address: no browser or proxy keeps it.
@router.get(
    "/nachweis/{verification_code}",
    response_class=HTMLResponse,
    dependencies=[Depends(mark_private)],
)
def verification(
    verification_code: Code, request: Request, session: Session = SessionDep
) -> HTMLResponse:
    """Whether a result document is genuine, and what it states."""
    doc = documents_store.document_by_verification(
        session, code=verification_code, lang=request.state.lang
    )
    if doc is None:
        return render(request, "casework/verify_unknown.html", status_code=404)
    code = documents.grouped(doc.verification_code)
    return render(request, "casework/verify.html", {"doc": doc, "code": code})
