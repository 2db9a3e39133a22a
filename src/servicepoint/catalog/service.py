"""Catalog business rules: seeding, reading and searching services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from servicepoint.catalog.datafile import ServiceFile
from servicepoint.catalog.errors import ServiceNotFound
from servicepoint.catalog.models import Service, ServiceTerm
from servicepoint.catalog.search import Hit, SearchDoc, SearchIndex, build_index
from servicepoint.core.i18n import N_

_INDEXES: dict[tuple[tuple[Any, ...], tuple[str, ...], tuple[str, ...]], SearchIndex] = {}


def _seed_terms(svc: Service, record: ServiceFile) -> None:
    """Replace the data file's terms; terms that editors added stay."""
    wanted = {
        (lang, kind, text)
        for kind, by_lang in (
            ("keyword", record.keywords),
            ("example", record.examples),
            ("shared", record.shared_words),
        )
        for lang, texts in by_lang.items()
        for text in texts
    }
    kept = []
    for term in svc.terms:
        key = (term.lang, term.kind, term.text)
        if term.origin == "seed" and key not in wanted:
            continue
        wanted.discard(key)
        kept.append(term)
    kept += [
        ServiceTerm(lang=lang, kind=kind, text=text, origin="seed")
        for lang, kind, text in sorted(wanted)
    ]
    svc.terms = kept


def upsert_service(
    session: Session, *, record: ServiceFile, source: str = "file"
) -> tuple[Service, bool]:
    """Insert or update one service from its data file ("file") or the admin form ("form");
    returns (service, created)."""
    svc = session.get(Service, record.id, options=[selectinload(Service.terms)])
    created = svc is None
    if svc is None:
        svc = Service(id=record.id)
        session.add(svc)
    svc.source = source
    svc.slug = record.slug
    svc.leika = record.leika
    svc.name_de = record.name.de
    svc.name_en = record.name.en
    svc.channels = list(record.channels)
    svc.online_url = record.online_url
    svc.data = record.model_dump(mode="json")
    _seed_terms(svc, record)
    return svc, created


def remove_services_not_in(session: Session, *, keep_ids: set[str]) -> int:
    """Remove the data-file services whose file is gone (a service made on the admin form has
    no file and stays); flushed at once, so their ids and slugs are free for the next writes."""
    stale = session.scalars(
        select(Service).where(Service.source == "file", Service.id.not_in(keep_ids))
    ).all()
    for svc in stale:
        session.delete(svc)
    session.flush()
    return len(stale)


def list_services(session: Session) -> Sequence[Service]:
    return session.scalars(select(Service).order_by(Service.name_de)).all()


def get_service(session: Session, *, service_id: str) -> Service:
    # A NUL can never be an id, and PostgreSQL rejects it in a query: answer "not found".
    svc = None if "\x00" in service_id else session.get(Service, service_id)
    if svc is None:
        raise ServiceNotFound(N_("Diese Leistung gibt es nicht."))
    return svc


def get_service_by_slug(session: Session, *, slug: str) -> Service:
    svc = None if "\x00" in slug else session.scalar(select(Service).where(Service.slug == slug))
    if svc is None:
        raise ServiceNotFound(N_("Diese Leistung gibt es nicht."))
    return svc


def services_by_ids(session: Session, *, ids: Sequence[str]) -> dict[str, Service]:
    rows = session.scalars(select(Service).where(Service.id.in_(ids))).all()
    return {svc.id: svc for svc in rows}


def add_term(session: Session, *, service_id: str, lang: str, kind: str, text: str) -> ServiceTerm:
    """An editor teaches the catalog a new citizen word or example question."""
    svc = get_service(session, service_id=service_id)
    text = " ".join(text.split())[:500]
    existing = session.scalar(
        select(ServiceTerm).where(
            ServiceTerm.service_id == svc.id,
            ServiceTerm.lang == lang,
            ServiceTerm.kind == kind,
            ServiceTerm.text == text,
        )
    )
    if existing:
        return existing
    term = ServiceTerm(service_id=svc.id, lang=lang, kind=kind, text=text, origin="editor")
    session.add(term)
    session.flush()
    return term


def _doc(svc: Service, terms: Sequence[ServiceTerm]) -> SearchDoc:
    return SearchDoc(
        id=svc.id,
        names=(svc.name_de, svc.name_en),
        keywords=[t.text for t in terms if t.kind == "keyword"],
        examples=[t.text for t in terms if t.kind == "example"],
        shared=[t.text for t in terms if t.kind == "shared"],
        summaries=(svc.data["summary"]["de"], svc.data["summary"]["en"]),
        urgent_for=tuple(svc.data.get("urgent_for", ())),
    )


def fingerprint(session: Session) -> tuple[Any, ...]:
    """What changes when the catalog does, in one query (every question asks it). Each part
    is its own subquery, so the database answers it from an index instead of a scan."""
    newest_term = select(ServiceTerm.created_at).order_by(ServiceTerm.id.desc()).limit(1)
    parts = (
        select(func.count()).select_from(Service),
        select(func.max(Service.updated_at)),
        select(func.count()).select_from(ServiceTerm),
        select(func.max(ServiceTerm.id)),
        # the newest term's time too: after a rollback, SQLite hands its id to another term
        newest_term,
    )
    stats = select(*(part.scalar_subquery() for part in parts))
    return (str(session.get_bind().engine.url), *session.execute(stats).one())


def search_index(
    session: Session, places: Sequence[str] = (), elsewhere: Sequence[str] = ()
) -> SearchIndex:
    """The search index for the current catalog; rebuilt only when services or terms changed.
    Words of `places` (the city's place names) are no evidence for any service; `elsewhere`
    names matters of other authorities (the assistant's, see core.city.elsewhere_words)."""
    catalog = fingerprint(session)
    key = (catalog, tuple(places), tuple(elsewhere))
    index = _INDEXES.get(key)
    if index is None:
        services = session.scalars(select(Service).options(selectinload(Service.terms))).all()
        index = build_index((_doc(svc, svc.terms) for svc in services), places, elsewhere)
        # Drop indexes of an older catalog; the site search (no places) and the assistant
        # (with places) each keep theirs.
        for stale in [k for k in _INDEXES if k[0] != catalog]:
            del _INDEXES[stale]
        _INDEXES[key] = index
    return index


def search_services(session: Session, *, query: str, limit: int = 10) -> list[tuple[Service, Hit]]:
    hits = search_index(session).search(query, limit=limit)
    found = services_by_ids(session, ids=[h.id for h in hits])
    return [(found[h.id], h) for h in hits if h.id in found]
