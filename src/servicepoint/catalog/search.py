"""Typo- and colloquial-tolerant catalog search (pure: no database, no web).

Text is folded (umlauts, ß), lemmatised (simplemma, German and English), compounds are split
against the catalog's own vocabulary and unknown words are matched to known ones with rapidfuzz.
BM25 (bm25s) then ranks the services over their names, citizen terms, examples and summaries.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import bm25s
import numpy as np
import simplemma
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein
from stop_words import get_stop_words

from servicepoint.catalog import wordlists

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e"})

# A fuzzy match this close is taken as the word meant (one slip in a word of seven letters).
SURE_SPELLING = 0.85
# A word known only from example questions also counts as the catalog's own word when it is
# at least this close to one: a slip in a long word ("fuerungszeugnis"), not another word.
RESPELL_SPELLING = 0.9


def _core(folded: str) -> str:
    """A folded phrase without stop words, so 'register my address' meets 'register address';
    negations stay, with "isn't" and "won't" spelt "not"."""
    kept: list[str] = []
    previous = ""
    for w in folded.split():
        if w == "t" and previous.endswith("n"):  # isn t, won t, can t
            if kept and kept[-1] == previous:
                kept.pop()
            kept.append("not")
        elif w in _NEGATIONS or w not in STOPWORDS:
            kept.append(w)
        previous = w
    return " ".join(kept)


def fold(text: str) -> str:
    """Lower-case and spell umlauts/ß out, so 'Reisepaß' and 'Reisepass' meet."""
    return text.lower().translate(_FOLD)


def folded_words(topic: str, key: str) -> frozenset[str]:
    """A word list of the data folder (see catalog/wordlists.py), folded; entries may hold
    several words separated by spaces."""
    return frozenset(fold(w) for entry in wordlists.gathered(topic, key) for w in entry.split())


# Words that carry no meaning for finding a service (data/language/*/stopwords.yaml), and the
# standard German function words (the Snowball list) but for those that do here ("weg").
_SNOWBALL = frozenset(fold(w) for w in get_stop_words("german"))
STOPWORDS = folded_words("stopwords", "words") | (
    _SNOWBALL - folded_words("stopwords", "not_stopwords")
)
# Kept in phrases: "ID card not ready" must not meet "my ID card is ready".
_NEGATIONS = folded_words("stopwords", "negations")


@lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    """German/English lemma of one word, folded; nouns are tried capitalised as German needs."""
    base = simplemma.lemmatize(word, lang=("de", "en"))
    if base.lower() == word.lower():
        base = simplemma.lemmatize(word.capitalize(), lang=("de", "en"))
    return fold(base)


@lru_cache(maxsize=50_000)
def is_word(word: str) -> bool:
    """Whether the lemmatiser's German or English dictionary knows the word as written."""
    return any(
        simplemma.is_known(form, lang=lang)
        for lang in ("de", "en")
        for form in dict.fromkeys((word, word.lower(), word.capitalize()))
    )


def _inflection_of(word: str, term: str) -> bool:
    """Whether two words differ only in their last letters ("verlorenen", "verloren"), as
    inflections do; "tauschen" and "Tasche" differ from the third letter on."""
    shortest = min(len(word), len(term))
    pairs = enumerate(zip(word, term, strict=False))
    shared = next((i for i, (a, b) in pairs if a != b), shortest)
    return shared >= shortest - 2


def words(text: str) -> list[str]:
    return _WORD.findall(text)


# A foreign country named as where someone goes ("ein Visum für Indien", "in die USA", "a visa
# to Thailand") is the topic word DESTINATION in the list of other authorities' matters: entry
# rules are the destination's business. "Ich komme aus Indien" or "in Indien" names no
# destination.
DESTINATION = "reiseziel"
# The words are in data/language/*/destinations.yaml.
_TOWARDS = folded_words("destinations", "towards")
_TOWARDS_WITH_ARTICLE = folded_words("destinations", "towards_with_article")  # "in die Türkei"
_ARTICLES = folded_words("destinations", "articles")
_HOME = frozenset({"DE"})


