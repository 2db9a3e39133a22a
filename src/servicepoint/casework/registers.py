"""The city's registers (data/<city>/registers/) and the lookups a form's rules read. Pure.

Each file is validated once on load (casework/register_files.py); a broken one fails naming the
file, the line or entry and the field. A lookup is a plain function `(registers, applicant,
data, today) -> facts`, the facts JSON-serialisable; a form names the lookups it needs
(`lookups: [resident]`) and its rules read them as `records.<lookup>.<fact>`. Addresses and
names are compared the way a register office would: letters folded
(data/language/*/street_abbreviations.yaml), case, spaces and hyphens ignored, house numbers
like "10a" and "10 A" alike.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from servicepoint.casework.register_files import (
    DogRecord,
    Election,
    ParkingZone,
    RegisterFileError,
    Resident,
    RollEntry,
    ZoneStreet,
    known_residents,
    read_csv,
    read_election,
    read_yaml,
    read_zones,
    unique,
)
from servicepoint.config import DATA_ROOT

LANGUAGE_ROOT = DATA_ROOT / "language"
Facts = dict[str, Any]
__all__ = ["DogRecord", "Election", "ParkingZone", "RegisterFileError", "Resident", "RollEntry"]


# --- folding: how a register office compares what was typed with what is registered ---------


@dataclass(frozen=True)
class Folding:
    endings: tuple[tuple[str, str], ...]
    words: tuple[tuple[str, str], ...]
    letters: tuple[tuple[str, str], ...]

    def _letters(self, text: str) -> str:
        for letter, written in self.letters:
            text = text.replace(letter, written)
        decomposed = unicodedata.normalize("NFKD", text)
        return "".join(c for c in decomposed if not unicodedata.combining(c))

    def name(self, value: object) -> str:
        """A name as a key: case, accents, spaces, hyphens and dots folded away, so
        "Müller-Lüdenscheidt" = "mueller luedenscheidt"."""
        text = unicodedata.normalize("NFKC", str(value or "")).casefold()
        return re.sub(r"[\W_]+", "", self._letters(text))

    def street(self, value: object) -> str:
        text = unicodedata.normalize("NFKC", str(value or "")).casefold()
        return self.name(" ".join(self._expand(word) for word in text.split()))

    def _expand(self, word: str) -> str:
        for short, long in self.words:
            if word == short:
                return long
        for short, long in self.endings:
            if word.endswith(short):
                return word[: -len(short)] + long
        return word


def house_key(value: object) -> str:
    """ "10 A", "10a" and "10-a" are one house number."""
    text = unicodedata.normalize("NFKC", str(value or "")).casefold()
    return re.sub(r"[\s\-/.]+", "", text)


def house_number_part(value: object) -> int | None:
    digits = re.match(r"\d+", house_key(value))
    return int(digits.group()) if digits else None


def load_folding(root: Path = LANGUAGE_ROOT) -> Folding:
    """The street and letter knowledge of every language folder, gathered."""
    endings: list[tuple[str, str]] = []
    words: list[tuple[str, str]] = []
    letters: list[tuple[str, str]] = []
    for path in sorted(root.glob("*/street_abbreviations.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        endings += [(e["short"].casefold(), e["long"].casefold()) for e in data.get("endings", [])]
        words += [(w["short"].casefold(), w["long"].casefold()) for w in data.get("words", [])]
        letters += [(k.casefold(), str(v)) for k, v in (data.get("letters") or {}).items()]
    # longer endings first, so "str." wins over "str"
    endings.sort(key=lambda pair: -len(pair[0]))
    return Folding(tuple(endings), tuple(words), tuple(letters))


@dataclass(frozen=True)
class Registers:
    residents: tuple[Resident, ...]
    zones: tuple[ParkingZone, ...]
    election: Election | None
    roll: Mapping[str, RollEntry]
    dogs: Mapping[str, tuple[DogRecord, ...]]  # by resident id
    eu: frozenset[str]
    folding: Folding
    by_person: Mapping[tuple[str, dt.date], tuple[Resident, ...]]  # (family name key, born)
    by_street: Mapping[str, tuple[tuple[ParkingZone, ZoneStreet], ...]]


def load_registers(city_dir: Path, *, language_root: Path = LANGUAGE_ROOT) -> Registers:
    """Read and check every register of a city folder; a missing file is an empty register."""
    folder = city_dir / "registers"
    residents = read_csv(folder / "residents.csv", Resident)
    unique(folder / "residents.csv", [r.id for r in residents], "id")
    ids = {r.id for r in residents}
    roll = read_csv(folder / "electoral_roll.csv", RollEntry)
    unique(folder / "electoral_roll.csv", [e.resident_id for e in roll], "resident_id")
    known_residents(folder / "electoral_roll.csv", [e.resident_id for e in roll], ids)
    dogs = read_csv(folder / "dog_tax.csv", DogRecord)
    known_residents(folder / "dog_tax.csv", [d.resident_id for d in dogs], ids)
    nationalities = read_yaml(folder / "nationalities.yaml") or {}
    return _indexed(
        residents=residents,
        zones=read_zones(folder / "parking_zones.yaml"),
        election=read_election(folder / "election.yaml"),
        roll=roll,
        dogs=dogs,
        eu=frozenset(str(c) for c in nationalities.get("eu_member_states") or []),
        folding=load_folding(language_root),
    )


def _indexed(
    *,
    residents: list[Resident],
    zones: list[ParkingZone],
    election: Election | None,
    roll: list[RollEntry],
    dogs: list[DogRecord],
    eu: frozenset[str],
    folding: Folding,
) -> Registers:
    by_person: dict[tuple[str, dt.date], list[Resident]] = {}
    for r in residents:
        by_person.setdefault((folding.name(r.family_name), r.birth_date), []).append(r)
    by_street: dict[str, list[tuple[ParkingZone, ZoneStreet]]] = {}
    for zone in zones:
        for entry in zone.streets:
            by_street.setdefault(folding.street(entry.street), []).append((zone, entry))
    by_holder: dict[str, list[DogRecord]] = {}
    for dog in dogs:
        by_holder.setdefault(dog.resident_id, []).append(dog)
    return Registers(
        residents=tuple(residents),
        zones=tuple(zones),
        election=election,
        roll={e.resident_id: e for e in roll},
        dogs={k: tuple(v) for k, v in by_holder.items()},
        eu=eu,
        folding=folding,
        by_person={k: tuple(v) for k, v in by_person.items()},
        by_street={k: tuple(v) for k, v in by_street.items()},
    )


@cache
def registers_of(city_dir: Path) -> Registers:
    """The registers of a city folder, read once per process."""
    return load_registers(city_dir)


# --- matching a person --------------------------------------------------------------------------


def _day(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or ""))
    except ValueError:
        return None


def _first_given(folding: Folding, value: object) -> str:
    words = str(value or "").split()
    return folding.name(words[0]) if words else ""


def same_address(registers: Registers, person: Resident, applicant: Mapping[str, Any]) -> bool:
    fold = registers.folding
    return (
        fold.street(applicant.get("street")) == fold.street(person.street)
        and house_key(applicant.get("house_number")) == house_key(person.house_number)
        and re.sub(r"\D", "", str(applicant.get("postcode") or "")) == person.postcode
        and fold.name(applicant.get("city")) == fold.name(person.city)
    )


def same_name(registers: Registers, person: Resident, applicant: Mapping[str, Any]) -> bool:
    """Every given name as registered, not just the first: what a document will state must be
    what the register holds (spelling, case and accents aside)."""
    fold = registers.folding
    typed = [fold.name(word) for word in str(applicant.get("given_name") or "").split()]
    return typed == [fold.name(word) for word in person.given_name.split()]


def find_resident(
    registers: Registers, applicant: Mapping[str, Any]
) -> tuple[Resident | None, bool]:
    """The registered person the applicant is (family name, first given name, birth date), and
    whether the typed address is theirs; a person at that address wins over a namesake."""
    born = _day(applicant.get("birth_date"))
    if born is None:
        return None, False
    fold = registers.folding
    given = _first_given(fold, applicant.get("given_name"))
    candidates = [
        r
        for r in registers.by_person.get((fold.name(applicant.get("family_name")), born), ())
        if given and _first_given(fold, r.given_name) == given
    ]
    for person in candidates:
        if same_address(registers, person, applicant):
            return person, True
    return (candidates[0], False) if candidates else (None, False)


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# --- the lookups ----------------------------------------------------------------------------------


def resident(
    registers: Registers, applicant: Mapping[str, Any], data: Mapping[str, Any], today: dt.date
) -> Facts:
    """Is the applicant registered, at the address given, and as what?"""
    person, address_matches = find_resident(registers, applicant)
    if person is None:
        return {
            "found": False,
            "name_matches": False,
            "address_matches": False,
            "main_residence": None,
            "residence": None,
            "age": None,
            "minor": None,
            "german": None,
            "nationality_eu": None,
            "transfer_block": False,
            "registered_since": None,
        }
    age = age_on(person.birth_date, today)
    return {
        "found": True,
        "name_matches": same_name(registers, person, applicant),
        "address_matches": address_matches,
        "main_residence": person.residence == "main",
        "residence": person.residence,
        "age": age,
        "minor": age < 18,
        "german": person.nationality == "DE",
        "nationality_eu": person.nationality in registers.eu,
        "transfer_block": person.transfer_block,
        "registered_since": person.registered_since.isoformat(),
    }


def zone_of(registers: Registers, street: object, house_number: object) -> ParkingZone | None:
    number = house_number_part(house_number)
    for zone, entry in registers.by_street.get(registers.folding.street(street), ()):
        if entry.covers(number):
            return zone
    return None


def parking_zone(
    registers: Registers, applicant: Mapping[str, Any], data: Mapping[str, Any], today: dt.date
) -> Facts:
    """The residents' parking zone of the applicant's address, if it lies in one."""
    zone = zone_of(registers, applicant.get("street"), applicant.get("house_number"))
    return {
        "zone": zone.id if zone else None,
        "zone_name": zone.name.de if zone else None,
        "zone_name_en": zone.name.en if zone else None,
    }


def _eligible(registers: Registers, person: Resident, election: Election) -> bool:
    rules = election.eligibility
    citizen = person.nationality == "DE" or (
        rules.eu_citizens and person.nationality in registers.eu
    )
    old_enough = age_on(person.birth_date, election.date) >= rules.min_age
    return citizen and old_enough and person.residence == "main"


def electoral_roll(
    registers: Registers, applicant: Mapping[str, Any], data: Mapping[str, Any], today: dt.date
) -> Facts:
    """The applicant's entry for the next election: listed, eligible, postal vote issued?"""
    election = registers.election
    person, _ = find_resident(registers, applicant)
    entry = registers.roll.get(person.id) if person else None
    facts: Facts = {
        "election_id": election.id if election else None,
        "election": election.name.de if election else None,
        "election_en": election.name.en if election else None,
        "election_date": election.date.isoformat() if election else None,
        "deadline": election.application_deadline.isoformat() if election else None,
        # no election to vote in is as closed as one past its deadline
        "deadline_passed": election is None or today > election.application_deadline,
        "listed": bool(entry and entry.listed),
        "eligible": _eligible(registers, person, election) if person and election else None,
        "already_issued": bool(entry and entry.postal_vote_issued),
        "polling_district": entry.polling_district if entry and entry.listed else None,
    }
    return facts


