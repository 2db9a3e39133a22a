"""Casework errors: each carries its status code and a German msgid (translated on display)."""

from __future__ import annotations

from collections.abc import Mapping

from servicepoint.errors import Conflict, FieldMessage, NotFound, TooManyRequests, Unprocessable


class FormNotFound(NotFound):
    code = "form_not_found"


class CaseNotFound(NotFound):
    code = "case_not_found"


class CaseClosed(Conflict):
    """The case is decided (or not in the state the action needs)."""

    code = "case_closed"


class InvalidApplication(Unprocessable):
    """Answers that fail the form's checks; `fields` names each field and what is wrong."""

    def __init__(self, message: str, *, fields: Mapping[str, FieldMessage]) -> None:
        super().__init__(message)
        self.fields = fields


class ApplicationRateLimited(TooManyRequests):
    """A client over the hour's limit of drafts, uploads or applications (pages and API)."""

    code = "too_many_applications"
