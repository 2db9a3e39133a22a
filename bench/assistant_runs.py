"""The semantic assistant bench's runs: the systems asked item by item, the topic-switch
dialogues judged on content, and the cold start (each service without its keywords and
examples)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from bench.assistant import ELSEWHERE, NOW, PLACES
from bench.assistant_sets import (
    CONTENT_ASPECTS,
    LabelledSet,
    Strata,
    ThresholdBaseline,
    content_ok,
    correct,
    out,
    service_facts,
)
from servicepoint.assistant import embedding, retrieval
from servicepoint.assistant import service as assistant_service
from servicepoint.assistant.evaluation import Item, Outcome
from servicepoint.assistant.passages import service_passages
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.models import Service
from servicepoint.config import DATA_ROOT
from servicepoint.core.city import city_facts, elsewhere_topics

SINGLE_SETS = ("devset", "unseen", "multilingual")
COLD_TARGET = 0.85
CITY = DATA_ROOT / "hannover"


@dataclass(frozen=True)
class Result:
    system: str
    set: str
    item: Item
    stratum: str
    ok: bool
    seconds: float


def cell(results: Sequence[Result]) -> str:
    if not results:
        return "–"
    return f"{sum(r.ok for r in results) / len(results):.3f} ({len(results)})"


def rate(results: Sequence[Result]) -> float:
    return sum(r.ok for r in results) / len(results) if results else math.nan


# -- the systems ------------------------------------------------------------------------------
class Assistant:
    """assistant_service.ask called as the API calls it (actions.ask: the city's facts and
    the process's embedder, so the learned ranker decides), keeping the reply's text."""

    def __init__(self, session: Session, embedder: embedding.Embedder | None) -> None:
        self.session = session
        self.embedder = embedder
        services = catalog_service.list_services(session)
        self.names = {s.id: s.name_de for s in services}
        self.by_label = {s.name_de: s.name_de for s in services}
        self.by_label.update({s.name_en: s.name_de for s in services})
        self.city = city_facts(CITY)
        self.topics = elsewhere_topics(CITY)

    def ask(self, text: str, conversation: str | None = None) -> tuple[Outcome, str, str]:
        reply = assistant_service.ask(
            self.session,
            message=text,
            conversation_id=conversation,
            now=NOW,
            phone=self.city.get("service_phone"),
            places=PLACES,
            elsewhere=ELSEWHERE,
            topics=self.topics,
            country=self.city.get("country"),
            foreign_offer=(self.city.get("assistant") or {}).get("foreign_documents_offer") or (),
            embedder=self.embedder,
        )
        options = tuple(
            self.by_label.get(a.label, a.label) for a in reply.actions if a.type == "clarify"
        )
        got = Outcome(
            reply.kind, self.names.get(reply.service.id) if reply.service else None, options
        )
        return got, reply.reply, reply.conversation_id


def bm25_baseline(session: Session, names: Sequence[str]) -> ThresholdBaseline:
    """char_bm25 over each service's passages joined into one text (all fields)."""
    services = {s.name_de: s for s in catalog_service.list_services(session)}
    texts = [" ".join(p.text for p in service_passages(services[n])) for n in names]
    model = retrieval.char_bm25(texts)
    return ThresholdBaseline(
        "BM25 char n-gram", names, lambda text: np.asarray(model.scores(text), dtype=float)
    )


def dense_baseline(
    session: Session,
    names: Sequence[str],
    embedder: embedding.Embedder | None,
    questions: Sequence[str] = (),
) -> ThresholdBaseline:
    """The best cosine over each service's passages (the index of the current catalog). The
    questions' vectors are computed up front in batches (they do not depend on the catalog),
    so this baseline's latency is the retrieval's alone."""
    ids = {s.name_de: s.id for s in catalog_service.list_services(session)}
    unique = list(dict.fromkeys(questions))
    qvecs: dict[str, np.ndarray | None] = {}
    if embedder is not None:
        for start in range(0, len(unique), 32):
            batch = unique[start : start + 32]
            qvecs.update(zip(batch, embedder.query(batch), strict=True))

    def score(text: str) -> np.ndarray:
        index = retrieval.hybrid_index(session, embedder)
        if text not in qvecs:
            qvecs[text] = index.embed_query(text)
        r = index.retrieve(text, qvecs[text])
        by_id = dict(zip(r.service_ids, np.asarray(r.dense_max, dtype=float), strict=True))
        return np.array([by_id.get(ids[n], 0.0) for n in names])

    return ThresholdBaseline("embedding alone", names, score)


Single = Callable[[str], Outcome]


def systems_of(assistant: Assistant, baselines: Sequence[ThresholdBaseline]) -> dict[str, Single]:
    systems: dict[str, Single] = {"assistant": lambda q: assistant.ask(q)[0]}
    for b in baselines:
        systems[b.label] = b.ask
    return systems


def run_items(
    systems: dict[str, Single], set_name: str, items: Iterable[Item], strata: Strata
) -> list[Result]:
    out: list[Result] = []
    for item in items:
        for label, ask in systems.items():
            t0 = time.perf_counter()
            got = ask(item.q)
            seconds = time.perf_counter() - t0
            out.append(
                Result(label, set_name, item, strata.of(item.q), correct(item, got), seconds)
            )
    return out


# -- dialogues --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Turn:
    item: Item
    split: str  # the dialogue's
    n: int
    stratum: str
    service_ok: bool
    content_ok: bool
    reply: str


def run_dialogues(
    assistant: Assistant, labelled: LabelledSet, strata: Strata, session: Session
) -> list[Turn]:
    facts = service_facts(session)
    turns: list[Turn] = []
    for dialogue in labelled.dialogues:
        conversation: str | None = None
        for n, item in enumerate(dialogue.turns):
            got, reply, conversation = assistant.ask(item.q, conversation)
            turns.append(
                Turn(
                    item,
                    dialogue.split,
                    n,
                    strata.of(item.q),
                    correct(item, got),
                    content_ok(item, got, reply, facts),
                    reply,
                )
            )
    session.rollback()  # the conversations and logged questions of the bench
    return turns


def _turn_cell(turns: Sequence[Turn], content: bool = True) -> str:
    if not turns:
        return "–"
    hits = sum(t.content_ok if content else t.service_ok for t in turns)
    return f"{hits / len(turns):.3f} ({len(turns)})"


def _whole(turns: Sequence[Turn]) -> str:
    """Dialogues with every turn right on content."""
    dialogues: list[list[Turn]] = []
    for t in turns:
        if t.n == 0:
            dialogues.append([])
        dialogues[-1].append(t)
    if not dialogues:
        return "–"
    right = sum(all(t.content_ok for t in d) for d in dialogues)
    return f"{right / len(dialogues):.3f} ({len(dialogues)})"


def dialogues_tables(turns: Sequence[Turn], show_misses: bool) -> float:
    """Follow-up turns (2nd and later) right on content; returns the held-out rate."""
    table = Table(
        "dialogues",
        "follow-ups content seen",
        "content unseen",
        "content all",
        "service only all",
        "first turns content",
        "whole dialogues right",
        title="Topic-switch dialogues (blind/dialogues.yaml): rate (n turns / dialogues)",
    )
    held = math.nan
    for label, part in (
        ("held-out", [t for t in turns if t.split == "heldout"]),
        ("all [incl. dev split]", list(turns)),
    ):
        follow = [t for t in part if t.n > 0]
        table.add_row(
            escape(label),
            _turn_cell([t for t in follow if t.stratum == "seen"]),
            _turn_cell([t for t in follow if t.stratum == "unseen"]),
            _turn_cell(follow),
            _turn_cell(follow, content=False),
            _turn_cell([t for t in part if t.n == 0]),
            _whole(part),
        )
        if label == "held-out" and follow:
            held = sum(t.content_ok for t in follow) / len(follow)
    out.print(table)
    aspects = Table("aspect (all follow-ups)", "service right", "content right")
    for aspect in [*CONTENT_ASPECTS, "out of scope", "other (service only)"]:
        part = [t for t in turns if t.n > 0 and _aspect_group(t.item) == aspect]
        aspects.add_row(aspect, _turn_cell(part, content=False), _turn_cell(part))
    out.print(aspects)
    if show_misses:
        for t in turns:
            if t.n > 0 and not t.content_ok:
                out.print(
                    f"  [dim]{t.split}[/] {escape(repr(t.item.q))} want {t.item.expected} "
                    f"({t.item.aspect}): {escape(repr(t.reply[:160]))}"
                )
    return held


def _aspect_group(item: Item) -> str:
    if item.expected is None:
        return "out of scope"
    return item.aspect if item.aspect in CONTENT_ASPECTS else "other (service only)"


# -- cold start -------------------------------------------------------------------------------
def cold_start(
    session: Session,
    assistant: Assistant,
    baselines: tuple[ThresholdBaseline, ThresholdBaseline],
    sets: dict[str, LabelledSet],
    strata: Strata,
) -> list[Result]:
    """Per service: delete its keyword / example / shared rows, ask its held-out questions
    (the indexes rebuild on the changed catalog fingerprint), then roll the deletion back."""
    bm25, dense = baselines
    results: list[Result] = []
    for svc in catalog_service.list_services(session):
        name = svc.name_de
        mine = {
            s: [
                i
                for i in sets[s].items
                if i.split == "heldout"
                and i.expected is not None
                and (i.expected == name or (isinstance(i.expected, tuple) and name in i.expected))
            ]
            for s in SINGLE_SETS
            if s in sets
        }
        if not any(mine.values()):
            continue
        target = session.get(Service, svc.id)
        assert target is not None
        target.terms = []  # delete-orphan: the rows go
        session.flush()
        cold_bm25 = bm25_baseline(session, bm25.names)
        cold_bm25.threshold = bm25.threshold  # the dev-tuned one, not re-tuned
        systems = systems_of(assistant, [cold_bm25, dense])
        for set_name, items in mine.items():
            results += run_items(systems, set_name, items, strata)
        session.rollback()
    return results


def cold_table(results: Sequence[Result], systems: Sequence[str]) -> float:
    table = Table(
        "cold start (held-out, in scope)",
        "system",
        "top-1 seen",
        "top-1 unseen",
        "top-1 all",
        title="Cold start: each service without its keywords and examples",
    )
    for label, sets in (("all sets", SINGLE_SETS), *((s, (s,)) for s in SINGLE_SETS)):
        for system in systems:
            part = [r for r in results if r.system == system and r.set in sets]
            table.add_row(
                label,
                system,
                cell([r for r in part if r.stratum == "seen"]),
                cell([r for r in part if r.stratum == "unseen"]),
                cell(part),
            )
        table.add_section()
    out.print(table)
    out.print("(strata against the full catalog's keywords and examples)")
    mine = [r for r in results if r.system == "assistant"]
    weak = {}
    for name in sorted({r.item.expected for r in mine if isinstance(r.item.expected, str)}):
        part = [r for r in mine if str(r.item.expected) == name]
        if rate(part) < COLD_TARGET:
            weak[name] = cell(part)
    if weak:
        out.print(
            "services below the cold-start target: "
            + "; ".join(f"{k} {v}" for k, v in weak.items())
        )
    return rate(mine)
