"""Language, sub-questions, follow-up cues and personal-data scrubbing (pure: no DB, no web).

Everything here is general language knowledge (how people ask about costs, documents, …),
never knowledge of a particular service: that lives in the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import simplemma
from rapidfuzz import fuzz, process
from stop_words import get_stop_words

from servicepoint.assistant import personal
from servicepoint.catalog import wordlists
from servicepoint.catalog.search import STOPWORDS, fold, folded_words, lemma, words

ASPECTS = ("cost", "documents", "duration", "online", "where", "hours", "responsible", "booking")


def _stems(aspect: str) -> tuple[str, ...]:
    """Folded word stems of one aspect (data/language/*/aspects.yaml). A word matches when it
    starts with a stem; a stem with a space ("app ", "how much time") must match whole words."""
    stems = [fold(s) for s in wordlists.gathered("aspects", f"stems.{aspect}")]
    whole = [fold(w) + " " for w in wordlists.gathered("aspects", f"whole_words.{aspect}")]
    return (*stems, *whole)


_ASPECT_STEMS: dict[str, tuple[str, ...]] = {aspect: _stems(aspect) for aspect in ASPECTS}
# Words that only carry the sub-question; they say nothing about which service is meant.
ASPECT_WORDS = folded_words("aspects", "words")
# The office itself says where, never which service ("Bürgerbüro ummelden" is about ummelden).
OFFICE_WORDS = folded_words("offices", "office_words")
# The offices named in phrases ("citizens' office") and the words that only say which office
# or when: "Wann hat das nächste Bürgeramt am Samstag offen?" asks about the offices
# themselves, not about a service (data/language/*/offices.yaml, calendar.yaml).
_OFFICE_PHRASES = tuple(" " + fold(p) for p in wordlists.gathered("offices", "office_phrases"))
_WEEKDAYS = tuple(dict.fromkeys(fold(d) for d in wordlists.gathered("calendar", "weekdays")))
_OFFICE_TALK = frozenset(_WEEKDAYS) | folded_words("offices", "office_talk")


def names_an_office(text: str) -> bool:
    """The message names the citizens' offices ("Bürgeramt", "citizens' office")."""
    folded = _folded_text(text)
    return any(t in OFFICE_WORDS for t in folded.split()) or any(
        p in folded for p in _OFFICE_PHRASES
    )


def is_office_talk(word: str) -> bool:
    """A word that only says which office or when ("Samstag", "nächste", "citizens")."""
    return fold(word) in _OFFICE_TALK


# Short messages that point back at the last topic ("das", "it", "dafür", "und für Kinder?"),
# words pointing at something said before ("da", "he"), fillers that name no new topic in a
# short follow-up ("ungefähr", "should") and words for children: data/language/*/followup.yaml.
_DEICTIC = folded_words("followup", "deictic")
_BACK_REFERENCE = folded_words("followup", "back_reference")
_FILLER = folded_words("followup", "filler")
_CHILD = tuple(dict.fromkeys(fold(c) for c in wordlists.gathered("followup", "children")))
_GREETING = folded_words("greetings", "greeting")
# "morgen" also means tomorrow ("Ich fliege morgen"): a topic word outside greetings.
_GREETING_ONLY = _GREETING - folded_words("greetings", "not_only_greeting")

# What scrub leaves in place of personal data: our own tokens, the same in every language.
EMAIL_TAG, IBAN_TAG, DATE_TAG, NUMBER_TAG = "[E-Mail]", "[IBAN]", "[Datum]", "[Nummer]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Country code, check digits, then groups of four with a shorter last group (a German IBAN has
# 22 characters: DE + 2 + 18), written with or without spaces. The groups are upper case so the
# pattern cannot swallow the next word.
_IBAN = re.compile(r"\b(?i:[a-z]{2})\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b")
_PHONE = re.compile(r"(?<!\w)(?:\+|00)?\d[\d\s/().-]{5,}\d(?!\w)")
_ID_LIKE = re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{8,12}\b", re.I)
_MONTHS = "|".join(
    wordlists.pattern(m.lower())
    for key in ("months", "month_abbreviations")
    for m in dict.fromkeys(wordlists.gathered("calendar", key))
)
_DATE = re.compile(
    r"\b(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}\.?\s*(?:{_MONTHS})\.?\s*\d{{4}})\b",
    re.I,
)