@lru_cache(maxsize=1)
def _countries() -> dict[str, list[tuple[str, ...]]]:
    """Folded country names (German and English, from CLDR via Babel) by their first word."""
    from babel import Locale

    # everyday names beside the official ones (CLDR's "Vereinigte Staaten", "United Kingdom")
    names = list(dict.fromkeys(wordlists.gathered("destinations", "country_aliases")))
    for locale in ("de", "en"):
        territories = Locale.parse(locale).territories
        names += [n for code, n in territories.items() if code.isalpha() and code not in _HOME]
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for name in names:
        tokens = tuple(fold(w) for w in words(name))
        if tokens and tokens not in by_first.get(tokens[0], []):
            by_first.setdefault(tokens[0], []).append(tokens)
    return by_first


_PURPOSE = folded_words("destinations", "purpose")
_DETERMINERS = folded_words("destinations", "determiners")


def purposes(tokens: Sequence[str]) -> set[str]:
    """Folded words named only as a purpose: "Visum" in "Führungszeugnis für mein Visum"."""
    named_freely: set[str] = set()
    governed: set[str] = set()
    for i, token in enumerate(tokens):
        j = i - 1
        while j >= 0 and i - j <= 3 and tokens[j] in _DETERMINERS:
            j -= 1
        (governed if j >= 0 and tokens[j] in _PURPOSE else named_freely).add(token)
    return governed - named_freely


def destinations(tokens: Sequence[str]) -> set[str]:
    """The folded words of foreign countries the folded `tokens` name as a destination."""
    found: set[str] = set()
    for i, token in enumerate(tokens):
        if token not in _TOWARDS and token not in _TOWARDS_WITH_ARTICLE:
            continue
        j = i + 1
        while j < len(tokens) and tokens[j] in _ARTICLES:
            j += 1
        if (j == i + 1 and token in _TOWARDS_WITH_ARTICLE) or j >= len(tokens):
            continue
        for name in _countries().get(tokens[j], ()):
            if tuple(tokens[j : j + len(name)]) == name:
                found.update(name)
    return found


def analyse(text: str) -> list[str]:
    """Index-side tokens: folded words plus their lemmas (duplicates kept for term frequency)."""
    out: list[str] = []
    for word in words(text):
        folded = fold(word)
        if len(folded) < 2 or folded in STOPWORDS:
            continue
        out.append(folded)
        lem = lemma(word)
        if lem != folded and lem not in STOPWORDS:
            out.append(lem)
    return out


def _terms(text: str) -> frozenset[str]:
    return frozenset(analyse(text))


def _by_initial(ordered: Iterable[str]) -> dict[str, list[str]]:
    """Sorted terms grouped by their first letter: typos rarely hit the first letter."""
    groups: dict[str, list[str]] = {}
    for term in ordered:
        groups.setdefault(term[0], []).append(term)
    return groups


def _starting_with(ordered: Sequence[str], prefix: str) -> Iterator[str]:
    """The words of a sorted list that start with `prefix`, in order (found by bisection)."""
    i = bisect.bisect_left(ordered, prefix)
    while i < len(ordered) and ordered[i].startswith(prefix):
        yield ordered[i]
        i += 1


def _compound_parts(tokens: Sequence[str], known: Container[str]) -> list[str]:
    """The known parts of a service's compound words, once each: "Auslandsumzug" also
    speaks of an "Umzug" and of the "Ausland", as a message spelling it apart does."""
    parts: list[str] = []
    for token in set(tokens):
        for cut in range(4, len(token) - 3):
            head, tail = token[:cut], token[cut:]
            if head in known and (tail in known or (tail[0] == "s" and tail[1:] in known)):
                parts += [head, tail if tail in known else tail[1:]]
                break
    return parts


@dataclass(frozen=True)
class SearchDoc:
    """What the index knows of one service; weights repeat the strongest fields."""

    id: str
    names: Sequence[str]
    keywords: Sequence[str] = ()
    examples: Sequence[str] = ()
    shared: Sequence[str] = ()  # words it shares with other services (see shared_with)
    summaries: Sequence[str] = ()
    urgent_for: Sequence[str] = ()  # services it stands in for when time is short

    def tokens(self) -> list[str]:
        toks: list[str] = []
        for text in self.names:
            toks += analyse(text) * 3
        for text in self.keywords:
            toks += analyse(text) * 3
        for text in (*self.examples, *self.summaries):
            toks += analyse(text)
        return toks

    def phrases(self) -> list[str]:
        """Multi-word names and keywords, folded; a query containing one gets a bonus."""
        return [" ".join(fold(w) for w in words(t)) for t in (*self.names, *self.keywords)]


@dataclass
class Hit:
    id: str
    score: float


