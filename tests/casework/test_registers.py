"""The synthetic registers and the lookups the form rules read (casework/registers.py), pure."""

from __future__ import annotations

import datetime as dt
import json
import runpy
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from servicepoint.casework.registers import (
    LOOKUPS,
    RegisterFileError,
    Registers,
    UnknownLookup,
    load_registers,
    lookup_facts,
    registers_of,
)
from tests.casework.case_support import ERIKA
from tests.conftest import DATA_DIR

TODAY = dt.date(2026, 12, 7)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def registers() -> Registers:
    return registers_of(DATA_DIR)


def person(**changes: str) -> dict[str, str]:
    return {**ERIKA, **changes}


# Fixed persons of the synthetic register (registers/README.md): given, family name, birth date.
PEOPLE = {
    "ayse": ("Ayşe", "Yılmaz", "1988-11-02"),
    "piotr": ("Piotr", "Nowak", "1979-01-15"),
    "leon": ("Leon", "Mustermann", "2012-05-20"),
    "jonas": ("Jonas", "Schmidt", "2001-07-09"),
    "lena": ("Lena", "Wagner", "1990-04-30"),
    "sven": ("Sven", "Krüger", "1983-09-23"),
    "ingrid": ("Ingrid", "Behrens", "1941-02-14"),
    "katarzyna": ("Katarzyna", "Wiśniewska", "1995-06-18"),
    "nobody": ("Niemand", "Unbekannt", "1990-01-01"),
}


def who(key: str, **address: str) -> dict[str, str]:
    given, family, born = PEOPLE[key]
    return {"given_name": given, "family_name": family, "birth_date": born, **address}


def facts(registers: Registers, name: str, applicant: dict[str, Any], **kw: Any) -> Any:
    today = kw.pop("today", TODAY)
    return lookup_facts(registers, [name], applicant, kw, today)[name]


# --- the register data ---------------------------------------------------------------------------


def test_the_registers_have_the_variety_the_rules_need(registers: Registers) -> None:
    people = registers.residents
    assert len(people) >= 220
    assert len({p.id for p in people}) == len(people)
    assert sum(p.residence == "secondary" for p in people) >= 10
    assert sum((TODAY - p.birth_date).days < 18 * 365 for p in people) >= 20
    assert sum(p.nationality not in registers.eu for p in people) >= 10
    assert sum(p.transfer_block for p in people) >= 5
    assert len(registers.eu) == 27 and "DE" in registers.eu and "TR" not in registers.eu


def test_every_data_file_says_it_is_synthetic() -> None:
    folder = DATA_DIR / "registers"
    for name in ("residents.csv", "parking_zones.yaml", "election.yaml", "electoral_roll.csv"):
        assert "SYNTHETIC" in (folder / name).read_text(encoding="utf-8").splitlines()[0]
    assert "SYNTHETIC" in (folder / "dog_tax.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "no real persons" in (folder / "README.md").read_text(encoding="utf-8").lower()


def test_the_files_are_what_the_seeded_script_writes() -> None:
    script = runpy.run_path(str(ROOT / "scripts" / "make_registers.py"))
    for name, text in script["build"]().items():
        assert (DATA_DIR / "registers" / name).read_text(encoding="utf-8") == text, name


# --- resident ------------------------------------------------------------------------------------


def test_erika_mustermann_is_found_at_her_address(registers: Registers) -> None:
    assert facts(registers, "resident", ERIKA) == {
        "found": True,
        "name_matches": True,
        "address_matches": True,
        "main_residence": True,
        "residence": "main",
        "age": 62,
        "minor": False,
        "german": True,
        "nationality_eu": True,
        "transfer_block": False,
        "registered_since": "1995-04-01",
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"street": "Lister  Meile ", "house_number": " 10"},
        {"street": "lister-meile", "given_name": "ERIKA", "family_name": "mustermann"},
        {"street": "Lister Meile", "given_name": "Erika Maria"},
        {"street": "Lister Meile", "postcode": "30 161"},
        # full-width digits are the same text after NFKC
        {"family_name": "Mustermann", "house_number": "１０"},
    ],
)
def test_the_address_matches_however_it_is_typed(
    registers: Registers, changes: dict[str, str]
) -> None:
    found = facts(registers, "resident", person(**changes))
    assert found["found"] and found["address_matches"]


@pytest.mark.parametrize(
    ("applicant", "street"),
    [
        (who("piotr", house_number="12 A", postcode="30171"), "Sallstr."),
        (who("lena", house_number="150", postcode="30163"), "Podbielski-Strasse"),
        (
            who("sven", family_name="Krueger", house_number="101", postcode="30165"),
            "Vahrenwalder Str",
        ),
        (
            who(
                "ayse", given_name="Ayse", family_name="Yilmaz", house_number="45", postcode="30451"
            ),
            "LIMMERSTRASSE",
        ),
        (who("ingrid", house_number="7", postcode="30173"), "Geibelstraße"),
    ],
)
def test_abbreviations_spellings_and_house_letters_match(
    registers: Registers, applicant: dict[str, str], street: str
) -> None:
    found = facts(registers, "resident", {**applicant, "street": street, "city": "Hannover"})
    assert found["found"] and found["address_matches"], (applicant, street)