def scrub(text: str) -> str:
    """Remove e-mail addresses, phone numbers, IBANs, ID-like numbers, dates (of birth, too),
    names given after a cue ("Mein Name ist …") and street addresses before storing."""
    text = text.replace("\x00", "")  # never storable (PostgreSQL refuses NUL in text)
    text = _EMAIL.sub(EMAIL_TAG, text)
    text = _IBAN.sub(IBAN_TAG, text)
    text = personal.scrub(_DATE.sub(DATE_TAG, text))
    text = _PHONE.sub(NUMBER_TAG, text)
    return _ID_LIKE.sub(NUMBER_TAG, text)


def _tags(*tags: str) -> str:
    """A regex group matching any of the placeholder tags."""
    return "(?:" + "|".join(re.escape(tag) for tag in tags) + ")"


_PLACEHOLDER = re.compile(
    _tags(EMAIL_TAG, IBAN_TAG, DATE_TAG, NUMBER_TAG, personal.NAME, personal.ADDRESS)
)


def _cues(key: str) -> str:
    """A regex group of data/language/*/personal_cues.yaml's words under `key`."""
    return wordlists.alternation(dict.fromkeys(wordlists.gathered("personal_cues", key)))


def _optional(key: str) -> str:
    """Each of the words under `key`, optional, each followed by spaces."""
    return "".join(
        f"(?:{wordlists.pattern(w)}\\s+)?" for w in wordlists.gathered("personal_cues", key)
    )


# Words that only introduce the personal data after them ("geboren am …", "Rückruf unter …") ...
_INTRODUCER = re.compile(
    rf"\b{_cues('introducers')}\b[\s.:,]*(?:{_cues('please')}\s+)?(?:{_cues('linking')}\s+)?"
    rf"(?={_tags(EMAIL_TAG, IBAN_TAG, DATE_TAG, NUMBER_TAG)})",
    re.I,
)
# ... and words that only close it ("Ich bin unter … erreichbar", "reach me at …").
_CLOSER = re.compile(
    rf"(?:\b{_cues('reach_verbs')}\s+{_optional('reach_pronouns')}{_cues('reach_whom')}\s+"
    rf"{_cues('reach_linking')}\s+(?={_tags(EMAIL_TAG, NUMBER_TAG)}))"
    rf"|(?<=\])\s*{_optional('reachable_optional')}{_cues('reachable')}\b",
    re.I,
)


def without_personal_data(text: str) -> str:
    """The message with e-mail addresses, numbers and dates (and the words introducing them)
    left out, for matching: contact details say nothing about the service and must neither
    make a clear question look vague nor point elsewhere ("geboren" → birth certificate)."""
    clean = _CLOSER.sub(" ", _INTRODUCER.sub(" ", scrub(text)))
    return " ".join(_PLACEHOLDER.sub(" ", clean).split())


# Function words only one of the two languages has ("what", "from" / "ich", "nicht"): the
# lemmatiser's German dictionary knows many English words ("open", "small", "city", "shop").
_EN_ONLY = frozenset(get_stop_words("english")) - frozenset(
    fold(w) for w in get_stop_words("german")
)
_DE_ONLY = frozenset(fold(w) for w in get_stop_words("german")) - frozenset(
    get_stop_words("english")
)


def detect_lang(text: str, default: str = "de") -> str:
    """German or English; short or mixed messages fall back to `default`."""
    scores = dict(simplemma.langdetect(text, lang=("de", "en")))
    de, en = scores.get("de", 0.0), scores.get("en", 0.0)
    if en > de + 0.15:
        return "en"
    if de > en + 0.15:
        return "de"
    tokens = [fold(w) for w in words(text)]
    en_votes = sum(t in _EN_ONLY for t in tokens)
    de_votes = sum(t in _DE_ONLY for t in tokens)
    if en_votes != de_votes and max(en_votes, de_votes) >= 2:
        return "en" if en_votes > de_votes else "de"
    return default


# Particles German splits off its verbs and puts at the end of the clause; the words around
# them (data/language/de/separable_verbs.yaml).
_PARTICLES = folded_words("separable_verbs", "particles")
_CLAUSE = re.compile(r"([^.,;:!?]*)([.,;:!?]*)")


_DETERMINERS = folded_words("separable_verbs", "determiners")
_COORDINATORS = folded_words("separable_verbs", "coordinators")
_MODALS = folded_words("separable_verbs", "modals")
_POLITE = folded_words("separable_verbs", "polite")  # "Antwort bitte an …": not bitten