def dog_tax(
    registers: Registers, applicant: Mapping[str, Any], data: Mapping[str, Any], today: dt.date
) -> Facts:
    """The applicant's dogs registered for the tax today; whether `data.dog_name` is one."""
    person, _ = find_resident(registers, applicant)
    dogs = [d for d in registers.dogs.get(person.id, ()) if d.current(today)] if person else []
    names = [d.dog_name for d in dogs]
    asked = data.get("dog_name")
    fold = registers.folding.name
    named = None if not asked else fold(asked) in {fold(n) for n in names}
    return {
        "holder_found": person is not None,
        "dogs": len(dogs),
        "registered_names": names,
        "dangerous_dogs": sum(d.dangerous for d in dogs),
        "named_dog_registered": named,
    }


Lookup = Callable[[Registers, Mapping[str, Any], Mapping[str, Any], dt.date], Facts]

LOOKUPS: dict[str, Lookup] = {
    "resident": resident,
    "parking_zone": parking_zone,
    "electoral_roll": electoral_roll,
    "dog_tax": dog_tax,
}


class UnknownLookup(KeyError):
    """A form names a lookup that does not exist."""


def lookup_facts(
    registers: Registers,
    names: Iterable[str],
    applicant: Mapping[str, Any],
    data: Mapping[str, Any],
    today: dt.date,
) -> dict[str, Facts]:
    """The facts of each named lookup, by name: the rules' `records`."""
    out: dict[str, Facts] = {}
    for name in names:
        if name not in LOOKUPS:
            raise UnknownLookup(f"unknown register lookup {name!r}; known: {sorted(LOOKUPS)}")
        out[name] = LOOKUPS[name](registers, applicant, data, today)
    return out
