"""The semantic assistant bench's material: the labelled sets, the seen / unseen strata, the
content judge for dialogue replies and the two threshold baselines (BM25, embedding alone).

Nothing here is tuned on held-out questions: the baselines' thresholds come from the dev
split of devset.yaml only, and the strata and the judge read only the catalog.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rapidfuzz import fuzz, process, utils
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.common import ROOT, console
from servicepoint.assistant import compose
from servicepoint.assistant.evaluation import Dialogue, Item, Outcome, load
from servicepoint.assistant.evaluation import correct as routed
from servicepoint.catalog import locations as location_service
from servicepoint.catalog import present
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.models import Service, ServiceTerm
from servicepoint.catalog.search import fold

# The tables have many columns: a file or a pipe gets 140 columns, not Rich's default 80.
out = console if console.is_terminal else Console(width=140)
TESTS = ROOT / "tests" / "assistant"
SET_FILES = {
    "devset": TESTS / "devset.yaml",
    "unseen": TESTS / "blind" / "unseen.yaml",
    "multilingual": TESTS / "blind" / "multilingual.yaml",
    "dialogues": TESTS / "blind" / "dialogues.yaml",
}
# A question is "seen" when it is this close to some stored keyword or example of any service:
# rapidfuzz token_set_ratio on folded text (lower case, umlauts spelled out, punctuation gone).
# token_set_ratio gives 100 as soon as all words of a stored phrase occur in the question, so
# the unseen stratum holds only questions that contain no stored phrase whole.
SEEN_FROM = 85.0
SCORER = "rapidfuzz fuzz.token_set_ratio on folded text"
DOC_START = 30  # characters of the first document's text a documents reply must contain


# -- the sets ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelledSet:
    name: str
    path: Path
    items: list[Item]
    dialogues: list[Dialogue]
    foreign: frozenset[str]  # questions marked foreign_document: true


def _foreign(path: Path) -> frozenset[str]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    raw = list(data.get("questions") or [])
    raw += [t for d in data.get("dialogues") or [] for t in d.get("turns", [])]
    return frozenset(str(q["q"]) for q in raw if q.get("foreign_document"))


def load_sets() -> tuple[dict[str, LabelledSet], list[Path]]:
    """The sets that exist, and the paths of those that do not (yet)."""
    found: dict[str, LabelledSet] = {}
    missing: list[Path] = []
    for name, path in SET_FILES.items():
        if not path.exists():
            missing.append(path)
            continue
        items, dialogues = load(path)
        found[name] = LabelledSet(name, path, items, dialogues, _foreign(path))
    return found, missing


# -- strata -----------------------------------------------------------------------------------
def _folded(text: str) -> str:
    return str(utils.default_process(fold(text)))


class Strata:
    """Seen / unseen per question, against every keyword and example in the catalog."""

    def __init__(self, session: Session) -> None:
        stmt = select(ServiceTerm.text).where(ServiceTerm.kind.in_(("keyword", "example")))
        self.terms = sorted({_folded(t) for t in session.scalars(stmt)})
        self._known: dict[str, float] = {}

    def add(self, texts: Sequence[str]) -> None:
        """Score many questions at once (one matrix on all cores)."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._known]
        if not todo or not self.terms:
            return
        scores = process.cdist(
            [_folded(t) for t in todo], self.terms, scorer=fuzz.token_set_ratio, workers=-1
        )
        for text, best in zip(todo, np.max(scores, axis=1), strict=True):
            self._known[text] = float(best)

    def of(self, text: str) -> str:
        if text not in self._known:
            self.add([text])
        return "seen" if self._known.get(text, 0.0) >= SEEN_FROM else "unseen"


# -- judging a reply's content ----------------------------------------------------------------
@dataclass(frozen=True)
class Facts:
    """What a reply about one service must contain for an aspect (either language)."""

    fees: tuple[str, ...]  # amounts as compose formats them, or its "no fee data" sentence
    documents: tuple[str, ...]  # start of the first document, or the "no list" sentence
    streets: tuple[str, ...]  # streets of the locations offering it, or the honest unknown


def _unknown_where(lang: str) -> str:
    """compose's honest 'no confirmed addresses' sentence (up to its link to the list)."""
    places_text = getattr(compose, "places_text", None)
    if not callable(places_text):
        return ""
    text = str(places_text(compose.Context(lang=lang, service_url="")))
    return text.split(";")[0].split(":")[0].strip()