def _finite_verb(toks: list[str]) -> int | None:
    """Where the clause's finite verb stands: the first inflected word whose lemma is an
    infinitive (-en, -eln, -ern). It comes second, after a subject that may be several words
    ("Meine Wohnung in der Oststadt *gebe* ich auf"); mid-clause, capitalised words are nouns,
    and so is a word after an article, however it is typed ("die miete frisst mich auf").
    A modal verb takes no particle: "das muss weg" is no verb "wegmüssen" the catalog knows."""
    for i, tok in enumerate(toks[:8]):
        if (i and tok[:1].isupper()) or fold(tok) in _POLITE:
            continue
        if i and fold(toks[i - 1]) in _DETERMINERS:
            continue
        verb = lemma(tok)
        infinitive = len(verb) >= 4 and verb.endswith(("en", "eln", "ern"))
        if infinitive and verb != fold(tok).rstrip("?!"):
            return None if verb in _MODALS else i
    return None


def join_separable(text: str) -> str:
    """Rejoin German separable verbs, so the catalog's words match: 'Wie melde ich mich um?'
    → 'Wie ummelden ich mich?', 'Wann hole ich ihn ab?' → 'Wann abholen ich ihn?'.

    The particle closes a main clause whose finite verb stands first or second."""
    out = []
    for clause, punct in _CLAUSE.findall(text):
        toks = clause.split()
        particle = fold(toks[-1]) if len(toks) >= 3 else ""
        if particle in _PARTICLES:
            # "… schuldet mir Geld und ist einfach weg": the particle closes the last clause
            start = max((k + 1 for k, t in enumerate(toks) if fold(t) in _COORDINATORS), default=0)
            i = _finite_verb(toks[start:-1])
            if i is not None:
                i += start
                toks = [*toks[:i], particle + lemma(toks[i]), *toks[i + 1 : -1]]
        out.append(" ".join(toks) + punct)
    return " ".join(part for part in out if part)


def _folded_text(text: str) -> str:
    return " " + " ".join(fold(w) for w in words(text)) + " "


def _stem_aspect(token: str) -> str | None:
    for aspect in ASPECTS:
        for stem in _ASPECT_STEMS[aspect]:
            if " " not in stem and token.startswith(stem):
                return aspect
    return None


# Whole aspect words (and long stems) by first letter, for typo tolerance: "Gebüren",
# "kosstet", "Ofnungszeiten", "zustendig", "documnets".
_FUZZY_POOL: dict[str, dict[str, str]] = {}
for _word in sorted(
    ASPECT_WORDS | {s for stems in _ASPECT_STEMS.values() for s in stems if " " not in s}
):
    _aspect = _stem_aspect(_word)
    if _aspect and len(_word) >= 6:
        _FUZZY_POOL.setdefault(_word[0], {})[_word] = _aspect


def _documents_phrase(slots: list[list[str]], after: dict[str, list[str]]) -> str:
    """One language's "Was brauche ich?" rule as a regex: a word of each slot in turn, not
    followed by words that ask what to do (see data/language/*/aspects.yaml)."""
    words_in_turn = " ".join(wordlists.alternation(slot) for slot in slots)
    optional = "".join(f"(?:{wordlists.pattern(w)} )?" for w in after.get("optional") or [])
    return f" {words_in_turn} (?!{optional}{wordlists.alternation(after['words'])} )"


