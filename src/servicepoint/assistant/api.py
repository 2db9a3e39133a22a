"""JSON routes of the assistant (contract: ../shared/API.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from servicepoint.assistant import actions
from servicepoint.assistant.schemas import AskRequest, AskResponse, FeedbackRequest
from servicepoint.core.db import SessionDep

router = APIRouter(prefix="/api/assistant", tags=["assistant"])


@router.post("/ask", response_model=AskResponse)
def ask(body: AskRequest, request: Request, session: Session = SessionDep) -> AskResponse:
    """Answer a citizen's question from the catalog; follow-ups send the conversation_id."""
    return actions.ask(session, request, body)


@router.post("/feedback", status_code=204)
def feedback(body: FeedbackRequest, session: Session = SessionDep) -> Response:
    """Thumbs up or down on a reply; unhelpful ones reach the editors."""
    actions.feedback(session, body)
    return Response(status_code=204)
