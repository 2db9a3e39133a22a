"""How the assistant reads a message before matching it: which clause it is about after a
turn ("…, aber mein Perso läuft ab"), which document it says is still valid (and so is not
asked about), and what a direction of moving implies. The words come from the data folder."""

from __future__ import annotations

import re

from servicepoint.assistant import lexicon, nlp
from servicepoint.catalog.search import STOPWORDS, SearchIndex
from servicepoint.catalog.wordlists import alternation, gathered

# A clause that turns against the one before: ", aber", "but", "Jedoch …" (not the particle
# in "Ich brauche den aber dringend").
_CONTRAST = re.compile(
    r"(?:[,;–-]|^|[.!?])\s*" + alternation(gathered("followup", "contrast")) + r"\b", re.I
)


def contrasted(index: SearchIndex, text: str) -> list[str]:
    """The terms after the last turn, twice more: "Mein Pass ist noch gültig, aber mein Perso
    läuft ab" is about the Perso."""
    turns = list(_CONTRAST.finditer(text))
    if not turns:
        return []
    after = text[turns[-1].end() :]
    return [t for w in nlp.content_words(after, STOPWORDS) for t in index.expand(w)] * 2


# A statement that a document is still valid: "Mein Reisepass ist noch bis 2030 gültig",
# "my passport is still valid".
_SETTLED = re.compile(
    r"\b"
    + alternation(gathered("followup", "still"))
    + r"\b[^,;.!?]*\b"
    + alternation(gathered("followup", "valid"))
    + r"\b",
    re.I,
)
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_CLAUSE = re.compile(r"[^,;]+[,;]*")
_TURN = re.compile(r"\b" + alternation(gathered("followup", "turn")) + r"\b", re.I)


def _unsettled_clause(clause: str) -> str:
    """The clause, or what is left of it, once a statement of validity is dropped: all of "der
    Reisepass ist aber noch gültig", the first half of "my passport is still valid but …"."""
    settled = _SETTLED.search(clause)
    if settled is None:
        return clause
    turn = _TURN.search(clause, settled.end())
    return clause[turn.start() :] if turn else ""


def unsettled(text: str) -> str:
    """The message without the clauses that say a document is still valid, which is then not
    the one asked about: "Mein Personalausweis ist abgelaufen, der Reisepass ist aber noch
    gültig." A question about validity ("Ist mein Pass noch gültig?") is kept whole."""
    kept = []
    for sentence in _SENTENCE.findall(text):
        if sentence.rstrip().endswith("?"):
            kept.append(sentence)
        else:
            kept += [_unsettled_clause(c) for c in _CLAUSE.findall(sentence)]
    rest = "".join(kept)
    return rest if nlp.content_words(rest, STOPWORDS) else text


def directed(index: SearchIndex, text: str) -> str:
    """The message with what its way of moving implies: "Ich ziehe nach Hannover" is a
    registration, though "ziehen" alone reads like the deregistration's "ins Ausland ziehen"."""
    means = lexicon.moving_means(text, index.ignore)
    return f"{text} {' '.join(means)}" if means else text