def _phrase_rules() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The cost phrase ("how much …", "wie viel kostet …", unless "how much time") and the
    documents phrase ("Was brauche ich dafür?", "What do I need for a passport?")."""
    how_much = wordlists.alternation(wordlists.gathered("aspects", "how_much"))
    not_time = wordlists.alternation(wordlists.gathered("aspects", "not_how_much"))
    after = wordlists.of_language("aspects", "documents_not_before")
    documents = "|".join(
        f"(?:{_documents_phrase(slots, after[lang])})"
        for lang, slots in wordlists.of_language("aspects", "documents_question").items()
    )
    return re.compile(f" {how_much} (?!{not_time} )"), re.compile(documents)


_COST_PHRASE, _DOCUMENTS_PHRASE = _phrase_rules()


@lru_cache(maxsize=65536)  # bounded: the tokens come from anyone's messages
def fuzzy_aspect(token: str) -> str | None:
    """The aspect a folded word names, allowing for a typo; None for other words."""
    exact = _stem_aspect(token)
    # Short words and function words are too close to too much ("dafür" ~ "dauer").
    if exact or len(token) < 6 or token in _DEICTIC or token in _GREETING or token in _FILLER:
        return exact
    pool = _FUZZY_POOL.get(token[0], {})
    hit = process.extractOne(token, list(pool), scorer=fuzz.ratio, score_cutoff=88)
    return pool[hit[0]] if hit else None


def aspects(text: str) -> list[str]:
    """Which sub-questions a message asks, in a stable order; empty = a general question."""
    folded = _folded_text(join_separable(text))
    tokens = folded.split()
    named = {fuzzy_aspect(tok) for tok in tokens}
    if _COST_PHRASE.search(folded):
        named.add("cost")
    if _DOCUMENTS_PHRASE.search(folded):
        named.add("documents")
    found = []
    for aspect in ASPECTS:
        if aspect in named or any(
            f" {stem}" in folded
            for stem in _ASPECT_STEMS[aspect]
            if " " in stem.strip() or stem.endswith(" ")
        ):
            found.append(aspect)
    if "duration" in found and asks_validity(text) and not _TAKES.search(folded):
        found.remove("duration")  # "Wie lange ist der Pass gültig?" asks no processing time
    return found


def asks_validity(text: str) -> bool:
    """The message asks how long or where something is valid ("Wie lange gilt der?")."""
    return bool(_VALIDITY.search(_folded_text(text)))


# How long a document stays valid, not how long it takes to get it.
_VALIDITY = re.compile(f" {wordlists.alternation(wordlists.gathered('aspects', 'validity'))} ")
_TAKES = re.compile(f" {wordlists.alternation(wordlists.gathered('aspects', 'takes'))} ")


# Time is short: the message asks for something within days ("Ich fliege übermorgen"); see
# data/language/*/urgency.yaml.
def _padded(key: str, end: str = " ") -> tuple[str, ...]:
    return tuple(dict.fromkeys(f" {fold(c)}{end}" for c in wordlists.gathered("urgency", key)))


_URGENT = (*_padded("cues"), *_padded("cue_beginnings", end=""))
_NOT_URGENT = _padded("not_cues")  # "Guten Morgen"
# "Muss ich sofort einen neuen Ausweis beantragen?" asks whether it is due, not for haste.
_DUE = _padded("due")
_DUE_CUES = _padded("due_cues")


def _urgency_words(key: str) -> str:
    return wordlists.alternation(dict.fromkeys(fold(w) for w in wordlists.gathered("urgency", key)))


# A deadline on a weekday of this or next week: "bis Freitag", "nächsten Dienstag", "by Friday".
_WEEKDAY_DEADLINE = re.compile(
    f" {_urgency_words('before_weekday')} {wordlists.alternation(_WEEKDAYS)} "
)
# "in 5 Tagen", "in fünf Tagen", "in 3 days": a count of days ahead
_DAYS_AHEAD_COUNT = re.compile(f" {_urgency_words('days_ahead')} (\\w+) {_urgency_words('days')} ")


def is_urgent(text: str) -> bool:
    """The message says time is short; "Guten Morgen" is a greeting, not a deadline."""
    folded = _folded_text(text)
    for greeting in _NOT_URGENT:
        folded = folded.replace(greeting, " ")
    if any(due in folded for due in _DUE):
        for cue in _DUE_CUES:
            folded = folded.replace(cue, " ")
    if any(cue in folded for cue in _URGENT) or _WEEKDAY_DEADLINE.search(folded):
        return True
    return any(_is_number(m.group(1)) for m in _DAYS_AHEAD_COUNT.finditer(folded))


def mentions_children(text: str) -> bool:
    folded = _folded_text(text)
    return any(f" {c}" in folded for c in _CHILD)


# Units after a number ("89 Jahre alt", "vor 4 Wochen", "a 19-year-old") and age adjectives
# ("zehnjähriger"): an age or a span says nothing about which service, as the number does not.
# Numbers written out ("he is five", "in fünf Tagen") are numbers too. The words are in
# data/language/*/numbers.yaml.
_SPAN_UNITS = folded_words("numbers", "span_units")
_AGE_WORD = re.compile(
    rf"\w+{wordlists.alternation(fold(e) for e in wordlists.gathered('numbers', 'age_endings'))}"
)
NUMBER_WORDS = folded_words("numbers", "number_words")


# Ordinal words choosing an option ("den zweiten", "the first"), folded → position from 1.
_ORDINALS = {
    fold(word): int(position)
    for table in wordlists.of_language("numbers", "ordinals").values()
    for word, position in table.items()
}


def option_index(word: str) -> int | None:
    """The option (from 0) a word of a reply to "Meinen Sie A oder B?" chooses: a digit or an
    ordinal word ("1", "zweite", "third"); None for any other word."""
    folded = fold(word)
    short_number = folded.isdecimal() and len(folded) <= 2
    position = int(folded) if short_number else _ORDINALS.get(folded)
    return position - 1 if position else None


def _is_number(token: str) -> bool:
    return token.isdigit() or fold(token) in NUMBER_WORDS


def _spans(tokens: Sequence[str]) -> set[int]:
    """Positions of the words that give an age or a span with a number (see _SPAN_UNITS)."""
    found = {i for i, t in enumerate(tokens) if _AGE_WORD.fullmatch(fold(t))}
    for i, token in enumerate(tokens):
        if not _is_number(token):
            continue
        j = i + 1
        while j < len(tokens) and fold(tokens[j]) in _SPAN_UNITS:
            found.add(j)
            j += 1
    return found


def content_words(
    text: str, stopwords: Iterable[str], keep: frozenset[str] = frozenset()
) -> list[str]:
    """Words that could name a service: not stop words, not sub-question words, not numbers
    or the ages and spans they give (an age or a date says nothing about which service).
    Words in `keep` (folded) count even if they could ask a sub-question: "address" in
    "address registration"."""
    stop = frozenset(stopwords)
    tokens = words(text)
    spans = _spans(tokens)
    return [
        w
        for i, w in enumerate(tokens)
        if fold(w) in keep
        or (
            i not in spans
            and len(fold(w)) > 1
            and not _is_number(w)
            and fold(w) not in stop
            and fold(w) not in ASPECT_WORDS
            and fold(w) not in OFFICE_WORDS
            and fold(w) not in _DEICTIC
            and fold(w) not in _GREETING_ONLY
            # "beantragt", "Anträge": an inflected sub-question word is still one
            and lemma(w) not in ASPECT_WORDS
        )
    ]


def is_filler(word: str) -> bool:
    """A word that carries no topic in a follow-up: a filler, or a (misspelt) sub-question word."""
    folded = fold(word)
    return folded in _FILLER or fuzzy_aspect(folded) is not None


def refers_back(text: str) -> bool:
    """The message points at something said before: 'Muss ich *da* nochmal hin?', 'does *he*
    have to come?'. Articles like 'das' are left out: 'das Auto' points nowhere."""
    return any(fold(w) in _BACK_REFERENCE for w in words(text))