@dataclass
class SearchIndex:
    docs: list[SearchDoc]
    # Folded words the index treats as stop words: the city's place names.
    ignore: frozenset[str] = frozenset()
    # Folded words and phrases naming matters other authorities handle (Kindergeld, GEZ …).
    elsewhere: tuple[str, ...] = ()
    # ... each as the city's list writes it, to look up which topic it belongs to.
    elsewhere_written: Mapping[str, str] = field(default_factory=dict)
    _bm25: bm25s.BM25 = field(init=False, repr=False)
    _title_bm25: bm25s.BM25 = field(init=False, repr=False)
    _vocab: frozenset[str] = field(init=False, repr=False)
    _vocab_list: list[str] = field(init=False, repr=False)
    _by_initial: dict[str, list[str]] = field(init=False, repr=False)
    _exact: list[frozenset[str]] = field(init=False, repr=False)
    _phrase_docs: dict[str, set[int]] = field(init=False, repr=False)
    _phrase_len: int = field(init=False, repr=False)
    # the topics by their first word: a message names few topic words, so only their topics
    # need checking
    _elsewhere_by_first: dict[str, list[tuple[str, tuple[str, ...]]]] = field(
        init=False, repr=False
    )
    _elsewhere_part_set: frozenset[str] = field(init=False, repr=False)
    _elsewhere_part_list: list[str] = field(init=False, repr=False)
    _cache: dict[str, tuple[list[str], str]] = field(init=False, repr=False, default_factory=dict)
    _idf: dict[str, float] = field(init=False, repr=False)
    _max_idf: float = field(init=False, repr=False)
    _similarity: dict[str, float] = field(init=False, repr=False, default_factory=dict)
    doc_terms: list[frozenset[str]] = field(init=False, repr=False)
    # Terms of a service's names and citizen words only: what the service *is*, not what its
    # description happens to mention.
    title_terms: list[frozenset[str]] = field(init=False, repr=False)
    # Each example question's terms (a message close to one of them asks the same thing) with
    # their summed specificity, which every question's ranking needs.
    example_weights: list[list[tuple[frozenset[str], float]]] = field(init=False, repr=False)
    _shared: list[tuple[frozenset[str], str]] = field(init=False, repr=False)
    # Words of names, citizen words and summaries, by initial: the catalog's own spelling.
    # Example questions are citizens' writing and may be misspelt ("fürungszeugnis").
    _edited: frozenset[str] = field(init=False, repr=False)
    _edited_by_initial: dict[str, list[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        written = [doc.tokens() or ["_"] for doc in self.docs]
        df: dict[str, int] = {}
        for toks in written:
            for tok in set(toks):
                df[tok] = df.get(tok, 0) + 1
        n = max(len(written), 1)
        self._idf = {tok: math.log((n + 1) / (count + 0.5)) for tok, count in df.items()}
        self._max_idf = max(self._idf.values(), default=0.0)
        # Compound parts count for matching, not for how specific a word is: "Melderegister"
        # must not make "register" a word every service uses.
        corpus = [
            toks + _compound_parts([t for x in (*d.names, *d.keywords) for t in analyse(x)], df)
            for toks, d in zip(written, self.docs, strict=True)
        ]
        self._bm25 = bm25s.BM25(k1=1.2, b=0.5)
        self._bm25.index(corpus, show_progress=False)
        # A second field: names and citizen words alone (BM25F-like). Words a service is
        # *called* by count beyond words its texts happen to use.
        titles = [
            [t for text in (*doc.names, *doc.keywords) for t in analyse(text)] or ["_"]
            for doc in self.docs
        ]
        self._title_bm25 = bm25s.BM25(k1=1.2, b=0.3)
        self._title_bm25.index(titles, show_progress=False)
        edited = sorted(
            {
                t
                for doc in self.docs
                for text in (*doc.names, *doc.keywords, *doc.summaries)
                for t in analyse(text)
            }
        )
        self._edited = frozenset(edited)
        self._edited_by_initial = _by_initial(edited)
        self._vocab = frozenset(t for toks in corpus for t in toks)
        self.doc_terms = [frozenset(toks) for toks in corpus]
        # Multi-word citizen phrases ("Geburtsurkunde Elterngeld") count only as whole phrases
        # (see phrases()): their single words may name something else.
        self.title_terms = [
            frozenset(
                t
                for text in (
                    *doc.names,
                    *(k for k in doc.keywords if len(_core(fold(k)).split()) == 1),
                )
                for t in analyse(text)
            )
            for doc in self.docs
        ]
        self.example_weights = [
            [(terms, sum(self.idf(t) for t in terms)) for terms in map(_terms, doc.examples)]
            for doc in self.docs
        ]
        # Per service, the words of all its shared phrases ("neues Ausweisdokument" uses two).
        self._shared = [
            (frozenset(t for text in doc.shared for t in analyse(text)), doc.id)
            for doc in self.docs
            if doc.shared
        ]
        self._vocab_list = sorted(self._vocab)
        self._by_initial = _by_initial(self._vocab_list)
        self._exact = [frozenset(_core(p) for p in doc.phrases()) for doc in self.docs]
        self._phrase_docs = {}
        for i, doc in enumerate(self.docs):
            for p in doc.phrases():
                if " " in (core := _core(p)):
                    self._phrase_docs.setdefault(core, set()).add(i)
        self._phrase_len = max((p.count(" ") + 1 for p in self._phrase_docs), default=0)
        self._elsewhere_by_first = {}
        for phrase in self.elsewhere:
            parts = tuple(p for p in phrase.split() if p not in STOPWORDS)
            if parts:
                self._elsewhere_by_first.setdefault(parts[0], []).append((phrase, parts))
        self._elsewhere_part_set = frozenset(
            p for topics in self._elsewhere_by_first.values() for _, parts in topics for p in parts
        )
        self._elsewhere_part_list = sorted(self._elsewhere_part_set)

    # -- query side -------------------------------------------------------------------------
    def expand(self, word: str) -> list[str]:
        """Map a query word to index terms: itself, its lemma, compound parts or a near spelling."""
        return self.expand_kind(word)[0]

    def expand_kind(self, word: str) -> tuple[list[str], str]:
        """Like `expand`, also saying how the word matched: exact, compound, fuzzy, none, stop."""
        folded = fold(word)
        cached = self._cache.get(folded)
        if cached is not None:
            return cached
        result = self._expand_uncached(word, folded)
        if len(self._cache) < 50_000:
            self._cache[folded] = result
        return result

    def _expand_uncached(self, word: str, folded: str) -> tuple[list[str], str]:
        if len(folded) < 2 or folded in STOPWORDS or folded in self.ignore:
            return [], "stop"
        terms = [t for t in dict.fromkeys((folded, lemma(word))) if t in self._vocab]
        if terms:
            return self._respelled(folded) + terms, "exact"
        # A close misspelling of a whole known word beats splitting it into guessed parts.
        near = self._fuzzy(folded)
        if near and near[0] not in self._edited:
            # The closest word may be a citizen's slip in an example ("meldebeschinigung"):
            # then the catalog's own spelling is meant as well.
            near = self._respelled(near[0]) + near
        if near and self._similarity.get(folded, 0.0) >= 0.9:
            return near, "fuzzy"
        parts = self._split_compound(folded)
        if parts:
            return parts, "compound"
        head = self._compound_head(folded)
        # A match is no slip when the word is a word of its own ("Krankenhaus" is not a
        # misspelt "Krankenkasse", "tauschen" no "Tasche"), unless it is the same word inflected
        # ("verlorenen"); nor is a loose match sharing only the last part with the word: that
        # is another compound of the part ("Fahrprüfung" is a Prüfung, not "Fischerprüfung").
        loose = self.similarity(word) < SURE_SPELLING
        other_word = bool(near) and is_word(word) and not _inflection_of(folded, near[0])
        if near and not (other_word or (loose and head and near[0].endswith(head))):
            return near, "fuzzy"
        return ([head], "head") if head else ([], "none")

    def _respelled(self, folded: str) -> list[str]:
        """The catalog's spelling of a word known only from example questions, when it is a
        near-certain slip of one ("fuerungszeugnis" → "fuehrungszeugnis"); else nothing."""
        if len(folded) < 8 or folded in self._edited:
            return []
        pool = self._edited_by_initial.get(folded[0], [])
        match = process.extractOne(
            folded, pool, scorer=fuzz.ratio, score_cutoff=100 * RESPELL_SPELLING
        )
        return [match[0]] if match else []

    def similarity(self, word: str) -> float:
        """How close a fuzzily matched word was to its term (1.0 = same); 0.5 for completions."""
        return self._similarity.get(fold(word), 0.5)

    @property
    def max_idf(self) -> float:
        """The idf of a term only one service has."""
        return self._max_idf

    def idf(self, term: str) -> float:
        """How specific a term is to few services (0 for unknown terms)."""
        return self._idf.get(term, 0.0)

    def _fuzzy(self, folded: str) -> list[str]:
        if len(folded) < 4:
            return []
        cutoff = 86 if len(folded) < 8 else 78
        # Typos rarely hit the first letter; requiring it keeps "wetter" from becoming "letter".
        pool = self._by_initial.get(folded[0], [])
        matches = process.extract(folded, pool, scorer=fuzz.ratio, score_cutoff=cutoff, limit=3)
        if matches:
            # Of near-equal matches the catalog's own word wins over an inflection that only
            # example questions use: "Personalausweiß" is "Personalausweis", not
            # "Personalausweises".
            best = matches[0][1]
            match = next(
                (m for m in matches if m[1] >= best - 1 and m[0] in self._edited), matches[0]
            )
            self._similarity[folded] = float(match[1]) / 100
            return [match[0]]
        if 6 <= len(folded) < 8:
            # One slip in a mid-length word ("Verlist", "fisihng") is below the ratio cutoff,
            # which counts a swap or a wrong letter twice.
            near = process.extractOne(
                folded, pool, scorer=DamerauLevenshtein.distance, score_cutoff=1
            )
            if near:
                self._similarity[folded] = 1 - 1 / len(folded)
                return [near[0]]
        # Typed-ahead or clipped words ("perso", "meldebesch") complete to the longest known term.
        if len(folded) < 5:
            return []
        return list(itertools.islice(_starting_with(self._vocab_list, folded), 3))

    def _split_compound(self, folded: str, depth: int = 0) -> list[str]:
        """Split e.g. 'personalausweisverlaengerung' into known parts (with German linking -s-)."""
        if len(folded) < 7 or depth > 2:
            return []
        for cut in range(len(folded) - 3, 3, -1):
            head, tail = folded[:cut], folded[cut:]
            if head not in self._vocab:
                continue
            for rest in (tail, tail[1:] if tail.startswith("s") else ""):
                if len(rest) < 3:
                    continue
                if rest in self._vocab:
                    return [head, rest]
                fuzzy_rest = self._fuzzy(rest) if len(rest) >= 5 else []
                # A known head with a loosely guessed tail is two guesses ("bettlaegerig" is
                # no "Bett" + "länger"): the tail must be a near-certain slip.
                if self._similarity.get(rest, 0.0) < SURE_SPELLING:
                    fuzzy_rest = []
                deeper = self._split_compound(rest, depth + 1) or fuzzy_rest
                if deeper:
                    return [head, *deeper]
        return []

    def _compound_head(self, folded: str) -> str | None:
        """The known last part of a compound whose first part is unknown: a German compound is
        a kind of its last part ("Notfallreisepass" is a Reisepass)."""
        for cut in range(3, len(folded) - 4):
            tail = folded[cut:]
            if tail in self._vocab and self._idf.get(tail, 0.0) > 0:
                return tail
        return None

    def shared_by(self, content_words: Sequence[str]) -> list[str]:
        """Services whose shared words say all the message says ("neuer Ausweis" →
        Personalausweis, Reisepass): every content word is one of the service's shared words."""
        wanted = [t for t in (set(analyse(w)) for w in content_words) if t]
        if not wanted:
            return []
        found = [doc_id for tokens, doc_id in self._shared if all(w & tokens for w in wanted)]
        return list(dict.fromkeys(found))

    def query_terms(self, text: str) -> list[str]:
        terms: list[str] = []
        for word in words(text):
            terms += self.expand(word)
        return terms

    # -- ranking ----------------------------------------------------------------------------
    def scores(
        self, text: str, terms: list[str] | None = None, title_weight: float = 0.0
    ) -> np.ndarray:
        """BM25 score per document (index order) plus a bonus for whole multi-word phrases;
        `title_weight` adds the names-and-citizen-words field on top (the assistant's ranking;
        the site search keeps plain scores, which its threshold is set for)."""
        terms = self.query_terms(text) if terms is None else terms
        if not terms:
            return np.zeros(len(self.docs))
        scores = np.asarray(self._bm25.get_scores(terms), dtype=float)
        if title_weight:
            scores += title_weight * np.asarray(self._title_bm25.get_scores(terms))
        folded = _core(" ".join(fold(w) for w in words(text)))
        hinted = {i for p in self._phrases_in(folded) for i in self._phrase_docs[p]}
        for i, exact in enumerate(self._exact):
            # A query that *is* one of a service's names or citizen words is the strongest hint.
            if folded in exact:
                scores[i] *= 1.6
            elif i in hinted:
                scores[i] *= 1.3
        return scores

    def _phrases_in(self, core: str) -> list[str]:
        """The multi-word phrases of any service that occur in a core text, as whole words
        (looked up by the text's word runs: the phrases are many, a message's words few)."""
        tokens = core.split()
        found = []
        for i in range(len(tokens)):
            for n in range(2, min(self._phrase_len, len(tokens) - i) + 1):
                if (gram := " ".join(tokens[i : i + n])) in self._phrase_docs:
                    found.append(gram)
        return found

    def spelled(self, text: str) -> str:
        """The text folded, with near-certain slips corrected to the catalog's word
        ("meldezattel abgeben" → "meldezettel abgeben"), so phrases can still be found."""
        out = []
        for word in words(text):
            terms, kind = self.expand_kind(word)
            sure = kind == "fuzzy" and self.similarity(word) >= SURE_SPELLING
            out.append(terms[0] if sure else fold(word))
        return " ".join(out)

    def phrase_words(self, text: str) -> frozenset[str]:
        """Folded words of the text that belong to a multi-word name or citizen phrase of
        some service found in it ("address registration", "Pass übermorgen")."""
        core = _core(" ".join(fold(w) for w in words(text)))
        return frozenset(w for p in self._phrases_in(core) for w in p.split())

    def elsewhere_words(self, text: str) -> dict[str, set[str]]:
        """The other authorities' topics the text names, each with the text's words naming
        it. Every word of a topic must be there, in any order; a long word also matches as the
        start of a compound ("Kindergeldantrag"), and most of a compound's start matches the
        compound ("arbeitslos" → "Arbeitslosengeld", "acknowledge" → "acknowledgement")."""
        named: dict[str, set[str]] = {}  # topic word → the text's words naming it
        tokens = [fold(w) for w in words(text)]
        for token in set(tokens):
            for part in self._topic_words_named_by(token):
                named.setdefault(part, set()).add(token)
        if DESTINATION in self._elsewhere_part_set and (abroad := destinations(tokens)):
            named.setdefault(DESTINATION, set()).update(abroad)
        found: dict[str, set[str]] = {}
        for first in list(named):
            for phrase, parts in self._elsewhere_by_first.get(first, ()):
                if all(p in named for p in parts) and self._own_matter(tokens, parts, named):
                    found[phrase] = {t for p in parts for t in named[p]}
        return found

    @staticmethod
    def _own_matter(tokens: list[str], parts: tuple[str, ...], named: dict[str, set[str]]) -> bool:
        """A destination's topic is the matter itself, not the purpose of one of ours: not
        "Führungszeugnis für mein Visum nach Kanada"."""
        if DESTINATION not in parts:
            return True
        purpose = purposes(tokens)
        return any(named[p] - purpose for p in parts if p != DESTINATION)

    def _topic_words_named_by(self, token: str) -> list[str]:
        """The topic words a message word names (see elsewhere_words)."""
        parts = self._elsewhere_part_list
        hits = [
            token[:k] for k in range(6, len(token) + 1) if token[:k] in self._elsewhere_part_set
        ]
        if token in self._elsewhere_part_set and token not in hits:
            hits.append(token)
        # "Deutschland" is a word of its own, not a clipped "Deutschlandticket".
        if len(token) >= 8 and token not in self._vocab:
            hits += [p for p in _starting_with(parts, token) if len(token) >= 0.6 * len(p)]
        return hits

    def search(self, text: str, limit: int = 10, min_score: float = 0.5) -> list[Hit]:
        scores = self.scores(text)
        order = np.argsort(-scores, kind="stable")[:limit]
        return [Hit(self.docs[i].id, float(scores[i])) for i in order if scores[i] >= min_score]


def build_index(
    docs: Iterable[SearchDoc], places: Iterable[str] = (), elsewhere: Iterable[str] = ()
) -> SearchIndex:
    """The index; words of `places` (e.g. "Linden-Nord") are ignored in queries, `elsewhere`
    phrases name matters of other authorities."""
    ignore = frozenset(f for name in places for w in words(name) if len(f := fold(w)) >= 4)
    written = {" ".join(fold(w) for w in words(p)): p for p in elsewhere}
    written.pop("", None)
    return SearchIndex(list(docs), ignore, tuple(sorted(written)), written)