def test_decomposed_unicode_matches_the_composed_register(registers: Registers) -> None:
    typed = who(
        "ayse", street="Limmerstrasse", house_number="45", postcode="30451", city="Hannover"
    )
    decomposed = {k: unicodedata.normalize("NFD", v) for k, v in typed.items()}
    assert decomposed != typed
    assert facts(registers, "resident", decomposed)["address_matches"]


def test_a_wrong_house_number_is_found_but_not_at_that_address(registers: Registers) -> None:
    found = facts(registers, "resident", person(house_number="12"))
    assert found["found"] is True and found["address_matches"] is False
    assert facts(registers, "resident", person(house_number="10b"))["address_matches"] is False
    assert facts(registers, "resident", person(postcode="30159"))["address_matches"] is False


def test_a_document_needs_every_given_name_and_the_town_as_registered(
    registers: Registers,
) -> None:
    extra = facts(registers, "resident", person(given_name="Erika Falsch"))
    assert extra["found"] is True and extra["name_matches"] is False
    assert facts(registers, "resident", person(city="Atlantis"))["address_matches"] is False


def test_an_unknown_person_is_not_found(registers: Registers) -> None:
    for applicant in (
        person(family_name="Musterfrau"),
        person(birth_date="1964-08-13"),
        person(given_name="Erik"),
        person(birth_date="kein Datum"),
        {},
    ):
        found = facts(registers, "resident", applicant)
        assert found["found"] is False and found["address_matches"] is False
        assert found["age"] is None and found["main_residence"] is None
        assert found["transfer_block"] is False


def test_minor_secondary_residence_nationality_and_transfer_block(registers: Registers) -> None:
    leon = facts(registers, "resident", person(given_name="Leon", birth_date="2012-05-20"))
    assert leon["minor"] is True and leon["age"] == 14
    jonas = facts(
        registers,
        "resident",
        who("jonas", street="Bödekerstraße", house_number="20", postcode="30161"),
    )
    assert jonas["main_residence"] is False and jonas["residence"] == "secondary"
    ayse = facts(registers, "resident", who("ayse"))
    assert ayse["found"] and ayse["nationality_eu"] is False and ayse["german"] is False
    ingrid = facts(registers, "resident", who("ingrid"))
    assert ingrid["transfer_block"] is True


# --- parking zone --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("street", "number", "zone"),
    [
        ("Lister Meile", "10", "BPZ-L1"),
        ("lister meile", "87a", "BPZ-L1"),
        ("Podbielskistr.", "150", "BPZ-L2"),
        ("Podbielskistraße", "200", "BPZ-L2"),
        ("Podbielskistraße", "201", None),  # the zone ends at 200
        ("Celler Straße", "80", "BPZ-L1"),
        ("Celler Straße", "81", None),
        ("Hildesheimer Str.", "5", "BPZ-S1"),
        ("Davenstedter Straße", "88", None),
        ("Nirgendwostraße", "1", None),
        ("", "", None),
    ],
)
def test_the_parking_zone_of_an_address(
    registers: Registers, street: str, number: str, zone: str | None
) -> None:
    found = facts(registers, "parking_zone", person(street=street, house_number=number))
    assert found["zone"] == zone
    assert (found["zone_name"] is None) == (zone is None)


def test_erika_lives_in_a_named_zone(registers: Registers) -> None:
    assert facts(registers, "parking_zone", ERIKA) == {
        "zone": "BPZ-L1",
        "zone_name": "List-Süd (synthetisch)",
        "zone_name_en": "List south (synthetic)",
    }


# --- electoral roll ------------------------------------------------------------------------------


def test_erika_may_vote_by_post(registers: Registers) -> None:
    assert facts(registers, "electoral_roll", ERIKA) == {
        "election_id": "testwahl-2027",
        "election": "Testwahl (synthetisch)",
        "election_en": "Test election (synthetic)",
        "election_date": "2027-09-26",
        "deadline": "2027-09-24",
        "deadline_passed": False,
        "listed": True,
        "eligible": True,
        "already_issued": False,
        "polling_district": "0108",
    }


@pytest.mark.parametrize(
    ("key", "listed", "eligible", "issued"),
    [
        ("ayse", False, False, False),  # Turkish national
        ("piotr", True, True, False),  # Polish: EU citizens vote in this election
        ("leon", False, False, False),  # 15 on election day
        ("jonas", False, False, False),  # secondary residence only
        ("lena", True, True, True),  # postal vote already issued
        ("katarzyna", False, True, False),  # registered too late for the roll
        ("nobody", False, None, False),
    ],
)
def test_electoral_eligibility(
    registers: Registers, key: str, listed: bool, eligible: bool | None, issued: bool
) -> None:
    found = facts(registers, "electoral_roll", who(key))
    assert (found["listed"], found["eligible"], found["already_issued"]) == (
        listed,
        eligible,
        issued,
    )
    assert (found["polling_district"] is not None) == listed


