"""Language, sub-questions, follow-up cues and personal-data scrubbing (pure: no DB, no web).

Everything here is general language knowledge (how people ask about costs, documents, …),
never knowledge of a particular service: that lives in the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import simplemma

from servicepoint.catalog.search import fold, words

ASPECTS = ("cost", "documents", "duration", "online", "where", "hours", "responsible", "booking")

# Folded word stems per aspect (German and English). A word matches when it starts with a stem.
_ASPECT_STEMS: dict[str, tuple[str, ...]] = {
    "cost": (
        "kost",
        "gebuehr",
        "preis",
        "bezahl",
        "zahlen",
        "teuer",
        "guenstig",
        "euro",
        "cost",
        "fee",
        "price",
        "pay",
        "expensive",
        "cheap",
        "charge",
    ),
    "documents": (
        "unterlag",
        "dokument",
        "mitbring",
        "mitnehm",
        "nachweis",
        "papier",
        "benoetig",
        "vorleg",
        "formular",
        "foto",
        "lichtbild",
        "document",
        "bring",
        "paperwork",
        "papers",
        "required",
        "requirement",
        "photo",
        "form",
    ),
    "duration": (
        "dauer",
        "lange",
        "bearbeitungszeit",
        "wartezeit",
        "wann fertig",
        "fertig",
        "long",
        "duration",
        "processing",
        "takes",
        "ready",
    ),
    "online": (
        "online",
        "internet",
        "digital",
        "website",
        "webseite",
        "portal",
        "elektronisch",
        "app",
        "von zuhause",
        "from home",
    ),
    "where": (
        "wo ",
        "wohin",
        "standort",
        "buergeramt",
        "amt",
        "adresse",
        "filiale",
        "where",
        "office",
        "location",
        "address",
    ),
    "hours": ("oeffnungszeit", "geoeffnet", "offen", "uhrzeit", "opening", "open", "hours"),
    "responsible": (
        "zustaendig",
        "behoerde",
        "ansprechpartner",
        "kontakt",
        "telefon",
        "anrufen",
        "responsible",
        "authority",
        "contact",
        "phone",
        "call",
        "who",
    ),
    "booking": (
        "termin",
        "buchen",
        "vereinbar",
        "ohne termin",
        "spontan",
        "warteschlange",
        "wartenummer",
        "appointment",
        "book",
        "walk",
        "schedule",
        "slot",
    ),
}
# Words that only carry the sub-question; they say nothing about which service is meant.
ASPECT_WORDS = frozenset(
    """
    kosten kostet kostenlos gebuehr gebuehren preis preise bezahlen zahlen teuer euro
    unterlagen dokumente dokument mitbringen mitnehmen benoetige benoetigt nachweise papiere
    dauer dauert lange wann fertig online internet digital webseite website
    wo wohin standort standorte adresse oeffnungszeiten geoeffnet offen uhrzeit
    zustaendig zustaendige behoerde ansprechpartner kontakt telefon anrufen
    termin termine buchen vereinbaren spontan wartezeit wartenummer
    cost costs fee fees price pay documents document bring need required paperwork how long
    takes duration processing where office location address opening hours open responsible
    authority contact phone appointment appointments book booking schedule walk much
    machen mache tun erledigen beantragen beantrage antrag apply application get
    """.split()
)
# Short messages that point back at the last topic ("das", "it", "dafür", "und für Kinder?").
_DEICTIC = frozenset(
    "das dafuer damit dazu davon es dies diese dieser dort da it that this there same one "
    "those them und and auch also noch".split()
)
_CHILD = (
    "kind",
    "kinder",
    "minderjaehrig",
    "baby",
    "saeugling",
    "jugendlich",
    "unter 18",
    "unter 24",
    "child",
    "children",
    "kid",
    "minor",
    "under 18",
    "under 24",
    "teen",
)
_GREETING = frozenset(
    "hallo hi hey moin servus guten tag morgen abend hello danke thanks "
    "thank you bye tschuess ok okay super prima".split()
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}\b", re.I)
_PHONE = re.compile(r"(?<!\w)(?:\+|00)?\d[\d\s/().-]{5,}\d(?!\w)")
_ID_LIKE = re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{8,12}\b", re.I)
_DATE = re.compile(r"\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b")


def scrub(text: str) -> str:
    """Remove e-mail addresses, phone numbers, IBANs, ID-like numbers and dates before storing."""
    text = _EMAIL.sub("[E-Mail]", text)
    text = _IBAN.sub("[IBAN]", text)
    text = _DATE.sub("[Datum]", text)
    text = _PHONE.sub("[Nummer]", text)
    return _ID_LIKE.sub("[Nummer]", text)


def detect_lang(text: str, default: str = "de") -> str:
    """German or English; short or mixed messages fall back to `default`."""
    scores = dict(simplemma.langdetect(text, lang=("de", "en")))
    de, en = scores.get("de", 0.0), scores.get("en", 0.0)
    if en > de + 0.15:
        return "en"
    if de > en + 0.15:
        return "de"
    return default


def _folded_text(text: str) -> str:
    return " " + " ".join(fold(w) for w in words(text)) + " "


def aspects(text: str) -> list[str]:
    """Which sub-questions a message asks, in a stable order; empty = a general question."""
    folded = _folded_text(text)
    tokens = folded.split()
    found = []
    for aspect in ASPECTS:
        for stem in _ASPECT_STEMS[aspect]:
            hit = (
                (f" {stem}" in folded)
                if " " in stem.strip() or stem.endswith(" ")
                else any(tok.startswith(stem) for tok in tokens)
            )
            if hit:
                found.append(aspect)
                break
    return found


def mentions_children(text: str) -> bool:
    folded = _folded_text(text)
    return any(f" {c}" in folded for c in _CHILD)


def content_words(text: str, stopwords: Iterable[str]) -> list[str]:
    """Words that could name a service: not stop words, not sub-question words."""
    stop = frozenset(stopwords)
    return [
        w
        for w in words(text)
        if len(fold(w)) > 1
        and fold(w) not in stop
        and fold(w) not in ASPECT_WORDS
        and fold(w) not in _DEICTIC
        and fold(w) not in _GREETING
    ]


def is_followup(text: str) -> bool:
    """A short message that leans on the previous topic ('Was kostet das?', 'and online?')."""
    tokens = [fold(w) for w in words(text)]
    if not tokens or len(tokens) > 9:
        return False
    return any(t in _DEICTIC for t in tokens) or bool(aspects(text)) or mentions_children(text)


def is_greeting(text: str) -> bool:
    tokens = [fold(w) for w in words(text)]
    return bool(tokens) and len(tokens) <= 4 and all(t in _GREETING for t in tokens)
