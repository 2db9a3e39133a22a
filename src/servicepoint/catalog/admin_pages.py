"""Admin pages for services: the list, a new service and editing one (name, texts, ways,
responsible authority). The catalog's data-file model judges every entry; the assistant finds a
saved service at once (its search index and passages follow the catalog's fingerprint)."""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicepoint.account import service as account_service
from servicepoint.account.deps import require
from servicepoint.account.models import User
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog import service_form
from servicepoint.catalog.datafile import CHANNELS, ServiceFile
from servicepoint.catalog.errors import ServiceNotFound
from servicepoint.catalog.models import Service
from servicepoint.catalog.service_form import FormErrors, ServiceForm
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_
from servicepoint.core.inputs import Key
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render

router = APIRouter(include_in_schema=False)
# The catalog speaks for the city to every citizen: as with locations, only admins change it
# (the account model has no separate editor role).
EDIT_ROLE = "admin"
BASE = "/verwaltung/leistungen"


@router.get(BASE, response_class=HTMLResponse)
def service_admin_list(
    request: Request, user: User = Depends(require(EDIT_ROLE)), session: Session = SessionDep
) -> HTMLResponse:
    """Admin list of services with links to edit them and to add one."""
    services = catalog_service.list_services(session)
    return render(request, "catalog/admin_services.html", {"services": services})


def _form_page(
    request: Request,
    values: Mapping[str, Any],
    *,
    svc: Service | None,
    errors: FormErrors | None = None,
) -> HTMLResponse:
    context = {
        "svc": svc,
        "form": values,
        "action": f"{BASE}/{svc.id}" if svc else f"{BASE}/neu",
        "channels": [(c, service_form.CHANNEL_LABELS[c]) for c in CHANNELS],
        "field_errors": errors.by_field if errors else {},
        # the shared error summary (casework/form_macros.html) reads `summary.items`
        "summary": SimpleNamespace(items=errors.summary()) if errors and errors.by_field else None,
    }
    status = 400 if errors and errors.by_field else 200
    return render(request, "catalog/admin_service.html", context, status_code=status)


@router.get(f"{BASE}/neu", response_class=HTMLResponse)
def new_service_form(request: Request, user: User = Depends(require(EDIT_ROLE))) -> HTMLResponse:
    """Empty form for a new service."""
    return _form_page(request, {"channels": []}, svc=None)


@router.get(BASE + "/{service_id}", response_class=HTMLResponse)
def edit_service_form(
    service_id: Key,
    request: Request,
    user: User = Depends(require(EDIT_ROLE)),
    session: Session = SessionDep,
) -> HTMLResponse:
    """Form with a service's current texts, ways and authority."""
    svc = catalog_service.get_service(session, service_id=service_id)
    return _form_page(request, service_form.form_values(svc.data), svc=svc)


ID_TAKEN = N_("Diese Kennung ist schon vergeben.")
SLUG_TAKEN = N_("Diese Adresse hat schon eine andere Leistung.")
# Old links (bookmarks, search engines, the assistant's earlier replies) lead to the old address.
SLUG_FIXED = N_(
    "Die Adresse einer bestehenden Leistung lässt sich nicht ändern, "
    "damit Links auf die Seite gültig bleiben."
)


def _checked(
    session: Session, form: ServiceForm, svc: Service | None, errors: FormErrors
) -> ServiceFile | None:
    """The record the form makes, or None with every problem in `errors`."""
    try:
        record = service_form.validate(form, svc.data if svc else None)
    except ValidationError as exc:
        errors.add_validation(exc)
        return None
    for name, msgid in _taken(session, record, svc).items():
        errors.add_msgid(name, msgid)
    return None if errors.by_field else record


def _taken(session: Session, record: ServiceFile, svc: Service | None) -> dict[str, str]:
    """Per form field: the id or slug another service has, or a changed slug."""
    problems = {}
    if svc is None and (record.id in service_form.RESERVED_IDS or _exists(session, record.id)):
        problems["id"] = ID_TAKEN
    if svc is not None and record.slug != svc.slug:
        problems["slug"] = SLUG_FIXED
    elif _slug_taken(session, record):
        problems["slug"] = SLUG_TAKEN
    return problems


def _exists(session: Session, service_id: str) -> bool:
    return session.get(Service, service_id) is not None


def _slug_taken(session: Session, record: ServiceFile) -> bool:
    try:
        other = catalog_service.get_service_by_slug(session, slug=record.slug)
    except ServiceNotFound:
        return False
    return other.id != record.id


class _SavedMeanwhile(Exception):
    """Another admin saved a service with this id since the form was checked."""


def _store(
    session: Session, record: ServiceFile, svc: Service | None, errors: FormErrors
) -> tuple[Service, bool] | None:
    """Save the record: a service made on the form stays "form", an edited data-file service
    stays "file". Two admins saving the same id or slug at once both pass `_taken`; the second
    one's save is undone and shown per field like any taken id or slug, never as a 500."""
    try:
        with session.begin_nested():
            if svc is None and _exists(session, record.id):
                raise _SavedMeanwhile  # never overwrite the other admin's new service
            source = svc.source if svc else "form"
            result = catalog_service.upsert_service(session, record=record, source=source)
            session.flush()
    except (IntegrityError, _SavedMeanwhile):
        session.expire_all()  # nothing of the refused save may reach the commit
        fallback = {"id": ID_TAKEN} if svc is None else {"slug": SLUG_TAKEN}
        for name, msgid in (_taken(session, record, svc) or fallback).items():
            errors.add_msgid(name, msgid)
        return None
    return result


async def _save(
    request: Request, session: Session, user: User, svc: Service | None
) -> HTMLResponse | RedirectResponse:
    raw = await request.form()
    errors = FormErrors(request.state.lang)
    try:
        form = ServiceForm.parse(raw)
    except ValidationError as exc:
        errors.add_validation(exc)
        values: dict[str, Any] = {k: str(raw.get(k) or "") for k in service_form.TEXT_FIELDS}
        values["channels"] = [str(v) for v in raw.getlist("channels")]
        return _form_page(request, values, svc=svc, errors=errors)
    record = _checked(session, form, svc, errors)
    stored = None if record is None else _store(session, record, svc, errors)
    if stored is None:
        values = form.model_dump()
        if svc is not None:
            values["slug"] = svc.slug  # the address stays; the message says why
        return _form_page(request, values, svc=svc, errors=errors)
    saved, created = stored
    account_service.audit(
        session,
        username=user.username,
        action="service.create" if created else "service.update",
        target=saved.id,
        detail={"slug": saved.slug},
    )
    return RedirectResponse(f"/leistungen/{saved.slug}?gespeichert=1", status_code=303)


@router.post(f"{BASE}/neu", response_model=None, dependencies=[Depends(csrf_protect)])
async def create_service(
    request: Request, user: User = Depends(require(EDIT_ROLE)), session: Session = SessionDep
) -> HTMLResponse | RedirectResponse:
    """Add a service; invalid values are shown per field, nothing is saved."""
    return await _save(request, session, user, None)


@router.post(BASE + "/{service_id}", response_model=None, dependencies=[Depends(csrf_protect)])
async def update_service(
    service_id: Key,
    request: Request,
    user: User = Depends(require(EDIT_ROLE)),
    session: Session = SessionDep,
) -> HTMLResponse | RedirectResponse:
    """Save a service's changed texts, ways and authority; other facts stay as they are."""
    svc = catalog_service.get_service(session, service_id=service_id)
    return await _save(request, session, user, svc)