def _facts(svc: Service, streets: tuple[str, ...]) -> Facts:
    """Streets count for a service booked at the offices; the responsible office's address
    for any. Only where none is known does the honest 'unknown' count instead."""
    fees: list[str] = []
    documents: list[str] = []
    where: list[str] = list(streets) if "appointment" in svc.channels else []
    for lang in ("de", "en"):
        detail = present.service_detail(svc, base="", lang=lang, keywords=())
        if detail.fees:
            fees += [compose._euro(f.amount_cents, lang) for f in detail.fees]
        else:
            fees.append(compose.fees_text(detail, lang))
        if detail.documents:
            documents.append(detail.documents[0].text[:DOC_START])
        else:
            documents.append(compose.documents_text(detail, lang))
        if detail.responsible.address:
            where.append(detail.responsible.address)
    if not where:
        where = [u for u in (_unknown_where("de"), _unknown_where("en")) if u]
    return Facts(tuple(fees), tuple(documents), tuple(dict.fromkeys(where)))


def service_facts(session: Session) -> dict[str, Facts]:
    """Facts per canonical (German) service name."""
    locations = location_service.list_locations(session)
    facts: dict[str, Facts] = {}
    for svc in catalog_service.list_services(session):
        streets = tuple(
            str(loc.street)
            for loc in locations
            if loc.street and (loc.service_ids is None or svc.id in loc.service_ids)
        )
        facts[svc.name_de] = _facts(svc, streets)
    return facts


CONTENT_ASPECTS = ("cost", "documents", "where")
REFUSALS = ("consulate",)  # replies that claim no service of ours, besides evaluation.correct's


def correct(item: Item, got: Outcome) -> bool:
    """evaluation.correct, and for an out-of-scope question also the consulate's reply (another
    country's document: not ours, no service claimed)."""
    if item.expected is None and got.kind in REFUSALS and got.service is None:
        return True
    return routed(item, got)


def content_ok(item: Item, got: Outcome, reply: str, facts: dict[str, Facts]) -> bool:
    """Right service (or honest refusal) and, for cost / documents / where, the reply holds
    the fact asked for. Other aspects are judged on the service alone."""
    if not correct(item, got):
        return False
    if item.expected is None or got.kind != "answer" or got.service not in facts:
        return True
    f = facts[got.service]
    wanted = {"cost": f.fees, "documents": f.documents, "where": f.streets}.get(item.aspect or "")
    if wanted is None:
        return True
    return any(w and w in reply for w in wanted)


# -- baselines --------------------------------------------------------------------------------
class ThresholdBaseline:
    """The best-scoring service, or 'not ours' below one threshold tuned on the dev split."""

    def __init__(self, label: str, names: Sequence[str], score: Callable[[str], np.ndarray]):
        self.label = label
        self.names = list(names)
        self.score = score
        self.threshold = 0.0

    def top(self, text: str) -> tuple[str, float]:
        scores = self.score(text)
        i = int(np.argmax(scores))
        return self.names[i], float(scores[i])

    def answer(self, top: tuple[str, float]) -> Outcome:
        name, score = top
        if score < self.threshold or score <= 0:
            return Outcome("out_of_scope", None)
        return Outcome("answer", name)

    def ask(self, text: str) -> Outcome:
        return self.answer(self.top(text))

    def tune(self, dev: Sequence[Item]) -> None:
        """Maximise (top-1 + rejection) / 2 over the dev items, trying every cut between two
        observed top scores."""
        tops = [self.top(i.q) for i in dev]
        values = sorted({s for _, s in tops})
        cuts = [values[0] - 1e-9] if values else [0.0]
        cuts += [(a + b) / 2 for a, b in itertools.pairwise(values)]
        cuts += [values[-1] + 1e-9] if values else []
        best = (-1.0, 0.0)
        for cut in cuts:
            self.threshold = cut
            hits_in = hits_out = n_in = n_out = 0
            for item, top in zip(dev, tops, strict=True):
                ok = correct(item, self.answer(top))
                if item.expected is None:
                    n_out, hits_out = n_out + 1, hits_out + ok
                else:
                    n_in, hits_in = n_in + 1, hits_in + ok
            value = (hits_in / max(n_in, 1) + hits_out / max(n_out, 1)) / 2
            if value > best[0]:
                best = (value, cut)
        self.threshold = best[1]