def is_followup(text: str) -> bool:
    """A short message that leans on the previous topic ('Was kostet das?', 'and online?')."""
    tokens = [fold(w) for w in words(text)]
    # A message pointing back may be a little longer ("my fiancee is not German, does she …").
    if not tokens or len(tokens) > (14 if refers_back(text) else 9):
        return False
    return (
        any(t in _DEICTIC for t in tokens)
        or refers_back(text)
        or bool(aspects(text))
        or asks_validity(text)
        or mentions_children(text)
        # nothing but the visit and fillers: "Müssen wir beide persönlich hinkommen?" ("Danke"
        # alone has no filler: it is no question)
        or (
            any(t in _FILLER for t in tokens)
            and all(t in STOPWORDS or t in _FILLER for t in tokens)
        )
    )


# Small talk around a greeting ("Hi there, how are you today?", "Hallo, wie geht's?"): with a
# greeting and nothing else, it asks for no service.
_SMALL_TALK = folded_words("greetings", "small_talk")
_THANKS = folded_words("greetings", "thanks")


def is_thanks(text: str) -> bool:
    """A greeting that thanks ("Danke!", "ok thanks"): it closes, it does not open."""
    return is_greeting(text) and any(fold(w) in _THANKS for w in words(text))


def is_greeting(text: str) -> bool:
    """Only greeting words ("Guten Morgen"), or a greeting with small talk and function words
    ("Hi there, how are you today?")."""
    tokens = [fold(w) for w in words(text)]
    if not tokens or len(tokens) > 8:
        return False
    if len(tokens) <= 4 and all(t in _GREETING for t in tokens):
        return True
    return (
        any(t in _GREETING_ONLY for t in tokens)
        and not aspects(text)
        and all(t in _GREETING or t in _SMALL_TALK or t in STOPWORDS for t in tokens)
    )