def test_the_deadline_passes_after_its_day(registers: Registers) -> None:
    on_the_day = facts(registers, "electoral_roll", ERIKA, today=dt.date(2027, 9, 24))
    after = facts(registers, "electoral_roll", ERIKA, today=dt.date(2027, 9, 25))
    assert on_the_day["deadline_passed"] is False and after["deadline_passed"] is True


# --- dog tax -------------------------------------------------------------------------------------


def test_dogs_registered_today(registers: Registers) -> None:
    max_ = person(given_name="Max", birth_date="1962-03-03")
    assert facts(registers, "dog_tax", max_, dog_name="bello") == {
        "holder_found": True,
        "dogs": 1,
        "registered_names": ["Bello"],
        "dangerous_dogs": 0,
        "named_dog_registered": True,
    }
    sven = who("sven")
    found = facts(registers, "dog_tax", sven, dog_name="Aika")
    assert found["dogs"] == 2 and sorted(found["registered_names"]) == ["Luna", "Rocky"]
    assert found["dangerous_dogs"] == 1
    assert found["named_dog_registered"] is False  # Aika was given up in 2023
    before = facts(registers, "dog_tax", sven, today=dt.date(2023, 1, 1))
    assert before["dogs"] == 3  # Aika still kept, Rocky already
    erika = facts(registers, "dog_tax", ERIKA)
    assert erika["dogs"] == 0 and erika["named_dog_registered"] is None


def test_all_lookups_at_once_are_json(registers: Registers) -> None:
    records = lookup_facts(registers, list(LOOKUPS), ERIKA, {"dog_name": "Bello"}, TODAY)
    assert set(records) == {"resident", "parking_zone", "electoral_roll", "dog_tax"}
    assert json.loads(json.dumps(records)) == records
    with pytest.raises(UnknownLookup, match="unknown register lookup 'melderegister'"):
        lookup_facts(registers, ["melderegister"], ERIKA, {}, TODAY)


# --- broken files --------------------------------------------------------------------------------


@pytest.fixture
def city(tmp_path: Path) -> Path:
    shutil.copytree(DATA_DIR / "registers", tmp_path / "registers")
    return tmp_path


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_broken_residents_row_names_file_line_and_field(city: Path) -> None:
    _replace(city / "registers" / "residents.csv", "1964-08-12", "1964-13-12")
    with pytest.raises(RegisterFileError) as info:
        load_registers(city)
    message = str(info.value)
    assert "residents.csv: line 3 (id 'R0001')" in message and "'birth_date'" in message


@pytest.mark.parametrize(
    ("file", "old", "new", "words"),
    [
        ("residents.csv", ",30161,Hannover,main", ",3016,Hannover,main", "'postcode'"),
        ("residents.csv", ",main,DE,1995-04-01", ",haupt,DE,1995-04-01", "'residence'"),
        ("residents.csv", "R0002,Max", "R0001,Max", "id 'R0001' appears twice"),
        ("residents.csv", "Erika,Mustermann", "Erika", "line 3: 11 cells, the header has 12"),
        ("dog_tax.csv", "R0002,HST", "R9999,HST", "resident_id 'R9999' is not in residents.csv"),
        ("electoral_roll.csv", "R0001,true", "R0001,vielleicht", "'listed'"),
        ("parking_zones.yaml", "{street: Celler Straße, from: 1, to: 80}",
         "{street: Celler Straße, from: 1}", "zone 1 (id 'BPZ-L1'), field 'streets.4'"),
        ("election.yaml", "application_deadline: 2027-09-24", "application_deadline: 2027-09-27",
         "must not be after the election"),
        ("election.yaml", "min_age: 16", "min_age: [16", "election.yaml: not valid YAML"),
    ],
)  # fmt: skip
def test_broken_files_say_where(city: Path, file: str, old: str, new: str, words: str) -> None:
    _replace(city / "registers" / file, old, new)
    with pytest.raises(RegisterFileError) as info:
        load_registers(city)
    assert file in str(info.value) and words in str(info.value), str(info.value)


def test_a_city_without_registers_finds_nobody(tmp_path: Path) -> None:
    empty = load_registers(tmp_path)
    records = lookup_facts(empty, list(LOOKUPS), ERIKA, {}, TODAY)
    assert records["resident"]["found"] is False
    assert records["parking_zone"]["zone"] is None
    assert records["electoral_roll"]["election"] is None
    assert records["electoral_roll"]["deadline_passed"] is True
    assert records["dog_tax"]["dogs"] == 0
